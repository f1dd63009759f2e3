/**
 * @module `bun bench/busy-wait.ts`: how promptly `mcr serve` answers while
 * other processes use its database. bun:sqlite is synchronous, so a
 * statement that waits for another process's write lock can stall the
 * whole server, not just its own request. This starts `mcr serve` on a
 * temp data directory holding a pulled image, thousands of garbage blobs
 * and untagged manifests for GC to remove, and a large audit log for the
 * backup to copy; keeps it busy with anonymous HEAD blob requests (and a
 * stream of manifest pulls, which write audit events, as real pulls do);
 * runs `mcr gc`, `mcr backup`, and both at once from other processes; and
 * prints HEAD latency (p50, p99, max, how many took over 100 ms) in each
 * window, with the quiet windows between them as the baseline.
 *
 *   bun bench/busy-wait.ts [--garbage N] [--audit N] [--quiet S] [--keep]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { openRegistry, type Registry } from "../lib/registry/registry.ts";
import { FsLayout } from "../lib/storage/fs-layout.ts";
import { ACCEPT_MANIFESTS, digestOf, makeImage, MANIFEST_TYPE, pushImage } from "./lib/client.ts";
import { startMcr } from "./lib/targets.ts";

const ROOT = join(import.meta.dir, "..");
const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? fallback : Number(process.argv[at + 1]);
};
const GARBAGE = arg("garbage", 20_000);
const AUDIT_ROWS = arg("audit", 300_000);
const QUIET_MS = arg("quiet", 4) * 1000;
const HEAD_WORKERS = 4;
const log = (line: string) => console.error(`busy-wait: ${line}`);

const dir = mkdtempSync(join(tmpdir(), "mcr-busy-"));
const dataDir = join(dir, "data");
const target = await startMcr("mcr-src", [process.execPath, join(ROOT, "cli", "main.ts")], dir);
const ep = target.endpoint("anon");
const repo = "bench/busy";
const image = makeImage("busy-wait", 3, 16 * 1024);
await pushImage(ep, repo, "latest", image);

/** Rows (and files) for GC to remove: blobs of untagged manifests, idle for two hours. */
async function seedGarbage(reg: Registry, round: number): Promise<void> {
  const layout = new FsLayout(dataDir);
  const old = Date.now() - 2 * 3600_000;
  const blobs = Array.from({ length: GARBAGE }, (_, i) => {
    const bytes = new TextEncoder().encode(`garbage ${round} ${i}`);
    return { bytes, digest: digestOf(bytes) };
  });
  for (const blob of blobs) {
    mkdirSync(dirname(layout.blob(blob.digest)), { recursive: true });
    writeFileSync(layout.blob(blob.digest), blob.bytes);
  }
  await reg.db.transaction().execute(async (trx) => {
    const name = `bench/garbage-${round}`;
    const { id } = await trx.insertInto("repositories").values({ name, created_at: old }).returning("id").executeTakeFirstOrThrow();
    for (let i = 0; i < blobs.length; i += 500) {
      const part = blobs.slice(i, i + 500);
      await trx.insertInto("blobs").values(part.map((b) => ({ digest: b.digest, size: b.bytes.byteLength, created_at: old, last_seen_at: old }))).execute();
      await trx.insertInto("repository_blobs").values(part.map((b) => ({ repository_id: id, digest: b.digest, created_at: old }))).execute();
    }
    // One untagged manifest per ten blobs.
    for (let i = 0; i < blobs.length; i += 10) {
      const layers = blobs.slice(i, i + 10);
      const content = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST_TYPE, round, layers: layers.map((b) => b.digest) }));
      const row = await trx
        .insertInto("manifests")
        .values({ repository_id: id, digest: digestOf(content), media_type: MANIFEST_TYPE, artifact_type: null, subject: null, content, size: content.byteLength, created_at: old, last_seen_at: old })
        .returning("id")
        .executeTakeFirstOrThrow();
      await trx.insertInto("manifest_blobs").values(layers.map((b) => ({ manifest_id: row.id, digest: b.digest }))).execute();
    }
  });
}

/** An audit log of `AUDIT_ROWS` pulls, so the database is big enough for VACUUM INTO to take a while. */
async function seedAudit(reg: Registry): Promise<void> {
  const now = Date.now();
  for (let i = 0; i < AUDIT_ROWS; i += 5000) {
    await reg.db.transaction().execute(async (trx) => {
      for (let j = i; j < Math.min(i + 5000, AUDIT_ROWS); j += 500) {
        const rows = Array.from({ length: Math.min(500, AUDIT_ROWS - j) }, (_, k) => ({
          time: now - (AUDIT_ROWS - j - k) * 1000,
          event: "manifest.pulled",
          actor: "anonymous",
          outcome: "success",
          source: "127.0.0.1",
          repository: repo,
          digest: digestOf(`${j + k}`),
          tag: "latest",
          detail: null,
          noise: 1,
        }));
        await trx.insertInto("audit_events").values(rows).execute();
      }
    });
  }
}

