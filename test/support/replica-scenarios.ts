/**
 * @module The replica scenarios, run once per topology by three small test
 * files: three `mcr serve` processes, clients spread over them as a load
 * balancer would: one upload's chunks land on different processes; a policy
 * change made through one is enforced by the others on the next request;
 * the GC race (pushes through all three, `mcr gc` from a fourth process)
 * breaks no acknowledged image; and kill -9 of one in the middle of pushes
 * loses nothing acknowledged while the other two keep serving. A topology
 * says where each replica keeps its data and what configuration (database,
 * bucket) every process, the fourth included, shares.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { GcReport } from "../../lib/gc/report.ts";
import { sha256Digest } from "../../lib/oci/digest.ts";
import { openRegistry, type RegistryOptions } from "../../lib/registry/registry.ts";
import { runCli } from "./cli.ts";
import { HOUR, pushBlob } from "./gc-fixtures.ts";
import { emptyStats, LayerLocks, layerPool, runWorker, verify, type RaceStats } from "./race-pusher.ts";
import { startServerProcess, type ServerProcess } from "./server-process.ts";

/** Where three replicas and a fourth (GC) process keep their state, and the configuration they share. */
export interface Topology {
  /** The data directory of replica `i` (0-2), or of the GC process (3). */
  dataDir(i: number): string;
  /** Environment every process gets (MCR_DATABASE, MCR_S3_*), and the same as registry options for seeding. */
  env: Record<string, string>;
  registry: RegistryOptions;
}

const REPOS = ["spread/a", "spread/b", "spread/c"];

