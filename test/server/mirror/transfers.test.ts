/**
 * @module Blob transfers through the cache: twenty clients pulling the same
 * cold image share one upstream fetch per blob and per tag; the first
 * client gets a cold blob's bytes before the upstream has sent it all; a
 * client that goes away mid-blob leaves nothing half-written and the next
 * pull completes, one that stops reading is dropped without stalling the
 * fetch; bytes that do not match their digest are never committed and
 * never reach a client as a complete body.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { findLinkedBlob } from "../../../lib/db/queries/blobs.ts";
import { sha256Digest } from "../../../lib/oci/digest.ts";
import { testApp, type TestApp } from "../../support/app.ts";
import { pullThrough } from "../../support/mirror-pull.ts";
import { hasDistribution, pushUpstream, startCountingProxy, startDistribution, upstreamConfig, type CountingProxy, type Distribution } from "../../support/upstream.ts";

describe.skipIf(!hasDistribution)("blob transfers", () => {
  let dist: Distribution;
  let proxy: CountingProxy;
  let t: TestApp;

  beforeAll(async () => {
    dist = await startDistribution();
    proxy = startCountingProxy(dist.url);
    t = await testApp({ upstreams: [upstreamConfig(proxy.url)] });
  });
  afterAll(async () => {
    await t?.close();
    await proxy?.stop();
    await dist?.stop();
  });

  async function nothingLeftOver(): Promise<void> {
    expect(readdirSync(join(t.dataDir, "uploads"))).toEqual([]);
    expect((await t.reg.db.selectFrom("uploads").select("id").execute()).length).toBe(0);
  }

  test("20 clients pulling the same cold image at once: one upstream fetch per blob and for the tag", async () => {
    const image = await pushUpstream(dist.url, dist.auth, "library/crowd", "1", 3, 1024 * 1024);
    proxy.requests.length = 0;
    proxy.chunkDelayMs = 2;
    try {
      const pulls = await Promise.all(Array.from({ length: 20 }, () => pullThrough(t, "docker.io/library/crowd", "1")));
      for (const pull of pulls) expect(pull.digest).toBe(image.manifestDigest);
    } finally {
      proxy.chunkDelayMs = 0;
    }
    expect(proxy.count("GET /v2/library/crowd/manifests/")).toBe(1);
    for (const blob of image.blobDigests) expect(proxy.count(`GET /v2/library/crowd/blobs/${blob}`)).toBe(1);
    await nothingLeftOver();
  });

  test("the first client receives a cold blob's bytes while the upstream is still sending it, and the whole blob in the end", async () => {
    const image = await pushUpstream(dist.url, dist.auth, "library/streamed", "1", 1, 8 * 1024 * 1024);
    const layer = image.blobDigests[1]!;
    proxy.chunkDelayMs = 3;
    try {
      const res = await t.request("GET", `/v2/docker.io/library/streamed/blobs/${layer}`);
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      const chunks: Uint8Array[] = [];
      let whileFetching = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        // The upstream's body is still being sent (the proxy counts it in flight until its end).
        if (proxy.inFlight > 0) whileFetching += value.byteLength;
        chunks.push(value);
      }
      expect(whileFetching).toBeGreaterThan(0);
      expect(chunks.length).toBeGreaterThan(1);
      expect(sha256Digest(Buffer.concat(chunks))).toBe(layer);
    } finally {
      proxy.chunkDelayMs = 0;
    }
    expect(proxy.count(`GET /v2/library/streamed/blobs/${layer}`)).toBe(1);
    await nothingLeftOver();
  });

  test("a client that stops reading is dropped after `timeout` with 4 MiB waiting for it; the blob is still cached whole", async () => {
    const slowApp = await testApp({ upstreams: [upstreamConfig(proxy.url, { timeoutMs: 800 })] });
    try {
      const image = await pushUpstream(dist.url, dist.auth, "library/stalled", "1", 1, 16 * 1024 * 1024);
      const layer = image.blobDigests[1]!;
      const res = await slowApp.request("GET", `/v2/docker.io/library/stalled/blobs/${layer}`);
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      expect((await reader.read()).done).toBe(false);
      // The client reads nothing more; the fetch must not wait for it.
      const deadline = Date.now() + 20_000;
      while (!(await findLinkedBlob(slowApp.reg.db, "docker.io/library/stalled", layer)) && Date.now() < deadline) await Bun.sleep(50);
      expect(await findLinkedBlob(slowApp.reg.db, "docker.io/library/stalled", layer)).toBeDefined();
      // What it reads now ends in an error, short of the blob: it was dropped.
      let received = 0;
      const error = await (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return null;
          received += value.byteLength;
        }
      })().catch((e: Error) => e);
      expect(String(error)).toContain("client too slow");
      expect(received).toBeLessThan(16 * 1024 * 1024);
      const again = await slowApp.request("GET", `/v2/docker.io/library/stalled/blobs/${layer}`);
      expect(sha256Digest(new Uint8Array(await again.arrayBuffer()))).toBe(layer);
      expect(proxy.count(`GET /v2/library/stalled/blobs/${layer}`)).toBe(1);
    } finally {
      await slowApp.close();
    }
  });

  test("a client leaving mid-blob commits nothing half-written; the next pull completes", async () => {
    const fresh = await pushUpstream(dist.url, dist.auth, "library/leaver2", "1", 1, 8 * 1024 * 1024);
    const cold = fresh.blobDigests[1]!;
    proxy.chunkDelayMs = 3;
    try {
      const res = await t.request("GET", `/v2/docker.io/library/leaver2/blobs/${cold}`);
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      const first = await reader.read();
      expect(first.done).toBe(false);
      await reader.cancel();
      // Meanwhile nothing is recorded: the blob is not there until verified whole.
      expect(await findLinkedBlob(t.reg.db, "docker.io/library/leaver2", cold)).toBeUndefined();
    } finally {
      proxy.chunkDelayMs = 0;
    }
    const pulled = await pullThrough(t, "docker.io/library/leaver2", "1");
    expect(pulled.digest).toBe(fresh.manifestDigest);
    // The transfer the client left went on to the end and was kept: no second fetch.
    expect(proxy.count(`GET /v2/library/leaver2/blobs/${cold}`)).toBe(1);
    await nothingLeftOver();
  });

  test("bytes that do not match the digest: the client's body fails, nothing is stored, the next pull is whole", async () => {
    const image = await pushUpstream(dist.url, dist.auth, "library/bent", "1", 1, 256 * 1024);
    const layer = image.blobDigests[1]!;
    proxy.mode = "corrupt";
    try {
      const res = await t.request("GET", `/v2/docker.io/library/bent/blobs/${layer}`);
      let received: Uint8Array | null = null;
      if (res.status === 200) received = await res.arrayBuffer().then((b) => new Uint8Array(b), () => null);
      // Either an error status, or a body that breaks off: never a complete wrong blob.
      if (received !== null) expect(sha256Digest(received)).toBe(layer);
      expect(res.status === 200 ? received : null).toBeNull();
    } finally {
      proxy.mode = "pass";
    }
    expect(await findLinkedBlob(t.reg.db, "docker.io/library/bent", layer)).toBeUndefined();
    expect(await t.reg.store.stat(layer)).toBeNull();
    await nothingLeftOver();
    const pulled = await pullThrough(t, "docker.io/library/bent", "1");
    expect(pulled.digest).toBe(image.manifestDigest);
  });

  test("a HEAD or a Range request that starts the fetch of a cold blob larger than a client's buffer does not wait for a reader", async () => {
    // No client reads these fetches as they arrive. With a 60 s upstream timeout, a fetch that waited for
    // a reader (the slow-client bound) would take a minute; the transfer itself takes well under a second.
    const patient = await testApp({ upstreams: [upstreamConfig(proxy.url, { timeoutMs: 60_000 })] });
    try {
      const image = await pushUpstream(dist.url, dist.auth, "library/unread", "1", 2, 6 * 1024 * 1024);
      const started = performance.now();
      expect((await patient.request("HEAD", `/v2/docker.io/library/unread/blobs/${image.blobDigests[1]!}`)).status).toBe(200);
      const ranged = await patient.request("GET", `/v2/docker.io/library/unread/blobs/${image.blobDigests[2]!}`, { headers: { range: "bytes=0-9" } });
      expect(ranged.status).toBe(206);
      expect((await ranged.arrayBuffer()).byteLength).toBe(10);
      expect(performance.now() - started).toBeLessThan(30_000);
    } finally {
      await patient.close();
    }
  }, 120_000);

  test("a Range request on a cold blob waits for the whole blob, then gets its range", async () => {
    const image = await pushUpstream(dist.url, dist.auth, "library/ranged", "1", 1, 100_000);
    const layer = image.blobDigests[1]!;
    const res = await t.request("GET", `/v2/docker.io/library/ranged/blobs/${layer}`, { headers: { range: "bytes=10-19" } });
    expect(res.status).toBe(206);
    expect((await res.arrayBuffer()).byteLength).toBe(10);
    expect(await findLinkedBlob(t.reg.db, "docker.io/library/ranged", layer)).toBeDefined();
  });
});
