/**
 * @module The referrers API in bounded memory: 300 referrers of one subject,
 * each a 1 MiB manifest (a huge annotation), pushed to a real `mcr serve`;
 * six referrers requests at a time, paged or not, leave the
 * server's resident memory within a few tens of MiB of where it was, and
 * following `Link` lists every referrer exactly once. (Before, one request
 * read and parsed every referrer's content: 300 MiB and more per request.)
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";
import { clientFor, digestOf, EMPTY_DESCRIPTOR, imageManifest, nextLink, randomBytes, type Client, type Descriptor } from "../conformance/client.ts";

// Real processes, 300 MiB of manifests, and a loaded machine: more than the default 5 s.
setDefaultTimeout(300_000);

const MiB = 1024 * 1024;
const REFERRERS = 300;
const ANNOTATION_BYTES = 1 * MiB;
/** How far RSS may rise above its level before the requests; one unbounded request took 300 MiB and more. */
const RSS_RISE_LIMIT = 64 * MiB;
const REPO = "mem/referrers";
const SIG = "application/vnd.example.signature.v1";
const SBOM = "application/vnd.example.sbom.v1";

let server: ServerProcess;
let c: Client;
let subject: Descriptor;
const pushed = new Map<string, string>();

beforeAll(async () => {
  server = await startServerProcess();
  c = clientFor(server);
  subject = (await c.pushImage(REPO, "app")).descriptor;
  const payload = await c.pushBlob(REPO, randomBytes(16));
  const layer: Descriptor = { mediaType: "application/octet-stream", digest: payload, size: 16 };
  const filler = "a".repeat(ANNOTATION_BYTES);
  // A few pushes at a time: the point is what is stored, not how fast it got there.
  for (let i = 0; i < REFERRERS; i += 4) {
    await Promise.all(
      Array.from({ length: Math.min(4, REFERRERS - i) }, async (_, j) => {
        const type = (i + j) % 2 === 0 ? SIG : SBOM;
        const bytes = imageManifest({
          artifactType: type,
          config: EMPTY_DESCRIPTOR,
          layers: [layer],
          subject,
          annotations: { "org.example.n": String(i + j), "org.example.filler": filler },
        });
        pushed.set(await c.pushManifest(REPO, digestOf(bytes), bytes), type);
      }),
    );
  }
});

afterAll(async () => {
  await server?.stop();
});

/** Samples the server's RSS every 20 ms while `work` runs; returns the peak. */
async function peakRssDuring(work: () => Promise<unknown>): Promise<number> {
  let peak = server.rssBytes();
  const timer = setInterval(() => (peak = Math.max(peak, server.rssBytes())), 20);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, server.rssBytes());
}

/** Every referrer listed by following `Link` from `path`. */
async function walk(path: string): Promise<Descriptor[]> {
  const listed: Descriptor[] = [];
  let pages = 0;
  for (let next: string | undefined = path; next !== undefined; pages++) {
    const res = await c.request("GET", next);
    expect(res.status).toBe(200);
    listed.push(...(res.json() as { manifests: Descriptor[] }).manifests);
    next = nextLink(res);
  }
  // Pages of at most n: more than one here.
  expect(pages).toBeGreaterThan(1);
  return listed;
}

test("six referrers requests at a time keep the server's memory bounded", async () => {
  const base = `/v2/${REPO}/referrers/${subject.digest}`;
  // One warm-up, so code paths compiled on first use are not counted.
  await c.request("GET", base);
  const before = server.rssBytes();
  let last: Awaited<ReturnType<Client["request"]>>[] = [];
  const peak = await peakRssDuring(async () => {
    for (let round = 0; round < 3; round++) {
      last = await Promise.all([
        c.request("GET", base),
        c.request("GET", base),
        c.request("GET", `${base}?n=50`),
        c.request("GET", `${base}?artifactType=${encodeURIComponent(SIG)}`),
        c.request("GET", base),
        c.request("GET", `${base}?n=1000`),
      ]);
    }
  });
  const rise = peak - before;
  console.log(`referrers: RSS ${(before / MiB).toFixed(0)} MiB before, peak ${(peak / MiB).toFixed(0)} MiB (+${(rise / MiB).toFixed(1)} MiB)`);
  expect(rise).toBeLessThan(RSS_RISE_LIMIT);
  for (const res of last) expect(res.status).toBe(200);
  const whole = last[0]!.json() as { manifests: Descriptor[] };
  expect(whole.manifests.length).toBe(REFERRERS);
  // Each descriptor carries the small annotation; the 1 MiB one is over the cap.
  expect(whole.manifests.every((m) => m.annotations?.["org.example.n"] !== undefined && m.annotations["org.example.filler"] === undefined)).toBe(true);
  expect(last[0]!.body.byteLength).toBeLessThan(REFERRERS * 1024);
});

test("following Link pages lists every referrer exactly once, with and without a filter", async () => {
  const all = await walk(`/v2/${REPO}/referrers/${subject.digest}?n=64`);
  const digests = all.map((m) => m.digest);
  expect(new Set(digests).size).toBe(digests.length);
  expect(digests.sort()).toEqual([...pushed.keys()].sort());
  const sboms = await walk(`/v2/${REPO}/referrers/${subject.digest}?n=32&artifactType=${encodeURIComponent(SBOM)}`);
  expect(sboms.every((m) => m.artifactType === SBOM)).toBe(true);
  expect(sboms.map((m) => m.digest).sort()).toEqual([...pushed].filter(([, t]) => t === SBOM).map(([d]) => d).sort());
});
