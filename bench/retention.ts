/**
 * @module `bun bench/retention.ts [repos] [tags]`: retention at scale.
 * Seeds (rows only, no blob files) `repos` repositories of `tags` tags
 * each (default 1,000 × 100 = 100,000), each tag its own manifest, pushed
 * one hour apart; applies keep_last 20 + release-*; starts `mcr serve`
 * and, while clients send manifest HEADs to it (4 loops, a request every
 * 2 ms each), times `mcr retention plan --json` and `mcr retention run`
 * in other processes. Prints the times and the HEAD latencies (p50, p99,
 * max) before, during the plan and during the run.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256Digest } from "../lib/oci/digest.ts";
import { openRegistry } from "../lib/registry/registry.ts";

const REPOS = Number(process.argv[2] ?? 1000);
const TAGS = Number(process.argv[3] ?? 100);
const KEEP = 20;
const ROOT = join(import.meta.dir, "..");
const MAIN = join(ROOT, "cli", "main.ts");
const PASSWORD = "bench-admin-password";
const AUTH = `Basic ${btoa(`admin:${PASSWORD}`)}`;
const MEDIA = "application/vnd.oci.image.manifest.v1+json";
const log = (line: string) => process.stderr.write(`${line}\n`);

const dir = mkdtempSync(join(tmpdir(), "mcr-bench-retention-"));
const seedStart = performance.now();
const reg = await openRegistry(dir);
const hour = 3_600_000;
const base = Date.now() - (TAGS + 10) * hour;
await reg.db.transaction().execute(async (trx) => {
  const blobs = ["base", "top"].map((s) => ({ digest: sha256Digest(s), size: 1000, created_at: base, last_seen_at: base }));
  await trx.insertInto("blobs").values(blobs).execute();
  for (let r = 0; r < REPOS; r++) {
    const name = `bench/r-${String(r).padStart(4, "0")}`;
    const { id } = await trx.insertInto("repositories").values({ name, created_at: base }).returning("id").executeTakeFirstOrThrow();
    await trx.insertInto("repository_blobs").values(blobs.map((b) => ({ repository_id: id, digest: b.digest, created_at: base }))).execute();
    const rows = Array.from({ length: TAGS }, (_, t) => {
      const content = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA, repo: r, tag: t }));
      return { repository_id: id, digest: sha256Digest(content), media_type: MEDIA, artifact_type: null, subject: null, content, size: content.byteLength, created_at: base + t * hour, last_seen_at: base + t * hour };
    });
    for (let i = 0; i < rows.length; i += 100) {
      const ids = await trx.insertInto("manifests").values(rows.slice(i, i + 100)).returning("id").execute();
      await trx.insertInto("manifest_blobs").values(ids.flatMap((m) => blobs.map((b) => ({ manifest_id: m.id, digest: b.digest })))).execute();
      await trx
        .insertInto("tags")
        .values(ids.map((m, j) => ({ repository_id: id, name: (i + j) % 25 === 0 ? `release-${i + j}` : `t-${String(i + j).padStart(4, "0")}`, manifest_id: m.id, updated_at: base + (i + j) * hour })))
        .execute();
    }
  }
});
await reg.close();
log(`seeded ${REPOS} repositories × ${TAGS} tags in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);

const rules = join(dir, "rules.toml");
writeFileSync(rules, `[[rule]]\nid = "ci"\nrepositories = ["bench/**"]\nkeep_last = ${KEEP}\nkeep_tags = ["release-*"]\n`);
const cli = async (args: string[]) => {
  const started = performance.now();
  const proc = Bun.spawn([process.execPath, MAIN, ...args, "--data", dir], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`mcr ${args.join(" ")}: ${code} ${err}`);
  return { out, seconds: (performance.now() - started) / 1000 };
};
await cli(["retention", "apply", "-f", rules]);

const server = Bun.spawn([process.execPath, MAIN, "serve", "--listen", "127.0.0.1:0", "--data", dir], {
  env: { ...process.env, MCR_ADMIN_PASSWORD: PASSWORD },
  stdout: "pipe",
  stderr: "ignore",
});
let url = "";
const decoder = new TextDecoder();
for await (const chunk of server.stdout) {
  const match = /mcr listening on (\S+)/.exec(decoder.decode(chunk));
  if (match) {
    url = match[1]!;
    break;
  }
}

// HEAD clients: kept tags only (the newest), so every answer is a 200.
let phase = "before";
let stop = false;
const samples = new Map<string, number[]>();
const errors: string[] = [];
const loops = Array.from({ length: 4 }, async (_, w) => {
  for (let n = 0; !stop; n++) {
    const repo = `bench/r-${String((n * 7 + w * 13) % REPOS).padStart(4, "0")}`;
    const tag = `t-${String(TAGS - 1 - (n % 5)).padStart(4, "0")}`;
    const started = performance.now();
    const res = await fetch(`${url}/v2/${repo}/manifests/${tag}`, { method: "HEAD", headers: { authorization: AUTH, accept: MEDIA } });
    const ms = performance.now() - started;
    if (res.status !== 200 && errors.length < 5) errors.push(`${repo}:${tag} ${res.status}`);
    const list = samples.get(phase) ?? [];
    list.push(ms);
    samples.set(phase, list);
    await Bun.sleep(2);
  }
});
await Bun.sleep(3000);
phase = "plan";
const plan = await cli(["retention", "plan", "--json"]);
const totals = (JSON.parse(plan.out) as { totals: Record<string, number> }).totals;
phase = "run";
const run = await cli(["retention", "run", "--json"]);
const report = JSON.parse(run.out) as { tagsRemoved: number; manifestsRemoved: number; keptOnRecheck: number };
phase = "after";
await Bun.sleep(1000);
stop = true;
await Promise.all(loops);
server.kill("SIGTERM");
await server.exited;
rmSync(dir, { recursive: true, force: true });

const pct = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
};
console.log(`| ${REPOS} repositories × ${TAGS} tags | seconds | removed |`);
console.log("| --- | --- | --- |");
console.log(`| \`mcr retention plan --json\` | ${plan.seconds.toFixed(2)} | would remove ${totals.tagsRemoved} tags, ${totals.manifestsRemoved} manifests; keep ${totals.tagsKept} |`);
console.log(`| \`mcr retention run\` | ${run.seconds.toFixed(2)} | ${report.tagsRemoved} tags, ${report.manifestsRemoved} manifests (${report.keptOnRecheck} kept on re-check) |`);
console.log("");
console.log("| manifest HEAD while… | requests | p50 ms | p99 ms | max ms |");
console.log("| --- | --- | --- | --- | --- |");
for (const [name, xs] of samples) console.log(`| ${name} | ${xs.length} | ${pct(xs, 50).toFixed(2)} | ${pct(xs, 99).toFixed(2)} | ${Math.max(...xs).toFixed(2)} |`);
if (errors.length > 0) console.log(`\nerrors: ${errors.join(", ")}`);
