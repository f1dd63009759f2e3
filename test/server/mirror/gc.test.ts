/**
 * @module Cached content is ordinary content for GC: a cached manifest
 * references its blobs once they are cached (until then the references
 * wait in mirror_pending), so GC keeps what a cached tag needs and
 * collects what nothing references, like anywhere else.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { findLinkedBlob } from "../../../lib/db/queries/blobs.ts";
import { runGc } from "../../../lib/gc/run.ts";
import { getRepositoryDetail, listAllRepositories } from "../../../lib/registry/repositories.ts";
import { cliOk } from "../../support/cli.ts";
import { pushImage } from "../../support/blobs.ts";
import { testApp, type TestApp } from "../../support/app.ts";
import { PULL_ACCEPT, pullThrough } from "../../support/mirror-pull.ts";
import { hasDistribution, pushUpstream, startCountingProxy, startDistribution, upstreamConfig, type CountingProxy, type Distribution } from "../../support/upstream.ts";

describe.skipIf(!hasDistribution)("mirror and GC", () => {
  let dist: Distribution;
  let proxy: CountingProxy;
  let t: TestApp;
  let now = Date.now();

  beforeAll(async () => {
    dist = await startDistribution();
    proxy = startCountingProxy(dist.url);
    t = await testApp({ upstreams: [upstreamConfig(proxy.url, { tagTtlMs: 1000 })] });
    t.reg.now = () => now;
  });
  afterAll(async () => {
    await t?.close();
    await proxy?.stop();
    await dist?.stop();
  });

  async function references(digest: string): Promise<{ blobs: number; pending: number }> {
    const manifest = await t.reg.db.selectFrom("manifests").select("id").where("digest", "=", digest).executeTakeFirstOrThrow();
    const blobs = await t.reg.db.selectFrom("manifest_blobs").select("digest").where("manifest_id", "=", manifest.id).execute();
    const pending = await t.reg.db.selectFrom("mirror_pending").select("digest").where("manifest_id", "=", manifest.id).execute();
    return { blobs: blobs.length, pending: pending.length };
  }

  test("a manifest's references wait until its blobs are cached, then are ordinary references", async () => {
    const image = await pushUpstream(dist.url, dist.auth, "library/refs", "1");
    const res = await t.request("GET", "/v2/docker.io/library/refs/manifests/1", { headers: { accept: PULL_ACCEPT } });
    expect(res.status).toBe(200);
    expect(await references(image.manifestDigest)).toEqual({ blobs: 0, pending: 3 });
    await t.request("GET", `/v2/docker.io/library/refs/blobs/${image.blobDigests[1]}`).then((r) => r.arrayBuffer());
    expect(await references(image.manifestDigest)).toEqual({ blobs: 1, pending: 2 });
    await pullThrough(t, "docker.io/library/refs", "1");
    expect(await references(image.manifestDigest)).toEqual({ blobs: 3, pending: 0 });
  });

  test("GC keeps what a cached tag needs, even with the upstream down, and collects an unreferenced cached blob", async () => {
    const image = await pushUpstream(dist.url, dist.auth, "library/kept", "1");
    const other = await pushUpstream(dist.url, dist.auth, "library/kept", "2");
    await pullThrough(t, "docker.io/library/kept", "1");
    // A blob fetched on its own: referenced by nothing cached.
    const loose = other.blobDigests[1]!;
    const fetched = await t.request("GET", `/v2/docker.io/library/kept/blobs/${loose}`);
    expect(fetched.status).toBe(200);
    // Its body ends only once the blob is stored.
    await fetched.arrayBuffer();
    now += 10 * 60_000;
    const report = await runGc(t.reg, { actor: "test", graceMs: 0, untagged: true });
    expect(report).toBeDefined();
    expect(await findLinkedBlob(t.reg.db, "docker.io/library/kept", loose)).toBeUndefined();
    proxy.mode = "down";
    try {
      const pulled = await pullThrough(t, "docker.io/library/kept", "1");
      expect(pulled.digest).toBe(image.manifestDigest);
      expect(pulled.cache).toBe("stale");
    } finally {
      proxy.mode = "pass";
    }
  });

  test("cached repositories are listed as mirrors (lib, /v1 and mcr repo list)", async () => {
    await pushImage(t, "local/app", "1");
    const { repositories } = await listAllRepositories(t.reg);
    const byName = Object.fromEntries(repositories.map((r) => [r.name, r.mirrorOf]));
    expect(byName["docker.io/library/kept"]).toBe("docker.io");
    expect(byName["local/app"]).toBeNull();
    expect((await getRepositoryDetail(t.reg, "docker.io/library/kept")).mirrorOf).toBe("docker.io");
    const listed = (await (await t.request("GET", "/v1/repositories")).json()) as { repositories: { name: string; mirrorOf: string | null }[] };
    expect(listed.repositories.find((r) => r.name === "docker.io/library/kept")?.mirrorOf).toBe("docker.io");
    await t.reg.audit.flush();
    const out = await cliOk(["repo", "list", "--data", t.dataDir]);
    expect(out).toContain("docker.io/library/kept (mirror of docker.io)");
    expect(out).toMatch(/^local\/app\s/m);
  });
});
