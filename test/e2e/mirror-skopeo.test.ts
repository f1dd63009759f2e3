/**
 * @module skopeo pulling through `mcr serve`'s pull-through cache in the
 * prefix form (`HOST/docker.io/library/app:v1`), with CNCF Distribution as
 * the upstream behind a counting proxy: a cold pull and a warm pull give
 * byte-exact images, and the warm one asks the upstream for nothing but a
 * tag check; a two-platform index comes through with `--all`.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { containerTool } from "../support/container-tool.ts";
import { sha256, writeImageLayout, writeIndexLayout, type ImageWritten, type IndexWritten } from "../support/oci-layout.ts";
import type { ServerProcess } from "../support/server-process.ts";
import { tempDir } from "../support/temp.ts";
import { hasDistribution, pushUpstream, startCountingProxy, startDistribution, startMirrorServer, type CountingProxy, type Distribution } from "../support/upstream.ts";

setDefaultTimeout(120_000);

const SKOPEO = Bun.which("skopeo");
if (!SKOPEO) console.warn("skipping test/e2e/mirror-skopeo.test.ts: skopeo is not on PATH");

function layoutTagDigest(dir: string, tag: string): string {
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8")) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
  return index.manifests.find((m) => m.annotations?.["org.opencontainers.image.ref.name"] === tag)!.digest;
}

function layoutBlob(dir: string, digest: string): Uint8Array {
  return new Uint8Array(readFileSync(join(dir, "blobs", "sha256", digest.slice("sha256:".length))));
}

describe.skipIf(!SKOPEO || !hasDistribution)("skopeo through the pull-through cache", () => {
  let dist: Distribution;
  let proxy: CountingProxy;
  let server: ServerProcess;
  let run: (args: string[]) => Promise<string>;
  let image: ImageWritten;
  let index: IndexWritten;
  let imageDir: string;
  let indexDir: string;

  beforeAll(async () => {
    dist = await startDistribution();
    proxy = startCountingProxy(dist.url);
    server = await startMirrorServer(proxy.url, "mirror-e2e-");
    const tool = containerTool("skopeo", { registryHost: server.host, server, bin: SKOPEO ?? "skopeo" });
    run = (args) => tool.run(args);
    imageDir = tempDir("oci-image-");
    indexDir = tempDir("oci-index-");
    image = writeImageLayout(imageDir, { tag: "v1", layers: 3, seed: 7 });
    index = writeIndexLayout(indexDir, { tag: "latest", seed: 8 });
    const upstreamHost = new URL(dist.url).host;
    await run(["copy", "--dest-tls-verify=false", `oci:${imageDir}:v1`, `docker://${upstreamHost}/library/app:v1`]);
    await run(["copy", "--all", "--dest-tls-verify=false", `oci:${indexDir}:latest`, `docker://${upstreamHost}/library/multi:latest`]);
  });

  afterAll(async () => {
    await server?.stop();
    await proxy?.stop();
    await dist?.stop();
  });

  const pull = (ref: string, dir: string, tag: string, extra: string[] = []) =>
    run(["copy", "--src-tls-verify=false", "--src-creds", `${server.username}:${server.password}`, ...extra, `docker://${server.host}/${ref}`, `oci:${dir}:${tag}`]);

  test("cold and warm pulls by prefix are byte-exact; the warm one fetches nothing upstream", async () => {
    proxy.requests.length = 0;
    const cold = tempDir("oci-cold-");
    await pull("docker.io/library/app:v1", cold, "v1");
    expect(layoutTagDigest(cold, "v1")).toBe(image.manifestDigest);
    for (const digest of [image.configDigest, ...image.layerDigests]) {
      expect(layoutBlob(cold, digest)).toEqual(layoutBlob(imageDir, digest));
      expect(proxy.count(`GET /v2/library/app/blobs/${digest}`)).toBe(1);
    }
    const coldRequests = proxy.requests.length;
    const warm = tempDir("oci-warm-");
    await pull("docker.io/library/app:v1", warm, "v1");
    expect(layoutTagDigest(warm, "v1")).toBe(image.manifestDigest);
    expect(sha256(layoutBlob(warm, image.manifestDigest))).toBe(image.manifestDigest);
    for (const digest of [image.configDigest, ...image.layerDigests]) expect(layoutBlob(warm, digest)).toEqual(layoutBlob(imageDir, digest));
    expect(proxy.requests.length).toBe(coldRequests);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name}\\{upstream="docker.io"\\} (\\d+)`, "m").exec(metrics)?.[1] ?? -1);
    expect(value("mcr_mirror_cache_misses_total")).toBe(5);
    expect(value("mcr_mirror_cache_hits_total")).toBeGreaterThanOrEqual(5);
    expect(value("mcr_mirror_fetched_bytes_total")).toBeGreaterThan(0);
    expect(value("mcr_mirror_stale_serves_total")).toBe(0);
  });

  test("a two-platform index pulls with --all: children cached by digest", async () => {
    const out = tempDir("oci-multi-");
    await pull("docker.io/library/multi:latest", out, "latest", ["--all"]);
    expect(layoutTagDigest(out, "latest")).toBe(index.indexDigest);
    for (const child of index.manifests) {
      for (const digest of [child.manifestDigest, child.configDigest, ...child.layerDigests]) expect(layoutBlob(out, digest)).toEqual(layoutBlob(indexDir, digest));
    }
  });

  test("a push into the mirror namespace is refused with a clear message", async () => {
    const result = await containerTool("skopeo", { registryHost: server.host, server, bin: SKOPEO ?? "skopeo" }).result([
      "copy",
      "--dest-tls-verify=false",
      "--dest-creds",
      `${server.username}:${server.password}`,
      `oci:${imageDir}:v1`,
      `docker://${server.host}/docker.io/library/mine:v1`,
    ]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("read-only mirror");
  });

  test("over real HTTP, a client leaving mid-blob leaves nothing half-written and the next pull is whole", async () => {
    const big = await pushUpstream(dist.url, dist.auth, "library/big", "1", 1, 8 * 1024 * 1024);
    const layer = big.blobDigests[1]!;
    const url = `${server.url}/v2/docker.io/library/big/blobs/${layer}`;
    proxy.chunkDelayMs = 3;
    try {
      const abort = new AbortController();
      const res = await fetch(url, { headers: { Authorization: server.authHeader }, signal: abort.signal });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      expect((await reader.read()).done).toBe(false);
      abort.abort();
      await reader.cancel().catch(() => {});
    } finally {
      proxy.chunkDelayMs = 0;
    }
    // HEAD waits for the fetch in flight, then answers from the store.
    const head = await fetch(url, { method: "HEAD", headers: { Authorization: server.authHeader } });
    expect(head.status).toBe(200);
    const whole = await fetch(url, { headers: { Authorization: server.authHeader } });
    expect(sha256(new Uint8Array(await whole.arrayBuffer()))).toBe(layer);
    expect(proxy.count(`GET /v2/library/big/blobs/${layer}`)).toBe(1);
    expect(readdirSync(join(server.dataDir, "uploads"))).toEqual([]);
  });

  test("the registries.conf mirror recipe of docs/mirror.md: docker.io pulls go through mcr", async () => {
    const tool = containerTool("skopeo", { registryHost: server.host, server, bin: SKOPEO ?? "skopeo" });
    const conf = join(tool.dir, "mirror-registries.conf");
    writeFileSync(
      conf,
      `unqualified-search-registries = []\n\n[[registry]]\nprefix = "docker.io"\nlocation = "registry-1.docker.io"\n\n[[registry.mirror]]\nlocation = "${server.host}/docker.io"\ninsecure = true\n`,
    );
    await tool.login(server.username, server.password);
    await run(["copy", "--dest-tls-verify=false", `oci:${imageDir}:v1`, `docker://${new URL(dist.url).host}/library/viaconf:v1`]);
    proxy.requests.length = 0;
    const out = tempDir("oci-viaconf-");
    // No internet here: had the mirror failed, the fallback to Docker Hub would fail the copy.
    // skopeo 1.9 reads CONTAINERS_REGISTRIES_CONF only through its (hidden) --registries-conf flag.
    await tool.run(["--registries-conf", conf, "copy", "docker://docker.io/library/viaconf:v1", `oci:${out}:v1`]);
    expect(layoutTagDigest(out, "v1")).toBe(image.manifestDigest);
    expect(proxy.count("GET /v2/library/viaconf/manifests/v1")).toBe(1);
  });
});
