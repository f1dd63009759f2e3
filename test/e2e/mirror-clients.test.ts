/**
 * @module podman and containerd's ctr pulling through `mcr serve`'s
 * pull-through cache, CNCF Distribution upstream behind a counting proxy.
 * podman uses the prefix form (`HOST/docker.io/library/app:v1`), each pull
 * into its own empty storage; containerd (a private daemon per pull, so
 * each starts from an empty content store, driven by `ctr content fetch`)
 * uses a `hosts.toml` naming mcr as the mirror of docker.io, so it sends
 * `?ns=docker.io` (seen by a second counting proxy in front of mcr). Cold pulls fetch each part once,
 * warm pulls within `tag_ttl` send the upstream nothing; manifests, the
 * index and blobs are byte-exact.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { canRunContainerd, startContainerd } from "../support/containerd.ts";
import { containerTool, lastLine, requireTool, type ContainerTool } from "../support/container-tool.ts";
import { writeImageLayout, writeIndexLayout, type ImageWritten, type IndexWritten } from "../support/oci-layout.ts";
import type { ServerProcess } from "../support/server-process.ts";
import { tempDir } from "../support/temp.ts";
import { hasDistribution, startCountingProxy, startDistribution, startMirrorServer, type CountingProxy, type Distribution } from "../support/upstream.ts";

setDefaultTimeout(180_000);

const FILE = "test/e2e/mirror-clients.test.ts";

/** A binary outside container-tool.ts's three, with the same rule: a warning locally, a failing test when CI is set. */
function requireBinary(name: string, present: boolean, pkg: string): boolean {
  if (present) return true;
  if (process.env.CI) {
    test(`${name} is installed (required when CI is set)`, () => {
      throw new Error(`${name} is not installed (Debian package ${pkg}); CI must run ${FILE}`);
    });
  } else {
    console.warn(`skipping ${FILE}: ${name} is not installed (Debian package ${pkg})`);
  }
  return false;
}

const SKOPEO = requireTool("skopeo", FILE);
const PODMAN = requireTool("podman", FILE);
const HAS_CONTAINERD = requireBinary("containerd and ctr, run as root,", canRunContainerd, "containerd");
const HAS_DISTRIBUTION = requireBinary("docker-registry", hasDistribution, "docker-registry");
const READY = SKOPEO !== undefined && HAS_DISTRIBUTION;

/** The metric `name` of the docker.io upstream, from /metrics. */
async function metric(server: ServerProcess, name: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return Number(new RegExp(`^${name}\\{upstream="docker.io"\\} (\\d+)`, "m").exec(text)?.[1] ?? -1);
}

