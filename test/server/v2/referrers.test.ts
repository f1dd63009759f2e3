/**
 * @module The referrers API's bounds: pages of at most `n` (and
 * REFERRERS_PAGE_MAX) with a `Link` to the next, the `artifactType` filter
 * kept across pages, annotations capped per descriptor, and a deleted
 * referrer gone from the list. (The spec's conformance is in
 * test/conformance/content-discovery.test.ts; memory in test/e2e/referrers-memory.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { REFERRER_ANNOTATIONS_MAX_BYTES, REFERRERS_PAGE_MAX } from "../../../lib/limits.ts";
import { sha256Digest } from "../../../lib/oci/digest.ts";
import { testApp, type TestApp } from "../../support/app.ts";
import { pushBlob, pushImage, pushManifest } from "../../support/blobs.ts";

const REPO = "ref/pages";
const SBOM = "application/vnd.example.sbom.v1";
const SIG = "application/vnd.example.signature.v1";
const EMPTY = { mediaType: "application/vnd.oci.empty.v1+json", digest: sha256Digest("{}"), size: 2 };

interface Index {
  manifests: { digest: string; artifactType?: string; annotations?: Record<string, string> }[];
}

let t: TestApp;
let subject: { mediaType: string; digest: string; size: number };
let layer: { mediaType: string; digest: string; size: number };
const pushed = new Map<string, string>();

/** Pushes a referrer of `subject` by digest; returns its digest. */
async function pushReferrer(artifactType: string, annotations: Record<string, string>, repo = REPO): Promise<string> {
  const bytes = new TextEncoder().encode(
    JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", artifactType, config: EMPTY, layers: [layer], subject, annotations }),
  );
  const digest = sha256Digest(bytes);
  const res = await pushManifest(t, repo, digest, bytes);
  expect(res.status).toBe(201);
  return digest;
}

/** Follows `Link` from `path` to the end; returns every page. */
async function walk(path: string): Promise<{ pages: Index[]; links: string[] }> {
  const pages: Index[] = [];
  const links: string[] = [];
  for (let next: string | null = path; next !== null; ) {
    const res = await t.request("GET", next);
    expect(res.status).toBe(200);
    pages.push((await res.json()) as Index);
    const link = res.headers.get("link");
    next = link === null ? null : link.match(/^<([^>]+)>; rel="next"$/)![1]!;
    if (next !== null) links.push(next);
  }
  return { pages, links };
}

beforeAll(async () => {
  t = await testApp();
  const image = await pushImage(t, REPO, "app");
  subject = { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: image.digest, size: image.bytes.byteLength };
  layer = { mediaType: "application/octet-stream", digest: await pushBlob(t, REPO, "payload"), size: 7 };
  for (let i = 0; i < 25; i++) {
    const type = i % 3 === 0 ? SIG : SBOM;
    pushed.set(await pushReferrer(type, { "org.example.i": String(i) }), type);
  }
});

afterAll(() => t.close());

describe("pagination", () => {
  test("n=7 walks every referrer exactly once over 4 pages, each a Link to the next", async () => {
    const { pages, links } = await walk(`/v2/${REPO}/referrers/${subject.digest}?n=7`);
    expect(pages.map((p) => p.manifests.length)).toEqual([7, 7, 7, 4]);
    const digests = pages.flatMap((p) => p.manifests.map((m) => m.digest));
    expect(new Set(digests).size).toBe(digests.length);
    expect(digests.sort()).toEqual([...pushed.keys()].sort());
    for (const link of links) expect(link).toStartWith(`/v2/${REPO}/referrers/${subject.digest}?n=7&last=sha256%3A`);
  });

  test("the artifactType filter holds on every page and is carried by the Link", async () => {
    const res = await t.request("GET", `/v2/${REPO}/referrers/${subject.digest}?n=4&artifactType=${encodeURIComponent(SIG)}`);
    expect(res.headers.get("oci-filters-applied")).toBe("artifactType");
    expect(res.headers.get("link")).toContain(`artifactType=${encodeURIComponent(SIG)}`);
    const { pages } = await walk(`/v2/${REPO}/referrers/${subject.digest}?n=4&artifactType=${encodeURIComponent(SIG)}`);
    const listed = pages.flatMap((p) => p.manifests);
    expect(listed.every((m) => m.artifactType === SIG)).toBe(true);
    const sigs = [...pushed].filter(([, type]) => type === SIG).map(([d]) => d);
    expect(listed.map((m) => m.digest).sort()).toEqual(sigs.sort());
  });

  test("without n, a page is REFERRERS_PAGE_MAX at most and everything fits here: no Link", async () => {
    const res = await t.request("GET", `/v2/${REPO}/referrers/${subject.digest}`);
    expect(((await res.json()) as Index).manifests.length).toBe(25);
    expect(res.headers.get("link")).toBeNull();
    expect(REFERRERS_PAGE_MAX).toBeGreaterThanOrEqual(100);
  });

  test("n=0 is an empty list and no Link; a bad n is 400", async () => {
    const res = await t.request("GET", `/v2/${REPO}/referrers/${subject.digest}?n=0`);
    expect(((await res.json()) as Index).manifests).toEqual([]);
    expect(res.headers.get("link")).toBeNull();
    expect((await t.request("GET", `/v2/${REPO}/referrers/${subject.digest}?n=-1`)).status).toBe(400);
  });
});

describe("annotations", () => {
  test(`capped at ${REFERRER_ANNOTATIONS_MAX_BYTES} bytes per descriptor: entries that fit are kept whole, in order`, async () => {
    const repo = "ref/big";
    layer = { mediaType: "application/octet-stream", digest: await pushBlob(t, repo, "payload"), size: 7 };
    const annotations = { "org.example.a": "small", "org.example.huge": "x".repeat(100_000), "org.example.b": "also small", "org.example.c": "y".repeat(3000) };
    const digest = await pushReferrer(SBOM, annotations, repo);
    const res = await t.request("GET", `/v2/${repo}/referrers/${subject.digest}`);
    const [entry] = ((await res.json()) as Index).manifests;
    expect(entry!.digest).toBe(digest);
    expect(Object.keys(entry!.annotations!)).toEqual(["org.example.a", "org.example.b", "org.example.c"]);
    expect(Buffer.byteLength(JSON.stringify(entry!.annotations))).toBeLessThanOrEqual(REFERRER_ANNOTATIONS_MAX_BYTES);
    // The manifest itself keeps them all.
    const manifest = (await (await t.request("GET", `/v2/${repo}/manifests/${digest}`)).json()) as { annotations: Record<string, string> };
    expect(manifest.annotations).toEqual(annotations);
  });
});

test("a deleted referrer is no longer listed", async () => {
  const repo = "ref/deleted";
  layer = { mediaType: "application/octet-stream", digest: await pushBlob(t, repo, "payload"), size: 7 };
  const keep = await pushReferrer(SBOM, {}, repo);
  const gone = await pushReferrer(SIG, {}, repo);
  expect((await t.request("DELETE", `/v2/${repo}/manifests/${gone}`)).status).toBe(202);
  const res = await t.request("GET", `/v2/${repo}/referrers/${subject.digest}`);
  expect(((await res.json()) as Index).manifests.map((m) => m.digest)).toEqual([keep]);
});
