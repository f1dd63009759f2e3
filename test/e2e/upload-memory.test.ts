/**
 * @module Uploads stream: a 256 MiB blob pushed monolithically and in 8 MiB
 * chunks to a real `mcr serve` keeps the server's resident memory small.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";
import { ADMIN_AUTH } from "../support/credentials.ts";

// Real processes, and the whole suite may run on a loaded machine: more than the default 5 s.
setDefaultTimeout(120_000);

const MiB = 1024 * 1024;
const BLOB_SIZE = 256 * MiB;
const GEN_CHUNK = 1 * MiB;
const PATCH_CHUNK = 8 * MiB;
const RSS_LIMIT = 150 * MiB;
const TIMEOUT_MS = 120_000;

/** Deterministic pseudo-random bytes (xorshift32), produced a chunk at a time. */
class PseudoRandom {
  private x: number;
  constructor(seed: number) {
    this.x = seed >>> 0 || 1;
  }
  /** The next `size` bytes; `size` must be a multiple of 4. */
  next(size: number): Uint8Array {
    const words = new Uint32Array(size / 4);
    let x = this.x;
    for (let i = 0; i < words.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      words[i] = x;
    }
    this.x = x;
    return new Uint8Array(words.buffer);
  }
}

/** The digest of the blob `seed` generates, computed without holding it. */
function blobDigest(seed: number): string {
  const gen = new PseudoRandom(seed);
  const hasher = new Bun.CryptoHasher("sha256");
  for (let done = 0; done < BLOB_SIZE; done += GEN_CHUNK) hasher.update(gen.next(GEN_CHUNK));
  return `sha256:${hasher.digest("hex")}`;
}

/** The blob `seed` generates, as a stream that makes each chunk when asked for it. */
function blobStream(seed: number): ReadableStream<Uint8Array> {
  const gen = new PseudoRandom(seed);
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= BLOB_SIZE) return controller.close();
      controller.enqueue(gen.next(GEN_CHUNK));
      sent += GEN_CHUNK;
    },
  });
}

/** Samples the server's RSS every 50 ms; `stop` gives the peak, VmHWM included. */
function rssSampler(server: ServerProcess) {
  let peak = 0;
  let samples = 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, server.rssBytes());
    samples++;
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      return { sampledPeak: peak, hwm: server.peakRssBytes(), samples };
    },
  };
}

async function expectStatus(res: Response, status: number, what: string): Promise<Response> {
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status}: ${await res.text()}`);
  return res;
}

/** Opens an upload session; returns its absolute URL. */
async function startUpload(server: ServerProcess, repo: string): Promise<URL> {
  const res = await expectStatus(await fetch(`${server.url}/v2/${repo}/blobs/uploads/`, { method: "POST", headers: { Authorization: ADMIN_AUTH } }), 202, "POST upload");
  return new URL(res.headers.get("location") ?? "", server.url);
}

async function finishUpload(location: URL, digest: string, body?: ReadableStream<Uint8Array>): Promise<void> {
  const url = new URL(location);
  url.searchParams.set("digest", digest);
  const headers = { "Content-Type": "application/octet-stream", Authorization: ADMIN_AUTH };
  const res = await fetch(url, { method: "PUT", body: body ?? null, headers });
  await expectStatus(res, 201, "PUT upload");
  expect(res.headers.get("docker-content-digest")).toBe(digest);
}

async function uploadMonolithic(server: ServerProcess, repo: string, seed: number, digest: string): Promise<void> {
  await finishUpload(await startUpload(server, repo), digest, blobStream(seed));
}

async function uploadChunked(server: ServerProcess, repo: string, seed: number, digest: string): Promise<void> {
  const gen = new PseudoRandom(seed);
  let location = await startUpload(server, repo);
  for (let start = 0; start < BLOB_SIZE; start += PATCH_CHUNK) {
    const end = start + PATCH_CHUNK - 1;
    const headers = {
      "Content-Type": "application/octet-stream",
      "Content-Range": `${start}-${end}`,
      "Content-Length": String(PATCH_CHUNK),
      Authorization: ADMIN_AUTH,
    };
    const res = await fetch(location, { method: "PATCH", headers, body: gen.next(PATCH_CHUNK) });
    await expectStatus(res, 202, `PATCH ${start}-${end}`);
    expect(res.headers.get("range")).toBe(`0-${end}`);
    location = new URL(res.headers.get("location") ?? "", server.url);
  }
  await finishUpload(location, digest);
}

/** GETs a blob as a stream; returns its Content-Length, digest and byte count. */
async function fetchBlob(server: ServerProcess, repo: string, digest: string) {
  const res = await expectStatus(await fetch(`${server.url}/v2/${repo}/blobs/${digest}`, { headers: { Authorization: ADMIN_AUTH } }), 200, "GET blob");
  const hasher = new Bun.CryptoHasher("sha256");
  let bytes = 0;
  for await (const chunk of res.body ?? []) {
    hasher.update(chunk);
    bytes += chunk.byteLength;
  }
  return { contentLength: Number(res.headers.get("content-length")), digest: `sha256:${hasher.digest("hex")}`, bytes };
}

const mib = (bytes: number) => (bytes / MiB).toFixed(1);

describe("upload memory with a real server", () => {
  let server: ServerProcess;
  const blobs = [
    { how: "monolithic PUT", repo: "e2e/mono", seed: 0x5eed0001, upload: uploadMonolithic },
    { how: "32 x 8 MiB PATCH", repo: "e2e/chunked", seed: 0x5eed0002, upload: uploadChunked },
  ];
  const digests = new Map<string, string>();

  beforeAll(async () => {
    server = await startServerProcess();
    for (const blob of blobs) digests.set(blob.repo, blobDigest(blob.seed));
    console.log(`server idle RSS ${mib(server.rssBytes())} MiB`);
  });

  afterAll(async () => {
    await server?.stop();
  });

  for (const blob of blobs) {
    test(`a 256 MiB ${blob.how} keeps server RSS under 150 MiB`, async () => {
      const digest = digests.get(blob.repo)!;
      const sampler = rssSampler(server);
      const started = performance.now();
      try {
        await blob.upload(server, blob.repo, blob.seed, digest);
      } finally {
        const { sampledPeak, hwm, samples } = sampler.stop();
        const seconds = (performance.now() - started) / 1000;
        console.log(
          `${blob.how}: ${seconds.toFixed(1)} s, ${samples} samples, sampled peak RSS ${mib(sampledPeak)} MiB, VmHWM ${mib(hwm)} MiB`,
        );
        expect(samples).toBeGreaterThan(0);
        expect(Math.max(sampledPeak, hwm)).toBeLessThan(RSS_LIMIT);
      }
    }, TIMEOUT_MS);
  }

  test("both blobs read back whole and intact", async () => {
    for (const blob of blobs) {
      const digest = digests.get(blob.repo)!;
      const got = await fetchBlob(server, blob.repo, digest);
      expect(got.contentLength).toBe(BLOB_SIZE);
      expect(got.bytes).toBe(BLOB_SIZE);
      expect(got.digest).toBe(digest);
    }
    console.log(`after reads: RSS ${mib(server.rssBytes())} MiB, VmHWM ${mib(server.peakRssBytes())} MiB`);
  }, TIMEOUT_MS);
});