describe.skipIf(!READY)("real clients through the pull-through cache", () => {
  let dist: Distribution;
  let upstream: CountingProxy;
  let front: CountingProxy;
  let server: ServerProcess;
  let skopeo: ContainerTool;
  const layouts = new Map<string, string>();

  async function pushToUpstream(dir: string, tag: string, repo: string, all = false): Promise<void> {
    const src = `oci:${dir}:${tag}`;
    await skopeo.run(["copy", ...(all ? ["--all"] : []), "--dest-tls-verify=false", src, `docker://${new URL(dist.url).host}/${repo}`]);
  }

  function image(name: string, seed: number): ImageWritten {
    const dir = tempDir(`oci-${name}-`);
    layouts.set(name, dir);
    return writeImageLayout(dir, { tag: "v1", layers: 3, seed });
  }

  function layoutBlob(name: string, digest: string): Uint8Array {
    return new Uint8Array(readFileSync(join(layouts.get(name)!, "blobs", "sha256", digest.slice("sha256:".length))));
  }

  beforeAll(async () => {
    dist = await startDistribution();
    upstream = startCountingProxy(dist.url);
    server = await startMirrorServer(upstream.url, "mirror-clients-");
    front = startCountingProxy(server.url);
    skopeo = containerTool("skopeo", { registryHost: server.host, server, bin: SKOPEO });
  });

  afterAll(async () => {
    await front?.stop();
    await server?.stop();
    await upstream?.stop();
    await dist?.stop();
  });

  describe.skipIf(!PODMAN)("podman, prefix form", () => {
    test("a cold pull fetches each part once; a warm pull into empty storage asks the upstream nothing", async () => {
      const img = image("podman", 21);
      await pushToUpstream(layouts.get("podman")!, "v1", "library/podapp:v1");
      upstream.requests.length = 0;
      const ref = `${server.host}/docker.io/library/podapp:v1`;
      const pull = async () => {
        const podman = containerTool("podman", { registryHost: server.host, server, bin: PODMAN });
        const creds = ["--tls-verify=false", "--creds", `${server.username}:${server.password}`];
        // podman checks every blob against its digest while pulling; the image id is the config's digest.
        const id = lastLine(await podman.run(["pull", "--quiet", ...creds, ...podman.signaturePolicy, ref]));
        expect(`sha256:${id}`).toBe(img.configDigest);
        const [inspected] = JSON.parse(await podman.run(["image", "inspect", ref])) as { Digest: string; RootFS: { Layers: string[] } }[];
        expect(inspected!.Digest).toBe(img.manifestDigest);
        expect(inspected!.RootFS.Layers).toEqual(img.diffIds);
      };
      await pull();
      for (const digest of [img.configDigest, ...img.layerDigests]) expect(upstream.count(`GET /v2/library/podapp/blobs/${digest}`)).toBe(1);
      expect(upstream.count("GET /v2/library/podapp/manifests/")).toBe(1);
      const cold = upstream.requests.length;
      const hits = await metric(server, "mcr_mirror_cache_hits_total");
      await pull();
      expect(upstream.requests.slice(cold)).toEqual([]);
      // The manifest and the three layers and config at least, all from the cache.
      expect(await metric(server, "mcr_mirror_cache_hits_total")).toBeGreaterThanOrEqual(hits + 5);
    });
  });

  describe.skipIf(!HAS_CONTAINERD)("containerd (ctr content fetch) with a hosts.toml mirror (?ns=)", () => {
    let hostsDir: string;

    beforeAll(() => {
      // The documented recipe: docker.io's hosts.toml names mcr (here through the recording proxy) as a pull mirror.
      // The server itself is unreachable without internet: a fallback past the mirror would fail the pull.
      hostsDir = tempDir("ctr-hosts-");
      mkdirSync(join(hostsDir, "docker.io"));
      writeFileSync(
        join(hostsDir, "docker.io", "hosts.toml"),
        `server = "https://registry-1.docker.io"\n\n[host."${front.url}"]\n  capabilities = ["pull", "resolve"]\n`,
      );
    });

    /** A real containerd pull of `ref` into an empty content store; every object in it is compared with the layout. */
    async function pull(ref: string, layout: string, expected: string[], extra: string[] = []): Promise<void> {
      const containerd = await startContainerd();
      try {
        await containerd.ctr(["content", "fetch", "--hosts-dir", hostsDir, "--user", `${server.username}:${server.password}`, ...extra, ref]);
        expect((await containerd.digests()).sort()).toEqual([...expected].sort());
        for (const digest of expected) expect(await containerd.content(digest)).toEqual(layoutBlob(layout, digest));
      } finally {
        await containerd.stop();
      }
    }

    test("containerd sends ?ns=docker.io; a cold pull fetches each part once, a warm one is answered from the cache", async () => {
      const img = image("ctr", 31);
      await pushToUpstream(layouts.get("ctr")!, "v1", "library/ctrapp:v1");
      upstream.requests.length = 0;
      front.urls.length = 0;
      const all = [img.manifestDigest, img.configDigest, ...img.layerDigests];
      await pull("docker.io/library/ctrapp:v1", "ctr", all);
      // Every request reached mcr by the name containerd knows, with the upstream in ?ns=.
      const v2 = front.urls.filter((u) => / \/v2\/.+/.test(u));
      expect(v2.length).toBeGreaterThanOrEqual(all.length);
      for (const u of v2) expect(u).toMatch(/^(GET|HEAD) \/v2\/library\/ctrapp\/(manifests|blobs)\/[^?]+\?ns=docker\.io$/);
      for (const digest of [img.configDigest, ...img.layerDigests]) expect(upstream.count(`GET /v2/library/ctrapp/blobs/${digest}`)).toBe(1);
      expect(upstream.count("GET /v2/library/ctrapp/manifests/v1")).toBe(1);
      const cold = upstream.requests.length;
      const frontCold = front.urls.length;
      const hits = await metric(server, "mcr_mirror_cache_hits_total");
      await pull("docker.io/library/ctrapp:v1", "ctr", all);
      expect(front.urls.length - frontCold).toBeGreaterThanOrEqual(all.length);
      expect(upstream.requests.slice(cold)).toEqual([]);
      expect(await metric(server, "mcr_mirror_cache_hits_total")).toBeGreaterThanOrEqual(hits + all.length);
    });

    test("a two-platform index and both platforms come through byte-exact, cold and warm (--all-platforms)", async () => {
      const dir = tempDir("oci-ctr-index-");
      layouts.set("index", dir);
      const index: IndexWritten = writeIndexLayout(dir, { tag: "latest", seed: 41 });
      await pushToUpstream(dir, "latest", "library/ctrmulti:latest", true);
      upstream.requests.length = 0;
      const all = [index.indexDigest, ...index.manifests.flatMap((m) => [m.manifestDigest, m.configDigest, ...m.layerDigests])];
      await pull("docker.io/library/ctrmulti:latest", "index", all, ["--all-platforms"]);
      expect(upstream.count("GET /v2/library/ctrmulti/manifests/latest")).toBe(1);
      for (const child of index.manifests) expect(upstream.count(`GET /v2/library/ctrmulti/manifests/${child.manifestDigest}`)).toBe(1);
      const cold = upstream.requests.length;
      await pull("docker.io/library/ctrmulti:latest", "index", all, ["--all-platforms"]);
      expect(upstream.requests.slice(cold)).toEqual([]);
    });
  });
});
