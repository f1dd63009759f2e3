/**
 * @module Upstream registries for pull-through cache tests, on loopback:
 * CNCF Distribution (Debian's docker-registry) with or without htpasswd,
 * and a counting proxy in front of any registry that records every request
 * and can fail, throttle, redirect or corrupt on demand.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { UpstreamConfig } from "../../lib/mirror/upstream-config.ts";
import { sha256Digest } from "../../lib/oci/digest.ts";
import { OCI_MANIFEST } from "../../lib/oci/media-types.ts";
import { startServerProcess, type ServerProcess } from "./server-process.ts";
import { tempDir } from "./temp.ts";

const DISTRIBUTION = "/usr/bin/docker-registry";

/** A running Distribution. */
export interface Distribution {
  url: string;
  /** Authorization header to push with ("" without htpasswd). */
  auth: string;
  stop(): Promise<void>;
}

/** Whether Distribution is installed (tests skip without it). */
export const hasDistribution = Bun.file(DISTRIBUTION).size > 0;

function freePort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

/** Starts Distribution on a free loopback port, with an htpasswd user when `user` is given. */
export async function startDistribution(user?: { username: string; password: string }): Promise<Distribution> {
  const dir = tempDir("distribution-");
  const port = freePort();
  let auth = "";
  let authConfig = "";
  if (user) {
    const hash = (await Bun.password.hash(user.password, { algorithm: "bcrypt", cost: 4 })).replace(/^\$2b\$/, "$2y$");
    writeFileSync(join(dir, "htpasswd"), `${user.username}:${hash}\n`);
    authConfig = `auth:\n  htpasswd:\n    realm: test\n    path: ${join(dir, "htpasswd")}\n`;
    auth = `Basic ${btoa(`${user.username}:${user.password}`)}`;
  }
  const config = join(dir, "config.yml");
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, "data")}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${authConfig}`,
  );
  const proc = Bun.spawn([DISTRIBUTION, "serve", config], { stdout: "ignore", stderr: "pipe" });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const ok = await fetch(`${url}/v2/`).then((r) => r.status === 200 || r.status === 401, () => false);
    if (ok) break;
    if (i > 200 || proc.exitCode !== null) throw new Error(`Distribution did not start: ${await new Response(proc.stderr).text()}`);
    await Bun.sleep(25);
  }
  return {
    url,
    auth,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}

/** What the proxy does with the next requests. */
export type ProxyMode = "pass" | "down" | "throttle" | "corrupt" | "hang";

/** A counting proxy in front of a registry. */
export interface CountingProxy {
  url: string;
  /** Every request received, as `METHOD /path` (query left out), in order. */
  requests: string[];
  /** The same requests with their query, as `METHOD /path?query` (to see containerd's `?ns=`). */
  urls: string[];
  /** How many received requests start with `prefix` (e.g. `GET /v2/library/a/blobs/`). */
  count(prefix: string): number;
  mode: ProxyMode;
  /** What a throttled answer's Retry-After says: seconds, an HTTP date as text, or null to send none. */
  retryAfter: number | string | null;
  /** Blob GETs answer 307 to this proxy under another origin (`localhost`), as blob storage would. */
  redirectBlobs: boolean;
  /** Blob GETs answer 307 to the same path with another query, forever. */
  redirectLoop: boolean;
  /** Authorization headers seen on redirected blob fetches (must be none: another origin). */
  redirectedAuth: string[];
  /** Milliseconds to pause before each 64 KiB of a blob body passed through (0: none). */
  chunkDelayMs: number;
  /** Accept headers of manifest requests, in order. */
  accepts: string[];
  /** Requests being answered now, and the most at once so far. */
  inFlight: number;
  maxInFlight: number;
  /** Authorization the proxy itself adds to redirected blob fetches (as a signed storage URL would carry). */
  storageAuth: string;
  stop(): Promise<void>;
}

/** Starts a proxy to `target` on a free loopback port. */
export function startCountingProxy(target: string): CountingProxy {
  const proxy: CountingProxy = {
    url: "",
    requests: [],
    urls: [],
    count: (prefix) => proxy.requests.filter((r) => r.startsWith(prefix)).length,
    mode: "pass",
    retryAfter: 2,
    redirectBlobs: false,
    redirectLoop: false,
    redirectedAuth: [],
    chunkDelayMs: 0,
    storageAuth: "",
    accepts: [],
    inFlight: 0,
    maxInFlight: 0,
    stop: async () => void server.stop(true),
  };
  const server: ReturnType<typeof Bun.serve> = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req): Promise<Response> {
      proxy.inFlight++;
      proxy.maxInFlight = Math.max(proxy.maxInFlight, proxy.inFlight);
      let res: Response;
      try {
        res = await forward(req);
      } catch (error) {
        proxy.inFlight--;
        throw error;
      }
      if (!res.body) {
        proxy.inFlight--;
        return res;
      }
      // In flight until the body has been sent.
      let done = false;
      const end = () => void (done || ((done = true), proxy.inFlight--));
      const body = res.body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({ flush: end }));
      return new Response(body, { status: res.status, headers: res.headers });
    },
  });
  async function forward(req: Request): Promise<Response> {
      const url = new URL(req.url);
      let path = url.pathname;
      if (path.startsWith("/storage/")) {
        const auth = req.headers.get("authorization");
        if (auth) proxy.redirectedAuth.push(auth);
        path = decodeURIComponent(path.slice("/storage/".length));
      } else {
        proxy.requests.push(`${req.method} ${path}`);
        proxy.urls.push(`${req.method} ${path}${url.search}`);
      }
      if (/\/manifests\//.test(path)) proxy.accepts.push(req.headers.get("accept") ?? "");
      if (proxy.mode === "down") return new Response("upstream down", { status: 503 });
      if (proxy.mode === "hang") await new Promise(() => {});
      if (proxy.mode === "throttle") {
        const headers: Record<string, string> = proxy.retryAfter === null ? {} : { "Retry-After": String(proxy.retryAfter) };
        return new Response("slow down", { status: 429, headers });
      }
      const isBlob = /\/blobs\/sha256:/.test(path);
      if (proxy.redirectLoop && isBlob) {
        // A new URL each time: an endless chain, which a visited-URL check alone would not stop.
        const hop = Number(url.searchParams.get("hop") ?? 0) + 1;
        return new Response(null, { status: 307, headers: { Location: `${url.pathname}?hop=${hop}` } });
      }
      if (proxy.redirectBlobs && isBlob && !url.pathname.startsWith("/storage/")) {
        return new Response(null, { status: 307, headers: { Location: `http://localhost:${server.port}/storage/${encodeURIComponent(path)}` } });
      }
      const headers = new Headers(req.headers);
      headers.delete("host");
      if (url.pathname.startsWith("/storage/") && proxy.storageAuth) headers.set("authorization", proxy.storageAuth);
      const res = await fetch(`${target}${path}${url.search}`, { method: req.method, headers, redirect: "manual" });
      const out = new Headers(res.headers);
      out.delete("content-encoding");
      let body: ReadableStream<Uint8Array> | null = res.body;
      if (body && isBlob && req.method === "GET" && (proxy.mode === "corrupt" || proxy.chunkDelayMs > 0)) body = alter(body, proxy);
      return new Response(req.method === "HEAD" ? null : body, { status: res.status, headers: out });
  }
  proxy.url = `http://127.0.0.1:${server.port}`;
  return proxy;
}

