/**
 * @module Three `mcr serve` processes on one data directory, clients
 * spread over them, as replicas behind a load balancer would be: one
 * upload's chunks land on different processes; a policy change made
 * through one is enforced by the others on the next request; the GC race
 * (pushes through all three, `mcr gc` from a fourth process) breaks no
 * acknowledged image; and kill -9 of one in the middle of pushes loses
 * nothing acknowledged while the other two keep serving.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { GcReport } from "../../lib/gc/report.ts";
import { sha256Digest } from "../../lib/oci/digest.ts";
import { openRegistry } from "../../lib/registry/registry.ts";
import { runCli } from "../support/cli.ts";
import { HOUR, pushBlob } from "../support/gc-fixtures.ts";
import { emptyStats, LayerLocks, layerPool, runWorker, verify, type RaceStats } from "../support/race-pusher.ts";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";
import { tempDir } from "../support/temp.ts";

// Real processes, and the whole suite may run on a loaded machine: more than the default 5 s.
setDefaultTimeout(120_000);

const REPOS = ["spread/a", "spread/b", "spread/c"];
let dataDir: string;
let servers: ServerProcess[] = [];

beforeAll(async () => {
  dataDir = tempDir("replicas-");
  // Garbage pushed three hours ago, for GC to find.
  const reg = await openRegistry(dataDir);
  reg.now = () => Date.now() - 3 * HOUR;
  for (let i = 0; i < 60; i++) await pushBlob(reg, REPOS[i % REPOS.length]!, `junk ${i}`);
  await reg.close();
  // One after another: the first start creates the admin account and the signing key.
  for (let i = 0; i < 3; i++) servers.push(await startServerProcess({ dataDir }));
});
afterAll(async () => {
  for (const s of servers) await s.stop();
});

const admin = () => ({ Authorization: servers[0]!.authHeader });

describe("three processes on one data directory", () => {
  test("one upload's chunks, status and completion each on a different process", async () => {
    const [a, b, c] = servers as [ServerProcess, ServerProcess, ServerProcess];
    const content = new Uint8Array(300_000).map((_, i) => (i * 11 + (i >> 9)) & 255);
    const digest = sha256Digest(content);
    const start = await fetch(`${a.url}/v2/spread/chunked/blobs/uploads/`, { method: "POST", headers: admin() });
    const location = start.headers.get("location")!;
    const patch = (s: ServerProcess, from: number, to: number) =>
      fetch(`${s.url}${location}`, { method: "PATCH", body: content.subarray(from, to), headers: { ...admin(), "Content-Range": `${from}-${to - 1}` } });
    expect((await patch(b, 0, 100_000)).status).toBe(202);
    expect((await patch(c, 100_000, 200_000)).status).toBe(202);
    const status = await fetch(`${a.url}${location}`, { headers: admin() });
    expect(status.headers.get("range")).toBe("0-199999");
    // A chunk sent again to another process, at the old offset, is out of order.
    expect((await patch(a, 100_000, 200_000)).status).toBe(416);
    expect((await patch(a, 200_000, 300_000)).status).toBe(202);
    expect((await fetch(`${b.url}${location}?digest=${digest}`, { method: "PUT", headers: admin() })).status).toBe(201);
    const back = await fetch(`${c.url}/v2/spread/chunked/blobs/${digest}`, { headers: admin() });
    expect(sha256Digest(new Uint8Array(await back.arrayBuffer()))).toBe(digest);
  });

  test("a policy change made through one process is enforced by the others on the next request", async () => {
    const [a, b, c] = servers as [ServerProcess, ServerProcess, ServerProcess];
    const anonymous = (s: ServerProcess) => fetch(`${s.url}/v2/pub/app/tags/list`).then((r) => r.status);
    expect(await anonymous(b)).toBe(401);
    const rule = { id: "pub-pull", effect: "allow", subjects: ["anonymous"], actions: ["pull"], repositories: ["pub/**"] };
    const added = await fetch(`${a.url}/v1/policy/rules`, { method: "POST", body: JSON.stringify(rule), headers: { ...admin(), "content-type": "application/json" } });
    expect(added.status).toBe(201);
    // Allowed now (the repository does not exist: 404, not 401), on both other processes.
    expect(await anonymous(b)).toBe(404);
    expect(await anonymous(c)).toBe(404);
    expect((await fetch(`${c.url}/v1/policy/rules/pub-pull`, { method: "DELETE", headers: admin() })).status).toBe(204);
    expect(await anonymous(a)).toBe(401);
    expect(await anonymous(b)).toBe(401);
  });

  test("GC from a fourth process while clients push through all three breaks no acknowledged image", async () => {
    const pool = layerPool(24, 7);
    for (const layer of pool) {
      const res = await fetch(`${servers[0]!.url}/v2/${REPOS[0]}/blobs/uploads/?digest=${layer.digest}`, { method: "POST", body: layer.bytes, headers: admin() });
      expect(res.status).toBe(201);
    }
    const stats = emptyStats();
    const deadline = Date.now() + 20_000;
    const gc = gcLoop(deadline);
    const urls = servers.map((s) => s.url);
    const locks = new LayerLocks();
    await Promise.all(
      Array.from({ length: 4 }, (_, id) => runWorker({ url: urls[0]!, urls, auth: servers[0]!.authHeader, id, repos: REPOS, pool, locks, stats, keep: 3 }, deadline)),
    );
    const { runs, errors, removed } = await gc;
    const final = await finalCheck(stats);
    console.log(`replicas GC race: ${summary(stats)}; ${runs} gc runs removed ${removed} blobs`);
    expect(stats.errors).toEqual([]);
    expect(errors).toEqual([]);
    expect(final.missing).toEqual([]);
    expect(runs).toBeGreaterThanOrEqual(3);
    expect(stats.pushes).toBeGreaterThanOrEqual(30);
    expect(stats.uploaded).toBeGreaterThan(0);
  });

  test("kill -9 of one process mid-push loses nothing acknowledged; the others keep serving; it starts again", async () => {
    const pool = layerPool(16, 9);
    const stats = emptyStats();
    const urls = servers.map((s) => s.url);
    const dead = new Set<string>();
    const locks = new LayerLocks();
    const deadline = Date.now() + 12_000;
    let pushesAtKill = 0;
    const killer = (async () => {
      await Bun.sleep(4000);
      const victim = servers[2]!;
      dead.add(victim.url);
      await victim.kill();
      pushesAtKill = stats.pushes;
    })();
    await Promise.all([
      killer,
      ...Array.from({ length: 4 }, (_, id) =>
        runWorker({ url: urls[0]!, urls, dead, auth: servers[0]!.authHeader, id: id + 10, repos: REPOS, pool, locks, stats, keep: 2 }, deadline),
      ),
    ]);
    console.log(`replicas kill -9: ${summary(stats)}`);
    expect(stats.errors).toEqual([]);
    // The other two went on taking pushes after the kill.
    expect(stats.pushes).toBeGreaterThan(pushesAtKill + 5);
    const final = await finalCheck(stats);
    expect(final.missing).toEqual([]);
    // The store the crash left starts, and serves what was acknowledged.
    servers[2] = await startServerProcess({ dataDir });
    for (const image of stats.acknowledged) expect(await verify({ url: servers[2].url, auth: servers[2].authHeader, stats, id: -1 }, image)).toBe(true);
  });
});

/** `mcr gc --grace 0s` again and again from another process until `deadline`. */
async function gcLoop(deadline: number): Promise<{ runs: number; removed: number; errors: string[] }> {
  let runs = 0;
  let removed = 0;
  const errors: string[] = [];
  while (Date.now() < deadline) {
    const run = await runCli(["gc", "--json", "--grace", "0s", "--data", dataDir]);
    if (run.code !== 0) {
      errors.push(`gc exited ${run.code}: ${run.stderr}`);
      continue;
    }
    runs++;
    removed += (JSON.parse(run.stdout) as GcReport).blobsRemoved;
  }
  return { runs, removed, errors };
}

/** Every acknowledged image pulls back whole through each live process, before and after a last GC with no grace. */
async function finalCheck(stats: RaceStats): Promise<GcReport> {
  const live = servers.filter((s) => s.url !== undefined);
  for (const image of stats.acknowledged) await verify({ url: live[0]!.url, auth: live[0]!.authHeader, stats, id: -1 }, image);
  const last = await runCli(["gc", "--json", "--grace", "0s", "--data", dataDir]);
  expect(last.code).toBe(0);
  for (const image of stats.acknowledged) await verify({ url: live[1]!.url, auth: live[1]!.authHeader, stats, id: -1 }, image);
  expect(stats.errors).toEqual([]);
  return JSON.parse(last.stdout) as GcReport;
}

function summary(s: RaceStats): string {
  return (
    `${s.pushes} manifest pushes, ${s.acknowledged.length} acknowledged images kept, ${s.blobUnknown} refused MANIFEST_BLOB_UNKNOWN, ` +
    `${s.errors.length} errors, ${s.interrupted} interrupted; layers reused ${s.reused}, mounted ${s.mounted}, uploaded ${s.uploaded}; ${s.verified} pulls verified`
  );
}
