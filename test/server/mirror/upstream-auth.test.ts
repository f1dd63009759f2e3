/**
 * @module Upstream authentication: Basic against Distribution with htpasswd
 * (with and without credentials), the Docker token flow against a second
 * `mcr serve` (tokens reused until they expire, anonymous tokens too), and
 * redirects to blob storage followed without carrying the credentials to
 * the other origin; an HTTPS upstream trusted through `tls_ca`. With each
 * kind of upstream a warm pull within `tag_ttl` sends it nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { testApp } from "../../support/app.ts";
import { tempDir } from "../../support/temp.ts";
import { makeCertificate, requireOpenssl } from "../../support/tls.ts";
import { errorCode, pullThrough } from "../../support/mirror-pull.ts";
import { startServerProcess, type ServerProcess } from "../../support/server-process.ts";
import { hasDistribution, pushUpstream, startCountingProxy, startDistribution, upstreamConfig, type CountingProxy, type Distribution } from "../../support/upstream.ts";

const USER = { username: "mirror", password: "mirror-secret-1" };

describe.skipIf(!hasDistribution)("Distribution with htpasswd (Basic)", () => {
  let dist: Distribution;
  let proxy: CountingProxy;

  beforeAll(async () => {
    dist = await startDistribution(USER);
    proxy = startCountingProxy(dist.url);
  });
  afterAll(async () => {
    await proxy?.stop();
    await dist?.stop();
  });

  test("with credentials the image pulls; blobs redirected to another origin are fetched without them", async () => {
    const image = await pushUpstream(dist.url, dist.auth, "team/private", "1");
    proxy.redirectBlobs = true;
    proxy.storageAuth = dist.auth;
    const t = await testApp({ upstreams: [upstreamConfig(proxy.url, { name: "private.example", ...USER })] });
    try {
      const pulled = await pullThrough(t, "private.example/team/private", "1");
      expect(pulled.digest).toBe(image.manifestDigest);
      expect(proxy.count("GET /v2/team/private/blobs/")).toBe(3);
      expect(proxy.redirectedAuth).toEqual([]);
      // Warm: within tag_ttl, everything from the cache, nothing asked upstream.
      const cold = proxy.requests.length;
      const warm = await pullThrough(t, "private.example/team/private", "1");
      expect(warm.digest).toBe(image.manifestDigest);
      expect(warm.cache).toBe("hit");
      expect(proxy.requests.slice(cold)).toEqual([]);
    } finally {
      proxy.redirectBlobs = false;
      await t.close();
    }
  });

  test("without credentials the upstream's refusal is a 404 naming it, not a 500", async () => {
    await pushUpstream(dist.url, dist.auth, "team/secret", "1");
    const t = await testApp({ upstreams: [upstreamConfig(proxy.url, { name: "private.example" })] });
    try {
      const res = await t.request("GET", "/v2/private.example/team/secret/manifests/1");
      expect(res.status).toBe(404);
      expect((await errorCode(res)).message).toContain("answered 401");
    } finally {
      await t.close();
    }
  });
});

describe("a second mcr serve (Docker token flow)", () => {
  let upstream: ServerProcess;

  beforeAll(async () => {
    upstream = await startServerProcess();
  });
  afterAll(async () => {
    await upstream?.stop();
  });

  test("credentials get a token once per repository, reused for every request until it expires", async () => {
    const first = await pushUpstream(upstream.url, upstream.authHeader, "team/app", "1");
    const second = await pushUpstream(upstream.url, upstream.authHeader, "team/app", "2");
    const proxy = startCountingProxy(upstream.url);
    const t = await testApp({ upstreams: [upstreamConfig(proxy.url, { name: "mcr.example", username: upstream.username, password: upstream.password })] });
    try {
      expect((await pullThrough(t, "mcr.example/team/app", "1")).digest).toBe(first.manifestDigest);
      expect((await pullThrough(t, "mcr.example/team/app", "2")).digest).toBe(second.manifestDigest);
      const client = t.mirror!.targets[0]!.client;
      expect(client.tokenRequests).toBe(1);
      expect(proxy.count("GET /v2/team/app/blobs/")).toBe(6);
      // Warm, within tag_ttl: from the cache, no token and no request upstream.
      const cold = proxy.requests.length;
      const warm = await pullThrough(t, "mcr.example/team/app", "1");
      expect(warm.cache).toBe("hit");
      expect(warm.digest).toBe(first.manifestDigest);
      expect(proxy.requests.slice(cold)).toEqual([]);
      expect(client.tokenRequests).toBe(1);
      // After the token's lifetime (300 s here) a new one is fetched.
      const later = Date.now() + 400_000;
      t.reg.now = () => later;
      expect((await pullThrough(t, "mcr.example/team/app", "1")).cache).toBe("revalidated");
      expect(client.tokenRequests).toBe(2);
    } finally {
      await t.close();
      await proxy.stop();
    }
  });

  test("anonymously, the token flow runs and the refusal is a clear 404", async () => {
    await pushUpstream(upstream.url, upstream.authHeader, "team/closed", "1");
    const t = await testApp({ upstreams: [upstreamConfig(upstream.url, { name: "mcr.example" })] });
    try {
      const res = await t.request("GET", "/v2/mcr.example/team/closed/manifests/1");
      expect(res.status).toBe(404);
      expect((await errorCode(res)).message).toContain("answered 401");
      expect(t.mirror!.targets[0]!.client.tokenRequests).toBe(1);
    } finally {
      await t.close();
    }
  });
});

describe("an HTTPS upstream with its own CA (tls_ca)", () => {
  const openssl = requireOpenssl("test/server/mirror/upstream-auth.test.ts");
  let upstream: ServerProcess;
  let ca: string;

  beforeAll(async () => {
    if (!openssl) return;
    const dir = tempDir("mirror-tls-");
    makeCertificate(openssl, join(dir, "cert.pem"), join(dir, "key.pem"), "upstream");
    ca = readFileSync(join(dir, "cert.pem"), "utf8");
    upstream = await startServerProcess({ args: ["--listen", "127.0.0.1:0", "--data", join(dir, "data"), "--tls-cert", join(dir, "cert.pem"), "--tls-key", join(dir, "key.pem")] });
  });
  afterAll(async () => {
    await upstream?.stop();
  });

  test.skipIf(!openssl)("trusted through tls_ca the image pulls (token flow over HTTPS); without it the certificate is refused with a 503", async () => {
    const image = await pushUpstream(upstream.url, upstream.authHeader, "team/tls", "1", 2, 4096, ca);
    const creds = { name: "tls.example", username: upstream.username, password: upstream.password };
    const t = await testApp({ upstreams: [upstreamConfig(upstream.url, { ...creds, tlsCa: ca })] });
    const untrusted = await testApp({ upstreams: [upstreamConfig(upstream.url, creds)] });
    try {
      expect((await pullThrough(t, "tls.example/team/tls", "1")).digest).toBe(image.manifestDigest);
      const refused = await untrusted.request("GET", "/v2/tls.example/team/tls/manifests/1");
      expect(refused.status).toBe(503);
      expect((await errorCode(refused)).message).toContain("unreachable");
    } finally {
      await t.close();
      await untrusted.close();
    }
  });
});