/** Passes a body through, flipping one byte of the first chunk (corrupt) and pausing between chunks. */
function alter(body: ReadableStream<Uint8Array>, proxy: CountingProxy): ReadableStream<Uint8Array> {
  const corrupt = proxy.mode === "corrupt";
  let first = true;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      async transform(chunk, controller) {
        if (first && corrupt && chunk.byteLength > 0) {
          const copy = new Uint8Array(chunk);
          copy[0] = copy[0]! ^ 0xff;
          chunk = copy;
        }
        first = false;
        // Pieces of at most 64 KiB, each after the pause: a transfer's length is predictable.
        for (let at = 0; at < chunk.byteLength; at += 65536) {
          if (proxy.chunkDelayMs > 0) await Bun.sleep(proxy.chunkDelayMs);
          controller.enqueue(chunk.subarray(at, at + 65536));
        }
      },
    }),
  );
}

/** An `[[upstream]]` entry for tests: short timeouts, no memory of not-found answers (each test sets what it needs), overridable. */
export function upstreamConfig(url: string, overrides: Partial<UpstreamConfig> = {}): UpstreamConfig {
  return { name: "docker.io", url, username: null, password: null, tagTtlMs: 60_000, notFoundTtlMs: 0, timeoutMs: 5000, maxConcurrent: 8, tlsCa: null, isDefault: false, ...overrides };
}

