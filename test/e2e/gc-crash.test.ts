/**
 * @module GC killed with SIGKILL: mid-sweep, then at random moments. After
 * each kill the kept images are whole and `mcr serve` starts and serves
 * them; the next run finishes the job: no garbage row, no claim and no
 * stray file left, nothing kept lost.
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { linkBlob } from "../../lib/db/queries/blobs.ts";
import { upsertRepository } from "../../lib/db/queries/repositories.ts";
import type { GcReport } from "../../lib/gc/report.ts";
import { sha256Digest } from "../../lib/oci/digest.ts";
import { openBlob } from "../../lib/registry/blobs.ts";
import { getManifest } from "../../lib/registry/manifests.ts";
import { openRegistry, type Registry } from "../../lib/registry/registry.ts";
import { FsLayout } from "../../lib/storage/fs-layout.ts";
import { runCli } from "../support/cli.ts";
import { HOUR, pushImage } from "../support/gc-fixtures.ts";
import { noise } from "../support/oci-layout.ts";
import { startServerProcess } from "../support/server-process.ts";
import { tempDir } from "../support/temp.ts";

const GARBAGE = 3000;
const STRAYS = 50;
const MAIN = join(import.meta.dir, "..", "..", "cli", "main.ts");

interface Kept {
  repo: string;
  tag: string;
  digest: string;
  blobs: string[];
}

/**
 * Three images to keep, GARBAGE unreferenced blobs three hours idle
 * (written straight into the store and the database, to be quick), and
 * STRAYS files with no row.
 */
async function prepare(dataDir: string): Promise<Kept[]> {
  const reg = await openRegistry(dataDir);
  const layout = new FsLayout(dataDir);
  const then = Date.now() - 3 * HOUR;
  reg.now = () => then;
  const kept: Kept[] = [];
  for (let i = 0; i < 3; i++) {
    const layers = [0, 1, 2].map((j) => new TextDecoder("latin1").decode(noise(100 * i + j + 1, 4096)));
    const image = await pushImage(reg, "keep", `v${i}`, layers);
    kept.push({ repo: "keep", tag: `v${i}`, digest: image.digest, blobs: image.blobs });
  }
  const write = (text: string) => {
    const digest = sha256Digest(text);
    mkdirSync(dirname(layout.blob(digest)), { recursive: true });
    writeFileSync(layout.blob(digest), text);
    return digest;
  };
  await reg.db.transaction().execute(async (trx) => {
    const repo = await upsertRepository(trx, "scratch", then);
    for (let i = 0; i < GARBAGE; i++) {
      const text = `garbage blob ${i} `.repeat(20);
      await linkBlob(trx, repo, write(text), text.length, then);
    }
  });
  const old = new Date(then);
  for (let i = 0; i < STRAYS; i++) {
    const digest = write(`stray file ${i}`);
    utimesSync(layout.blob(digest), old, old);
  }
  await reg.close();
  return kept;
}

/** Every kept image whole: manifest, and every blob hashing to its digest. */
async function assertKept(reg: Registry, kept: Kept[]): Promise<void> {
  for (const image of kept) {
    expect((await getManifest(reg, image.repo, image.tag)).digest).toBe(image.digest);
    for (const digest of image.blobs) {
      const { body } = await openBlob(reg, image.repo, digest);
      expect(sha256Digest(new Uint8Array(await body.arrayBuffer()))).toBe(digest);
    }
  }
}

async function countRows(reg: Registry, table: "blobs" | "gc_claims"): Promise<number> {
  return Number((await reg.db.selectFrom(table).select((eb) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow()).n);
}

/** Digests of the blob files on disk. */
function filesOnDisk(layout: FsLayout): string[] {
  return readdirSync(layout.blobsDir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => `sha256:${e.name}`)
    .sort();
}

/** Starts `mcr gc` and SIGKILLs it once `when` says so (polled every 2 ms) or it ends. */
async function killGc(dataDir: string, when: () => Promise<boolean>): Promise<number | null> {
  const proc = Bun.spawn([process.execPath, MAIN, "gc", "--data", dataDir], { stdout: "ignore", stderr: "ignore", stdin: "ignore" });
  while (proc.exitCode === null && !(await when())) await Bun.sleep(2);
  proc.kill("SIGKILL");
  await proc.exited;
  return proc.signalCode === "SIGKILL" ? null : proc.exitCode;
}

describe("GC killed with SIGKILL", () => {
  test("loses nothing, leaves a store the server starts on, and the next run cleans up", async () => {
    const dataDir = tempDir("crash-");
    const layout = new FsLayout(dataDir);
    const kept = await prepare(dataDir);
    const keptBlobs = new Set(kept.flatMap((k) => k.blobs));
    const watcher = await openRegistry(dataDir);
    const total = await countRows(watcher, "blobs");
    expect(total).toBe(keptBlobs.size + GARBAGE);

    // Once as soon as the sweep has committed its first batch: mid-sweep.
    const exit = await killGc(dataDir, async () => (await countRows(watcher, "blobs")) < total);
    expect(exit).toBeNull();
    const left = await countRows(watcher, "blobs");
    expect(left).toBeLessThan(total);
    expect(left).toBeGreaterThan(keptBlobs.size);
    const claims = await countRows(watcher, "gc_claims");
    const crashOrphans = filesOnDisk(layout).length - STRAYS - left;
    console.log(`killed mid-sweep: ${total - left} of ${GARBAGE} garbage rows gone, ${claims} claims and ${crashOrphans} files without a row left behind`);
    await assertKept(watcher, kept);

    // Then at random moments.
    for (let i = 0; i < 3; i++) {
      const delay = 50 + Math.random() * 600;
      const started = Date.now();
      await killGc(dataDir, async () => Date.now() - started > delay);
      await assertKept(watcher, kept);
    }
    await watcher.close();

    const server = await startServerProcess({ dataDir });
    try {
      for (const image of kept) {
        const res = await fetch(`${server.url}/v2/${image.repo}/manifests/${image.tag}`, {
          headers: { authorization: server.authHeader, accept: "application/vnd.oci.image.manifest.v1+json" },
        });
        expect(res.headers.get("docker-content-digest")).toBe(image.digest);
        for (const digest of image.blobs) {
          const blob = await fetch(`${server.url}/v2/${image.repo}/blobs/${digest}`, { headers: { authorization: server.authHeader } });
          expect(sha256Digest(new Uint8Array(await blob.arrayBuffer()))).toBe(digest);
        }
      }
    } finally {
      await server.stop();
    }

    const final = await runCli(["gc", "--json", "--data", dataDir]);
    expect(final.code).toBe(0);
    const report = JSON.parse(final.stdout) as GcReport;
    expect(report.missing).toEqual([]);
    const reg = await openRegistry(dataDir);
    await assertKept(reg, kept);
    expect(await countRows(reg, "gc_claims")).toBe(0);
    const rows = (await reg.db.selectFrom("blobs").select("digest").orderBy("digest").execute()).map((r) => r.digest);
    expect(rows).toEqual([...keptBlobs].sort());
    expect(filesOnDisk(layout)).toEqual(rows);
    await reg.close();
  }, 60_000);
});