/** Registers the four scenarios for `name`, over the topology `setup` returns (called in beforeAll). */
export function replicaScenarios(name: string, skip: boolean, setup: () => Promise<Topology>): void {
  // Real processes, and the whole suite may run on a loaded machine: more than the default 5 s.
  setDefaultTimeout(120_000);
  let topology: Topology;
  const servers: ServerProcess[] = [];
  const start = (i: number) => startServerProcess({ dataDir: topology.dataDir(i), env: topology.env });
  const gc = () => runCli(["gc", "--json", "--grace", "0s", "--data", topology.dataDir(3)], { env: topology.env });
  const admin = () => ({ Authorization: servers[0]!.authHeader });

  describe.skipIf(skip)(name, () => {
    beforeAll(async () => {
      topology = await setup();
      // Garbage pushed three hours ago, for GC to find.
      const reg = await openRegistry(topology.dataDir(0), topology.registry);
      reg.now = () => Date.now() - 3 * HOUR;
      for (let i = 0; i < 60; i++) await pushBlob(reg, REPOS[i % REPOS.length]!, `junk ${i}`);
      await reg.close();
      // One after another: the first start creates the admin account (and the signing key, unless the topology shares a key file).
      for (let i = 0; i < 3; i++) servers.push(await start(i));
    }, 180_000);
    afterAll(async () => {
      for (const s of servers) await s.stop();
    });

    test("one upload's chunks, status and completion each on a different process", async () => {
      const [a, b, c] = servers as [ServerProcess, ServerProcess, ServerProcess];
      const content = new Uint8Array(300_000).map((_, i) => (i * 11 + (i >> 9)) & 255);
      const digest = sha256Digest(content);
      const started = await fetch(`${a.url}/v2/spread/chunked/blobs/uploads/`, { method: "POST", headers: admin() });
      const location = started.headers.get("location")!;
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

    test("a token one process issued is accepted by the others, as behind a load balancer (one host name)", async () => {
      const [a, b, c] = servers as [ServerProcess, ServerProcess, ServerProcess];
      const issued = await fetch(`${a.url}/v2/token?service=${a.host}&scope=repository:spread/chunked:pull`, { headers: admin() });
      const { token } = (await issued.json()) as { token: string };
      // The load balancer's one name: every replica sees the same Host, the token's audience.
      for (const s of [b, c]) {
        const res = await fetch(`${s.url}/v2/spread/chunked/tags/list`, { headers: { Authorization: `Bearer ${token}`, Host: a.host } });
        // Authenticated: the empty repository's answer, whichever it is, not 401.
        expect([200, 404]).toContain(res.status);
      }
      const forged = await fetch(`${b.url}/v2/spread/chunked/tags/list`, { headers: { Authorization: `Bearer ${token.slice(0, -4)}AAAA`, Host: a.host } });
      expect(forged.status).toBe(401);
    });

    test("GC from a fourth process while clients push through all three breaks no acknowledged image", async () => {
      const pool = layerPool(24, 7);
      for (const layer of pool) {
        const res = await fetch(`${servers[0]!.url}/v2/${REPOS[0]}/blobs/uploads/?digest=${layer.digest}`, { method: "POST", body: layer.bytes, headers: admin() });
        expect(res.status).toBe(201);
      }
      const stats = emptyStats();
      const deadline = Date.now() + 15_000;
      const looping = gcLoop(gc, deadline);
      const urls = servers.map((s) => s.url);
      const locks = new LayerLocks();
      await Promise.all(
        Array.from({ length: 4 }, (_, id) => runWorker({ url: urls[0]!, urls, auth: servers[0]!.authHeader, id, repos: REPOS, pool, locks, stats, keep: 3 }, deadline)),
      );
      const { runs, errors, removed } = await looping;
      await finalCheck(servers, gc, stats);
      console.log(`${name} GC race: ${summary(stats)}; ${runs} gc runs removed ${removed} blobs`);
      expect(stats.errors).toEqual([]);
      expect(errors).toEqual([]);
      expect(runs).toBeGreaterThanOrEqual(3);
      // The first runs found the three-hour-old junk.
      expect(removed).toBeGreaterThanOrEqual(60);
      expect(stats.pushes).toBeGreaterThanOrEqual(30);
      expect(stats.uploaded).toBeGreaterThan(0);
    });

    test("kill -9 of one process mid-push loses nothing acknowledged; the others keep serving; it starts again", async () => {
      const pool = layerPool(16, 9);
      const stats = emptyStats();
      const urls = servers.map((s) => s.url);
      const dead = new Set<string>();
      const locks = new LayerLocks();
      const deadline = Date.now() + 10_000;
      let pushesAtKill = 0;
      const killer = (async () => {
        await Bun.sleep(3500);
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
      console.log(`${name} kill -9: ${summary(stats)}`);
      expect(stats.errors).toEqual([]);
      // The other two went on taking pushes after the kill.
      expect(stats.pushes).toBeGreaterThan(pushesAtKill + 5);
      await finalCheck(servers.slice(0, 2), gc, stats);
      // The store the crash left starts, and serves what was acknowledged.
      servers[2] = await start(2);
      for (const image of stats.acknowledged) expect(await verify({ url: servers[2].url, auth: servers[2].authHeader, stats, id: -1 }, image)).toBe(true);
    });
  });
}

/** `mcr gc --grace 0s` again and again from another process until `deadline`. */
async function gcLoop(gc: () => ReturnType<typeof runCli>, deadline: number): Promise<{ runs: number; removed: number; errors: string[] }> {
  let runs = 0;
  let removed = 0;
  const errors: string[] = [];
  while (Date.now() < deadline) {
    const run = await gc();
    if (run.code !== 0) {
      errors.push(`gc exited ${run.code}: ${run.stderr}`);
      continue;
    }
    runs++;
    removed += (JSON.parse(run.stdout) as GcReport).blobsRemoved;
  }
  return { runs, removed, errors };
}

/** Every acknowledged image pulls back whole through one live process, and through another after a last GC with no grace. */
async function finalCheck(live: ServerProcess[], gc: () => ReturnType<typeof runCli>, stats: RaceStats): Promise<void> {
  for (const image of stats.acknowledged) await verify({ url: live[0]!.url, auth: live[0]!.authHeader, stats, id: -1 }, image);
  const last = await gc();
  expect(last.code).toBe(0);
  for (const image of stats.acknowledged) await verify({ url: live[1]!.url, auth: live[1]!.authHeader, stats, id: -1 }, image);
  expect(stats.errors).toEqual([]);
}

function summary(s: RaceStats): string {
  return (
    `${s.pushes} manifest pushes, ${s.acknowledged.length} acknowledged images kept, ${s.blobUnknown} refused MANIFEST_BLOB_UNKNOWN, ` +
    `${s.errors.length} errors, ${s.interrupted} interrupted; layers reused ${s.reused}, mounted ${s.mounted}, uploaded ${s.uploaded}; ${s.verified} pulls verified`
  );
}