/** What `pushUpstream` pushed. */
export interface UpstreamImage {
  manifestDigest: string;
  manifest: Uint8Array;
  blobDigests: string[];
}

/**
 * Pushes an image of a random config and `layers` random layers of
 * `layerBytes` each to any registry (POST then PUT, which Distribution
 * needs); returns its digests.
 */
export async function pushUpstream(base: string, auth: string, repository: string, tag: string, layers = 2, layerBytes = 4096, ca?: string): Promise<UpstreamImage> {
  const headers: Record<string, string> = auth ? { Authorization: auth } : {};
  const fetch = (url: string | URL, init: RequestInit) => globalThis.fetch(url, { ...init, ...(ca ? { tls: { ca } } : {}) });
  const blobs: Uint8Array[] = [new TextEncoder().encode(JSON.stringify({ architecture: "amd64", os: "linux", nonce: crypto.randomUUID() }))];
  for (let i = 0; i < layers; i++) {
    const bytes = new Uint8Array(layerBytes);
    for (let at = 0; at < layerBytes; at += 65536) crypto.getRandomValues(bytes.subarray(at, Math.min(layerBytes, at + 65536)));
    blobs.push(bytes);
  }
  const digests = blobs.map((b) => sha256Digest(b));
  for (const [i, bytes] of blobs.entries()) {
    const start = await fetch(`${base}/v2/${repository}/blobs/uploads/`, { method: "POST", headers });
    if (start.status !== 202) throw new Error(`upload start on ${repository}: ${start.status} ${await start.text()}`);
    const location = new URL(start.headers.get("location")!, base);
    location.searchParams.set("digest", digests[i]!);
    const put = await fetch(location, { method: "PUT", body: bytes, headers: { ...headers, "Content-Type": "application/octet-stream" } });
    if (put.status !== 201) throw new Error(`blob push to ${repository}: ${put.status} ${await put.text()}`);
  }
  const manifest = new TextEncoder().encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: digests[0], size: blobs[0]!.byteLength },
      layers: blobs.slice(1).map((b, i) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: digests[i + 1], size: b.byteLength })),
    }),
  );
  const res = await fetch(`${base}/v2/${repository}/manifests/${tag}`, { method: "PUT", body: manifest, headers: { ...headers, "Content-Type": OCI_MANIFEST } });
  if (res.status !== 201) throw new Error(`manifest push to ${repository}:${tag}: ${res.status} ${await res.text()}`);
  return { manifestDigest: sha256Digest(manifest), manifest, blobDigests: digests };
}

/** `mcr serve` in a process of its own, from a config file mirroring `upstreamUrl` as `docker.io` (tag_ttl 10m); its data in a new temp dir named `prefix`…. */
export async function startMirrorServer(upstreamUrl: string, prefix: string): Promise<ServerProcess> {
  const dir = tempDir(prefix);
  const config = join(dir, "mcr.toml");
  writeFileSync(config, `[server]\nlisten = "127.0.0.1:0"\n\n[storage]\ndata_dir = "${join(dir, "data")}"\n\n[[upstream]]\nname = "docker.io"\nurl = "${upstreamUrl}"\ntag_ttl = "10m"\n`);
  return startServerProcess({ args: ["--config", config], dataDir: join(dir, "data") });
}
