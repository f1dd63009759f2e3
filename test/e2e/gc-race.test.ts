/**
 * @module THE RACE TEST: clients push images that reuse existing layers
 * (HEAD says present → skip the upload → push the manifest) against a real
 * `mcr serve`, while `mcr gc` runs again and again in other processes.
 *
 * Two registries side by side for the same 30 s:
 * - no grace (`--grace 0s`): references are all that protect, so a push
 *   may be refused with MANIFEST_BLOB_UNKNOWN, but none may fail any other
 *   way and none may be acknowledged over a blob GC removed;
 * - the grace period honoured (default 1 h): old garbage, and pool layers
 *   the test keeps making look three hours idle, are collected while
 *   clients reuse them; not one push may fail.
 * Afterwards every acknowledged image pulls back whole, every blob hashing
 * to its digest, and a last GC finds no row without its file.
 */
import { describe, expect, test } from "bun:test";
import { openRegistry } from "../../lib/registry/registry.ts";
import type { GcReport } from "../../lib/gc/report.ts";
import { runCli } from "../support/cli.ts";
import { HOUR, pushBlob } from "../support/gc-fixtures.ts";
import { emptyStats, LayerLocks, layerPool, runWorker, verify, type RaceStats } from "../support/race-pusher.ts";
import { startServerProcess } from "../support/server-process.ts";
import { tempDir } from "../support/temp.ts";

const PUSH_MS = 30_000;
const WORKERS = 4;
const REPOS = ["race/a", "race/b", "race/c"];

interface Outcome {
  stats: RaceStats;
  gcRuns: number;
  gcRemoved: number;
  gcErrors: string[];
  final: GcReport;
}

/** A data dir holding junk pushed three hours ago that nothing references: garbage from the first GC on. */
async function seed(): Promise<string> {
  const dataDir = tempDir("race-");
  const reg = await openRegistry(dataDir);
  reg.now = () => Date.now() - 3 * HOUR;
  for (let i = 0; i < 150; i++) await pushBlob(reg, REPOS[i % REPOS.length]!, `junk ${i}`);
  await reg.close();
  return dataDir;
}

async function scenario(grace: "0s" | null): Promise<Outcome> {
  const pool = layerPool(24, grace === null ? 2 : 1);
  const dataDir = await seed();
  const server = await startServerProcess({ dataDir });
  const stats = emptyStats();
  const locks = new LayerLocks();
  const deadline = Date.now() + PUSH_MS;
  // The pool goes in through the API, then is made to look three hours idle (see `age`).
  const admin = { url: server.url, auth: server.authHeader, stats, id: -1 };
  for (const layer of pool) {
    const res = await fetch(`${server.url}/v2/${REPOS[0]}/blobs/uploads/?digest=${layer.digest}`, {
      method: "POST",
      body: layer.bytes,
      headers: { authorization: server.authHeader },
    });
    if (res.status !== 201) throw new Error(`seeding the pool: ${res.status}`);
  }
  const reg = await openRegistry(dataDir);
  const age = async (digest: string) => {
    if (!locks.tryAge(digest)) return;
    try {
      await reg.db.updateTable("blobs").set({ last_seen_at: Date.now() - 3 * HOUR }).where("digest", "=", digest).execute();
    } finally {
      locks.doneAging(digest);
    }
  };
  for (const layer of pool) await age(layer.digest);

  const gcErrors: string[] = [];
  let gcRuns = 0;
  let gcRemoved = 0;
  const gcArgs = ["gc", "--json", "--data", dataDir, ...(grace === null ? [] : ["--grace", grace])];
  const gcLoop = (async () => {
    while (Date.now() < deadline) {
      const run = await runCli(gcArgs);
      if (run.code !== 0) {
        gcErrors.push(`gc exited ${run.code}: ${run.stderr}`);
        continue;
      }
      gcRuns++;
      gcRemoved += (JSON.parse(run.stdout) as GcReport).blobsRemoved;
    }
  })();
  // With the grace period honoured, GC only collects what looks idle: keep making pool layers look so.
  const ager = (async () => {
    if (grace !== null) return;
    while (Date.now() < deadline) {
      for (const layer of pool.filter(() => Math.random() < 0.25)) await age(layer.digest);
      await Bun.sleep(150);
    }
  })();
  const workers = Array.from({ length: WORKERS }, (_, id) =>
    runWorker({ url: server.url, auth: server.authHeader, id, repos: REPOS, pool, locks, stats, keep: 3 }, deadline),
  );
  await Promise.all([...workers, gcLoop, ager]);
  await reg.close();

  for (const image of stats.acknowledged) await verify(admin, image);
  const last = await runCli(["gc", "--json", "--grace", "0s", "--data", dataDir]);
  const final = JSON.parse(last.stdout) as GcReport;
  if (last.code !== 0) gcErrors.push(`final gc exited ${last.code}: ${last.stderr}`);
  // Referenced content survives even a GC with no grace at all.
  for (const image of stats.acknowledged) await verify(admin, image);
  await server.stop();
  return { stats, gcRuns, gcRemoved, gcErrors, final };
}

function summary(name: string, o: Outcome): string {
  const s = o.stats;
  return (
    `${name}: ${s.pushes} manifest pushes, ${s.pushes - s.blobUnknown} acknowledged, ${s.blobUnknown} refused MANIFEST_BLOB_UNKNOWN, ` +
    `${s.errors.length} errors; layers reused ${s.reused}, mounted ${s.mounted}, uploaded ${s.uploaded}; ${s.deleted} images deleted; ` +
    `${s.verified} pulls verified; ${o.gcRuns} gc runs removed ${o.gcRemoved} blobs`
  );
}

describe("GC racing pushes", () => {
  test(
    "nothing acknowledged is ever lost; with the grace period honoured no push fails",
    async () => {
      const [bare, graced] = await Promise.all([scenario("0s"), scenario(null)]);
      console.log(summary("--grace 0s", bare));
      console.log(summary("--grace 1h", graced));
      for (const o of [bare, graced]) {
        expect(o.stats.errors).toEqual([]);
        expect(o.gcErrors).toEqual([]);
        expect(o.final.missing).toEqual([]);
        // The race really ran (about 20 GC runs and 250 pushes each on two cores; less on a busy machine).
        expect(o.gcRuns).toBeGreaterThanOrEqual(5);
        expect(o.stats.pushes).toBeGreaterThanOrEqual(50);
        expect(o.stats.reused).toBeGreaterThanOrEqual(50);
        expect(o.gcRemoved).toBeGreaterThan(0);
      }
      expect(graced.stats.blobUnknown).toBe(0);
    },
    { timeout: 120_000 },
  );
});