log(`seeding ${GARBAGE} garbage blobs and ${AUDIT_ROWS} audit events in ${dir}`);
const seeder = await openRegistry(dataDir);
await seedAudit(seeder);
await seedGarbage(seeder, 1);

// The load: HEAD blob in a closed loop, and manifest pulls beside it.
type Sample = { window: string; kind: "HEAD blob" | "GET manifest"; ms: number; status: number };
const samples: Sample[] = [];
let window = "quiet";
/** Milliseconds under load spent in each window, for the request rate. */
const loadedMs: Record<string, number> = {};
let windowStarted = performance.now();
const enter = (label: string) => {
  const now = performance.now();
  if (loading) loadedMs[window] = (loadedMs[window] ?? 0) + (now - windowStarted);
  window = label;
  windowStarted = now;
};
let loading = true;
const blobUrls = image.blobs.map((b) => `${ep.url}/v2/${repo}/blobs/${b.digest}`);
async function loop(kind: Sample["kind"], worker: number): Promise<void> {
  for (let i = worker; loading; i++) {
    const label = window;
    const started = performance.now();
    let status = 0;
    try {
      const res =
        kind === "HEAD blob"
          ? await fetch(blobUrls[i % blobUrls.length]!, { method: "HEAD" })
          : await fetch(`${ep.url}/v2/${repo}/manifests/latest`, { headers: { Accept: ACCEPT_MANIFESTS } });
      await res.arrayBuffer();
      status = res.status;
    } catch {
      status = -1;
    }
    samples.push({ window: label, kind, ms: performance.now() - started, status });
  }
}
let loops: Promise<void>[] = [];
const startLoad = () => {
  loading = true;
  windowStarted = performance.now();
  loops = [...Array.from({ length: HEAD_WORKERS }, (_, w) => loop("HEAD blob", w)), loop("GET manifest", 0)];
};
const stopLoad = async () => {
  enter(window);
  loading = false;
  await Promise.all(loops);
};

/** Runs `mcr ARGS` against the data directory; resolves with its wall time in ms. */
async function mcr(args: string[]): Promise<number> {
  const started = performance.now();
  const proc = Bun.spawn([process.execPath, join(ROOT, "cli", "main.ts"), ...args, "--data", dataDir], { cwd: ROOT, stdout: "ignore", stderr: "pipe" });
  const code = await proc.exited;
  if (code !== 0) log(`mcr ${args.join(" ")} exited ${code}: ${(await new Response(proc.stderr).text()).trim().split("\n").slice(-3).join(" | ")}`);
  return performance.now() - started;
}

const durations: Record<string, number> = {};
async function during(label: string, work: () => Promise<unknown>): Promise<void> {
  enter(label);
  const started = performance.now();
  await work();
  durations[label] = performance.now() - started;
  enter("quiet");
  await Bun.sleep(QUIET_MS);
}

const gc = () => mcr(["gc", "--untagged", "--grace", "0s", "--json"]);
const backup = (n: number) => mcr(["backup", join(dir, `backup-${n}`), "--json"]);

startLoad();
await Bun.sleep(1000);
samples.length = 0; // warm-up
enter("quiet");
loadedMs.quiet = 0;
await Bun.sleep(QUIET_MS);
log("mcr gc");
await during("mcr gc", gc);
log("mcr backup");
await during("mcr backup", () => backup(1));
await stopLoad();
await seedGarbage(seeder, 2);
await seeder.close();
startLoad();
await Bun.sleep(QUIET_MS);
log("mcr gc and mcr backup together");
await during("gc + backup", () => Promise.all([gc(), backup(2)]));
await stopLoad();

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));
console.log(`| window | took (ms) | HEAD/s | HEAD p50 (ms) | HEAD p99 (ms) | HEAD max (ms) | HEAD over 100 ms | manifest max (ms) | non-2xx |`);
console.log(`| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`);
for (const label of ["quiet", "mcr gc", "mcr backup", "gc + backup"]) {
  const head = samples.filter((s) => s.window === label && s.kind === "HEAD blob").map((s) => s.ms).sort((a, b) => a - b);
  const manifest = samples.filter((s) => s.window === label && s.kind === "GET manifest").map((s) => s.ms).sort((a, b) => a - b);
  const errors = samples.filter((s) => s.window === label && (s.status < 200 || s.status >= 300)).length;
  const took = durations[label] === undefined ? "" : fmt(durations[label]!);
  const rate = head.length / ((loadedMs[label] ?? NaN) / 1000);
  console.log(`| ${label} | ${took} | ${rate.toFixed(0)} | ${fmt(quantile(head, 0.5))} | ${fmt(quantile(head, 0.99))} | ${fmt(head[head.length - 1] ?? NaN)} | ${head.filter((ms) => ms > 100).length} | ${fmt(manifest[manifest.length - 1] ?? NaN)} | ${errors} |`);
}
await target.stop();
if (process.argv.includes("--keep")) log(`kept ${dir}`);
else rmSync(dir, { recursive: true, force: true });
