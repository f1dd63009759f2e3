/**
 * @module The cache when its upstream fails: cached tags are served stale
 * (and say so) when the upstream answers 5xx, is unreachable or throttles;
 * a tag never cached gets a clear 503; a 429's Retry-After (seconds or a
 * date; 10 s when absent, at most an hour) is honoured by sending nothing
 * upstream until it has passed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { recentAuditEvents } from "../../../lib/db/queries/audit.ts";
import { testApp, type TestApp } from "../../support/app.ts";
import { errorCode, pullThrough } from "../../support/mirror-pull.ts";
import { hasDistribution, pushUpstream, startCountingProxy, startDistribution, upstreamConfig, type CountingProxy, type Distribution } from "../../support/upstream.ts";

describe.skipIf(!hasDistribution)("upstream failures", () => {
  let dist: Distribution;
  let proxy: CountingProxy;
  let t: TestApp;
  let now = Date.now();
  const logged: string[] = [];

  beforeAll(async () => {
    dist = await startDistribution();
    proxy = startCountingProxy(dist.url);
    t = await testApp({ upstreams: [upstreamConfig(proxy.url, { tagTtlMs: 1000, timeoutMs: 2000 })], onMirrorEvent: (e) => logged.push(`${e.level} ${e.message}`) });
    t.reg.now = () => now;
  });
  afterAll(async () => {
    await t?.close();
    await proxy?.stop();
    await dist?.stop();
  });

  test("5xx upstream: a cached tag is served stale and says so; an uncached one is a clear 503", async () => {
    const image = await pushUpstream(dist.url, dist.auth, "library/flaky", "1");
    await pullThrough(t, "docker.io/library/flaky", "1");
    proxy.mode = "down";
    now += 2000;
    const stale = await pullThrough(t, "docker.io/library/flaky", "1");
    expect(stale.digest).toBe(image.manifestDigest);
    expect(stale.cache).toBe("stale");
    expect(stale.warning).toContain("110");
    expect(logged).toContain("warn mirror: serving docker.io/library/flaky:1 stale: docker.io answered 503");
    const never = await t.request("GET", "/v2/docker.io/library/flaky/manifests/2");
    expect(never.status).toBe(503);
    const error = await errorCode(never);
    expect(error.code).toBe("UNAVAILABLE");
    expect(error.message).toContain("never cached");
    expect(error.message).toContain("answered 503");
    const blob = await t.request("GET", `/v2/docker.io/library/flaky/blobs/sha256:${"1".repeat(64)}`);
    expect(blob.status).toBe(503);
    proxy.mode = "pass";
    const counters = t.mirror!.counters.get("docker.io")!;
    expect(counters.staleServes).toBeGreaterThanOrEqual(1);
    expect(counters.upstreamErrors).toBeGreaterThanOrEqual(2);
  });

  test("unreachable upstream: cached tags still pull whole, an uncached one is a 503 naming the upstream", async () => {
    const image = await pushUpstream(dist.url, dist.auth, "library/gone", "1");
    await pullThrough(t, "docker.io/library/gone", "1");
    const down = await testApp({ upstreams: [upstreamConfig("http://127.0.0.1:9", { tagTtlMs: 0, timeoutMs: 2000 })] });
    try {
      const never = await down.request("GET", "/v2/docker.io/library/gone/manifests/1");
      expect(never.status).toBe(503);
      expect((await errorCode(never)).message).toContain("is unreachable");
    } finally {
      await down.close();
    }
    await proxy.stop();
    now += 2000;
    const stale = await pullThrough(t, "docker.io/library/gone", "1");
    expect(stale.digest).toBe(image.manifestDigest);
    expect(stale.cache).toBe("stale");
  });

  test("429 with Retry-After: stale for cached tags, 503 with Retry-After otherwise, and no request upstream until it passes", async () => {
    const proxy2 = startCountingProxy(dist.url);
    const t2 = await testApp({ upstreams: [upstreamConfig(proxy2.url, { tagTtlMs: 0 })] });
    try {
      const image = await pushUpstream(dist.url, dist.auth, "library/busy", "1");
      await pullThrough(t2, "docker.io/library/busy", "1");
      proxy2.mode = "throttle";
      proxy2.retryAfter = 2;
      const first = await pullThrough(t2, "docker.io/library/busy", "1");
      expect(first.cache).toBe("stale");
      expect(first.digest).toBe(image.manifestDigest);
      const seen = proxy2.requests.length;
      const again = await pullThrough(t2, "docker.io/library/busy", "1");
      expect(again.cache).toBe("stale");
      const uncached = await t2.request("GET", "/v2/docker.io/library/busy/manifests/other");
      expect(uncached.status).toBe(503);
      expect(Number(uncached.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      // Paused: nothing reached the upstream.
      expect(proxy2.requests.length).toBe(seen);
      proxy2.mode = "pass";
      await Bun.sleep(2100);
      const after = await pullThrough(t2, "docker.io/library/busy", "1");
      expect(after.cache).toBe("revalidated");
      expect(proxy2.requests.length).toBeGreaterThan(seen);
    } finally {
      await t2.close();
      await proxy2.stop();
    }
  });

  test("a 429's pause: 10 s without Retry-After, an HTTP date honoured, at most an hour; it ends on time", async () => {
    const proxy3 = startCountingProxy(dist.url);
    // Whole seconds: an HTTP date has no fraction.
    let clock = Math.floor(Date.now() / 1000) * 1000;
    const t3 = await testApp({ upstreams: [upstreamConfig(proxy3.url)] });
    t3.reg.now = () => clock;
    const retryAfter = async () => {
      const res = await t3.request("GET", `/v2/docker.io/library/paused/manifests/${crypto.randomUUID()}`);
      expect(res.status).toBe(503);
      await res.arrayBuffer();
      return Number(res.headers.get("retry-after"));
    };
    try {
      proxy3.mode = "throttle";
      proxy3.retryAfter = null;
      expect(await retryAfter()).toBe(10);
      const seen = proxy3.requests.length;
      clock += 9_000;
      expect(await retryAfter()).toBe(1);
      expect(proxy3.requests.length).toBe(seen);
      clock += 1_000;
      proxy3.retryAfter = new Date(clock + 120_000).toUTCString();
      expect(await retryAfter()).toBe(120);
      expect(proxy3.requests.length).toBe(seen + 1);
      clock += 120_000;
      proxy3.retryAfter = 86_400;
      expect(await retryAfter()).toBe(3600);
      clock += 3_599_000;
      expect(await retryAfter()).toBe(1);
      expect(proxy3.requests.length).toBe(seen + 2);
      clock += 1_000;
      proxy3.mode = "pass";
      const image = await pushUpstream(dist.url, dist.auth, "library/paused", "1");
      expect((await pullThrough(t3, "docker.io/library/paused", "1")).digest).toBe(image.manifestDigest);
    } finally {
      await t3.close();
      await proxy3.stop();
    }
  });

  test("upstream fetches are audited, blob reads from the cache are not", async () => {
    await t.reg.audit.flush();
    const events = await recentAuditEvents(t.reg.db, 500);
    const fetched = events.filter((e) => e.event === "mirror.fetched");
    expect(fetched.some((e) => e.repository === "docker.io/library/flaky" && JSON.parse(e.detail!).kind === "manifest")).toBe(true);
    // Three blobs, fetched once each, though the image was pulled twice.
    expect(fetched.filter((e) => e.repository === "docker.io/library/flaky" && JSON.parse(e.detail!).kind === "blob").length).toBe(3);
    expect(events.filter((e) => e.repository === "docker.io/library/flaky" && e.event === "manifest.pulled").length).toBe(2);
  });
});

describe.skipIf(!hasDistribution)("upstream limits", () => {
  let dist: Distribution;
  let proxy: CountingProxy;

  beforeAll(async () => {
    dist = await startDistribution();
    proxy = startCountingProxy(dist.url);
  });
  afterAll(async () => {
    await proxy?.stop();
    await dist?.stop();
  });

  test("an upstream that never answers is given up after `timeout` (a 503 or a stale tag, not a hang), then not asked for a while", async () => {
    const image = await pushUpstream(dist.url, dist.auth, "library/silent", "1");
    const t = await testApp({ upstreams: [upstreamConfig(proxy.url, { timeoutMs: 1000, tagTtlMs: 0 })] });
    try {
      await pullThrough(t, "docker.io/library/silent", "1");
      proxy.mode = "hang";
      let started = Date.now();
      const res = await t.request("GET", "/v2/docker.io/library/silent/manifests/2");
      expect(res.status).toBe(503);
      expect((await errorCode(res)).message).toContain("unreachable");
      expect(Date.now() - started).toBeLessThan(5000);
      // Now known to be down: the cached tag is served stale at once, without asking.
      const asked = proxy.requests.length;
      started = Date.now();
      const stale = await pullThrough(t, "docker.io/library/silent", "1");
      expect(stale.cache).toBe("stale");
      expect(stale.digest).toBe(image.manifestDigest);
      expect(Date.now() - started).toBeLessThan(500);
      expect(proxy.requests.length).toBe(asked);
    } finally {
      proxy.mode = "pass";
      await t.close();
    }
  });

  test("max_concurrent bounds the requests sent to the upstream at once; Accept headers are forwarded", async () => {
    const image = await pushUpstream(dist.url, dist.auth, "library/narrow", "1", 4, 256 * 1024);
    const t = await testApp({ upstreams: [upstreamConfig(proxy.url, { maxConcurrent: 1 })] });
    // The request the previous test left hanging still counts as in flight.
    const hanging = proxy.inFlight;
    proxy.maxInFlight = hanging;
    proxy.chunkDelayMs = 2;
    proxy.accepts.length = 0;
    try {
      const manifest = await t.request("GET", "/v2/docker.io/library/narrow/manifests/1", { headers: { accept: "application/vnd.oci.image.manifest.v1+json" } });
      expect(manifest.status).toBe(200);
      expect(proxy.accepts).toEqual(["application/vnd.oci.image.manifest.v1+json"]);
      const blobs = await Promise.all(image.blobDigests.map((d) => t.request("GET", `/v2/docker.io/library/narrow/blobs/${d}`).then((r) => r.arrayBuffer())));
      expect(blobs.map((b) => b.byteLength).slice(1)).toEqual([262144, 262144, 262144, 262144]);
      expect(proxy.maxInFlight - hanging).toBe(1);
    } finally {
      proxy.chunkDelayMs = 0;
      await t.close();
    }
  });

  test("a redirect loop is given up after 5 redirects with a 503 naming the upstream; no Accept asks for all four manifest types", async () => {
    const image = await pushUpstream(dist.url, dist.auth, "library/looped", "1");
    const t = await testApp({ upstreams: [upstreamConfig(proxy.url)] });
    proxy.accepts.length = 0;
    try {
      const manifest = await t.request("GET", "/v2/docker.io/library/looped/manifests/1");
      expect(manifest.status).toBe(200);
      expect(proxy.accepts[0]!.split(",").map((a) => a.trim()).sort()).toEqual([
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
      ]);
      proxy.redirectLoop = true;
      const layer = image.blobDigests[1]!;
      const before = proxy.count(`GET /v2/library/looped/blobs/${layer}`);
      const res = await t.request("GET", `/v2/docker.io/library/looped/blobs/${layer}`);
      expect(res.status).toBe(503);
      expect((await errorCode(res)).message).toContain("docker.io");
      // The first request and five redirects.
      expect(proxy.count(`GET /v2/library/looped/blobs/${layer}`) - before).toBe(6);
      expect(await t.reg.store.stat(layer)).toBeNull();
    } finally {
      proxy.redirectLoop = false;
      await t.close();
    }
  });

  test("a blob fetch holds one of the account's upload slots: past the bound it is a 429", async () => {
    const image = await pushUpstream(dist.url, dist.auth, "library/slots", "1", 2, 2 * 1024 * 1024);
    const t = await testApp({ upstreams: [upstreamConfig(proxy.url)], limits: { maxConcurrentUploadsPerUser: 1 } });
    proxy.chunkDelayMs = 20;
    try {
      // The first answer starts as the bytes flow (32 pieces, 20 ms apart); its fetch holds the slot meanwhile.
      const first = await t.request("GET", `/v2/docker.io/library/slots/blobs/${image.blobDigests[1]}`);
      expect(first.status).toBe(200);
      const second = await t.request("GET", `/v2/docker.io/library/slots/blobs/${image.blobDigests[2]}`);
      expect(second.status).toBe(429);
      expect((await errorCode(second)).code).toBe("TOOMANYREQUESTS");
      expect((await first.arrayBuffer()).byteLength).toBe(2 * 1024 * 1024);
      // Given back once the fetch is stored.
      proxy.chunkDelayMs = 0;
      const again = await t.request("GET", `/v2/docker.io/library/slots/blobs/${image.blobDigests[2]}`);
      expect(again.status).toBe(200);
      expect((await again.arrayBuffer()).byteLength).toBe(2 * 1024 * 1024);
    } finally {
      proxy.chunkDelayMs = 0;
      await t.close();
    }
  });
});
