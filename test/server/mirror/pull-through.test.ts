/**
 * @module The pull-through cache against CNCF Distribution on loopback,
 * through a counting proxy: cold and warm pulls by prefix, `?ns=` and the
 * default upstream; tags revalidated after their TTL and not before;
 * blobs and manifests by digest never fetched twice.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { testApp, type TestApp } from "../../support/app.ts";
import { pushImage } from "../../support/blobs.ts";
import { sha256Digest } from "../../../lib/oci/digest.ts";
import { errorCode, pullThrough } from "../../support/mirror-pull.ts";
import { hasDistribution, pushUpstream, startCountingProxy, startDistribution, upstreamConfig, type CountingProxy, type Distribution } from "../../support/upstream.ts";

describe.skipIf(!hasDistribution)("pull-through cache", () => {
  let dist: Distribution;
  let proxy: CountingProxy;
  let t: TestApp;
  let now = Date.now();

  beforeAll(async () => {
    dist = await startDistribution();
    proxy = startCountingProxy(dist.url);
    t = await testApp({ upstreams: [upstreamConfig(proxy.url, { tagTtlMs: 60_000, isDefault: true })] });
    t.reg.now = () => now;
  });
  afterAll(async () => {
    await t?.close();
    await proxy?.stop();
    await dist?.stop();
  });

  test("a cold pull by prefix fetches each part once; a warm pull asks the upstream nothing", async () => {
    const image = await pushUpstream(dist.url, dist.auth, "library/cold", "1.0");
    proxy.requests.length = 0;
    const cold = await pullThrough(t, "docker.io/library/cold", "1.0");
    expect(cold.digest).toBe(image.manifestDigest);
    expect(cold.cache).toBe("miss");
    expect(proxy.count("GET /v2/library/cold/manifests/1.0")).toBe(1);
    for (const blob of image.blobDigests) expect(proxy.count(`GET /v2/library/cold/blobs/${blob}`)).toBe(1);
    const before = proxy.requests.length;
    const warm = await pullThrough(t, "docker.io/library/cold", "1.0");
    expect(warm.digest).toBe(image.manifestDigest);
    expect(warm.cache).toBe("hit");
    expect(proxy.requests.length).toBe(before);
    // By digest too, and HEAD.
    const head = await t.request("HEAD", `/v2/docker.io/library/cold/manifests/${image.manifestDigest}`);
    expect(head.status).toBe(200);
    expect(proxy.requests.length).toBe(before);
    // Nothing of the transfers is left in uploads/.
    expect(readdirSync(join(t.dataDir, "uploads"))).toEqual([]);
  });

  test("docker.io/alpine is docker.io/library/alpine (Docker Hub's library/ rule)", async () => {
    const image = await pushUpstream(dist.url, dist.auth, "library/short", "v1");
    const pulled = await pullThrough(t, "docker.io/short", "v1");
    expect(pulled.digest).toBe(image.manifestDigest);
    const listed = await (await t.request("GET", "/v2/_catalog")).json();
    expect((listed as { repositories: string[] }).repositories).toContain("docker.io/library/short");
  });

  test("containerd's ?ns= requests are routed to the upstream of that name", async () => {
    const image = await pushUpstream(dist.url, dist.auth, "library/nsimage", "3.20");
    proxy.requests.length = 0;
    const pulled = await pullThrough(t, "library/nsimage", "3.20", {}, "?ns=docker.io");
    expect(proxy.requests.length).toBe(4);
    expect(pulled.digest).toBe(image.manifestDigest);
    // Cached under the prefixed name.
    expect((await t.request("HEAD", `/v2/docker.io/library/nsimage/manifests/${image.manifestDigest}`)).status).toBe(200);
    const unknown = await t.request("GET", "/v2/library/nsimage/manifests/3.20?ns=quay.io");
    expect(unknown.status).toBe(404);
    expect((await errorCode(unknown)).message).toContain("no upstream is configured for namespace quay.io");
  });

  test("names matching no local repository go to the default upstream (registry-mirrors)", async () => {
    const image = await pushUpstream(dist.url, dist.auth, "library/deflt", "latest");
    const viaDocker = await pullThrough(t, "library/deflt", "latest");
    expect(viaDocker.digest).toBe(image.manifestDigest);
    const bare = await pullThrough(t, "deflt", "latest");
    expect(bare.digest).toBe(image.manifestDigest);
    // A local repository is served locally, never from the upstream.
    await pushImage(t, "library/deflt-local", "latest");
    proxy.requests.length = 0;
    const local = await t.request("GET", "/v2/library/deflt-local/manifests/latest", { headers: { accept: "application/vnd.oci.image.manifest.v1+json" } });
    expect(local.status).toBe(200);
    expect(local.headers.get("x-mcr-cache")).toBeNull();
    expect(proxy.requests).toEqual([]);
  });

  test("a tag moved upstream is seen after tag_ttl, not before; an unmoved one costs a HEAD", async () => {
    const first = await pushUpstream(dist.url, dist.auth, "library/moving", "stable");
    expect((await pullThrough(t, "docker.io/library/moving", "stable")).digest).toBe(first.manifestDigest);
    const second = await pushUpstream(dist.url, dist.auth, "library/moving", "stable");
    now += 30_000;
    const early = await pullThrough(t, "docker.io/library/moving", "stable");
    expect(early.digest).toBe(first.manifestDigest);
    expect(early.cache).toBe("hit");
    now += 31_000;
    proxy.requests.length = 0;
    const late = await pullThrough(t, "docker.io/library/moving", "stable");
    expect(late.digest).toBe(second.manifestDigest);
    expect(late.cache).toBe("revalidated");
    expect(proxy.count("HEAD /v2/library/moving/manifests/stable")).toBe(1);
    expect(proxy.count("GET /v2/library/moving/manifests/stable")).toBe(1);
    now += 61_000;
    proxy.requests.length = 0;
    const same = await pullThrough(t, "docker.io/library/moving", "stable");
    expect(same.digest).toBe(second.manifestDigest);
    expect(same.cache).toBe("revalidated");
    expect(proxy.requests).toEqual(["HEAD /v2/library/moving/manifests/stable"]);
  });

  test("a tag or blob the upstream does not have is a 404", async () => {
    const tag = await t.request("GET", "/v2/docker.io/library/nothing/manifests/latest");
    expect(tag.status).toBe(404);
    expect((await errorCode(tag)).code).toBe("MANIFEST_UNKNOWN");
    const blob = await t.request("GET", `/v2/docker.io/library/nothing/blobs/sha256:${"0".repeat(64)}`);
    expect(blob.status).toBe(404);
    expect((await errorCode(blob)).code).toBe("BLOB_UNKNOWN");
  });
  test("a manifest the upstream does not have is not asked for again within not_found_ttl; pushed meanwhile, it is seen after", async () => {
    const t2 = await testApp({ upstreams: [upstreamConfig(proxy.url, { notFoundTtlMs: 30_000 })] });
    let clock = Date.now();
    t2.reg.now = () => clock;
    try {
      proxy.requests.length = 0;
      const answers: { status: number; code: string; message: string }[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await t2.request("GET", "/v2/docker.io/library/later/manifests/1.0");
        answers.push({ status: res.status, ...(await errorCode(res)) });
      }
      expect(answers.map((a) => `${a.status} ${a.code}`)).toEqual(["404 MANIFEST_UNKNOWN", "404 MANIFEST_UNKNOWN", "404 MANIFEST_UNKNOWN"]);
      expect(answers[2]!.message).toContain("not asked again for 30 s");
      expect(proxy.count("GET /v2/library/later/manifests/1.0")).toBe(1);
      // Another tag of the same repository is another name: asked for.
      expect((await t2.request("GET", "/v2/docker.io/library/later/manifests/2.0")).status).toBe(404);
      expect(proxy.count("GET /v2/library/later/manifests/2.0")).toBe(1);
      const image = await pushUpstream(dist.url, dist.auth, "library/later", "1.0");
      clock += 29_000;
      expect((await t2.request("HEAD", "/v2/docker.io/library/later/manifests/1.0")).status).toBe(404);
      expect(proxy.count("GET /v2/library/later/manifests/1.0")).toBe(1);
      clock += 2_000;
      const pulled = await pullThrough(t2, "docker.io/library/later", "1.0");
      expect(pulled.digest).toBe(image.manifestDigest);
      expect(proxy.count("GET /v2/library/later/manifests/1.0")).toBe(2);
      expect(t2.mirror!.counters.get("docker.io")!.notFoundHits).toBe(3);
    } finally {
      await t2.close();
    }
  });

  test("a referrer fetched through the mirror is listed with its annotations", async () => {
    const image = await pushUpstream(dist.url, dist.auth, "library/signed", "v1");
    const empty = new TextEncoder().encode("{}");
    const start = await fetch(`${dist.url}/v2/library/signed/blobs/uploads/`, { method: "POST", headers: { Authorization: dist.auth } });
    const location = new URL(start.headers.get("location")!, dist.url);
    location.searchParams.set("digest", sha256Digest(empty));
    expect((await fetch(location, { method: "PUT", body: empty, headers: { Authorization: dist.auth } })).status).toBe(201);
    const signature = new TextEncoder().encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        artifactType: "application/vnd.example.signature",
        config: { mediaType: "application/vnd.oci.empty.v1+json", digest: sha256Digest(empty), size: 2 },
        layers: [],
        subject: { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: image.manifestDigest, size: image.manifest.byteLength },
        annotations: { "org.example.signed-by": "ci" },
      }),
    );
    const digest = sha256Digest(signature);
    const put = await fetch(`${dist.url}/v2/library/signed/manifests/${digest}`, {
      method: "PUT",
      body: signature,
      headers: { Authorization: dist.auth, "Content-Type": "application/vnd.oci.image.manifest.v1+json" },
    });
    expect(put.status).toBe(201);
    expect((await pullThrough(t, "docker.io/library/signed", digest)).digest).toBe(digest);
    const listed = await t.request("GET", `/v2/docker.io/library/signed/referrers/${image.manifestDigest}`);
    expect(listed.status).toBe(200);
    const index = (await listed.json()) as { manifests: { digest: string; artifactType: string; annotations?: Record<string, string> }[] };
    expect(index.manifests).toEqual([
      expect.objectContaining({ digest, artifactType: "application/vnd.example.signature", annotations: { "org.example.signed-by": "ci" } }),
    ]);
  });
});
