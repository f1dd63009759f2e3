/**
 * @module OCI Distribution Spec v1.1 conformance, workflow "Content Discovery"
 * (end-8a/b tags, end-12a/b referrers, and mcr's /v2/_catalog) over HTTP.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";
import {
  clientFor,
  type Client,
  EMPTY_DESCRIPTOR,
  OCI_INDEX,
  OCI_MANIFEST,
  digestOf,
  expectError,
  expectStatus,
  imageIndex,
  imageManifest,
  nextLink,
  randomBytes,
  randomRepo,
  unknownDigest,
  type Descriptor,
  type PushedImage,
  type Reply,
} from "./client.ts";

let server: ServerProcess;
let c: Client;

/** Tags pushed in a scrambled order; all lowercase, so byte and case-insensitive order agree. */
const TAGS = ["v2", "latest", "1.0", "alpha", "v10", "beta_1", "0.9", "v1", "zeta", "b-2"];
const SORTED = [...TAGS].sort();
const tagRepo = randomRepo("disc-tags");
let tagImage: PushedImage;

beforeAll(async () => {
  server = await startServerProcess();
  c = clientFor(server);
  tagImage = await c.pushImage(tagRepo, TAGS[0]!);
  for (const tag of TAGS.slice(1)) await c.pushManifest(tagRepo, tag, tagImage.manifest);
});

afterAll(async () => {
  await server?.stop();
});

interface TagList {
  name: string;
  tags: string[];
}

/** GET the tag list at `path` and check its shape. */
async function tagList(path: string): Promise<{ res: Reply; body: TagList }> {
  const res = await c.request("GET", path);
  expectStatus(res, 200);
  const body = res.json() as TagList;
  expect(Array.isArray(body.tags)).toBe(true);
  return { res, body };
}

describe("end-8a listing tags", () => {
  test('"this request MUST return a 200 OK" with {"name", "tags"}, "the tags MUST be in lexical order"', async () => {
    const { res, body } = await tagList(`/v2/${tagRepo}/tags/list`);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(body).toEqual({ name: tagRepo, tags: SORTED });
    expect(nextLink(res)).toBeUndefined();
  });

  test('"lexical order (i.e. case-insensitive alphanumeric order)" with mixed-case tags', async () => {
    const repo = randomRepo("disc-case");
    const image = await c.pushImage(repo, "gamma");
    for (const tag of ["Delta", "alpha", "Beta"]) await c.pushManifest(repo, tag, image.manifest);
    const { body } = await tagList(`/v2/${repo}/tags/list`);
    expect(body.tags).toEqual(["alpha", "Beta", "Delta", "gamma"]);
  });

  test('"The list of tags MAY be empty": a repository holding only untagged manifests → 200 and []', async () => {
    const repo = randomRepo("disc-untagged");
    const image = await c.pushImage(repo, "tmp");
    expectStatus(await c.request("DELETE", `/v2/${repo}/manifests/tmp`), 202);
    expectStatus(await c.request("HEAD", `/v2/${repo}/manifests/${image.digest}`), 200);
    const { body } = await tagList(`/v2/${repo}/tags/list`);
    expect(body).toEqual({ name: repo, tags: [] });
  });

  test("end-8a failure 404: an unknown repository → 404 NAME_UNKNOWN", async () => {
    expectError(await c.request("GET", `/v2/${randomRepo("nowhere")}/tags/list`), 404, "NAME_UNKNOWN");
  });
});

describe("end-8b tags pagination", () => {
  test('?n=<int>: "the response MUST include <int> results", starting at the beginning, with a Link rel="next"', async () => {
    const { res, body } = await tagList(`/v2/${tagRepo}/tags/list?n=3`);
    expect(body.tags).toEqual(SORTED.slice(0, 3));
    // "If included, the Link header MUST be set according to RFC5988 with the Relation Type rel="next"."
    expect(res.headers.get("link")).toMatch(/^<[^>]+>;\s*rel="next"$/);
  });

  test("following Link headers walks every tag once, in order", async () => {
    const seen: string[] = [];
    let path: string | undefined = `/v2/${tagRepo}/tags/list?n=4`;
    let pages = 0;
    while (path !== undefined) {
      const { res, body }: { res: Reply; body: TagList } = await tagList(path);
      expect(body.name).toBe(tagRepo);
      // "MAY return fewer than <int> results, but only when the total number of tags ... is less than <int> or a Link header is provided"
      if (nextLink(res) === undefined) expect(body.tags.length).toBeLessThanOrEqual(4);
      else expect(body.tags.length).toBe(4);
      seen.push(...body.tags);
      path = nextLink(res);
      expect(++pages).toBeLessThan(10);
    }
    expect(seen).toEqual(SORTED);
  });

  test('"When n is zero, this endpoint MUST return an empty list, and MUST NOT include a Link header"', async () => {
    const { res, body } = await tagList(`/v2/${tagRepo}/tags/list?n=0`);
    expect(body.tags).toEqual([]);
    expect(res.headers.get("link")).toBeNull();
  });

  test("n larger than the number of tags → every tag and no Link", async () => {
    const { res, body } = await tagList(`/v2/${tagRepo}/tags/list?n=1000`);
    expect(body.tags).toEqual(SORTED);
    expect(res.headers.get("link")).toBeNull();
  });

  test("n equal to the number of tags → every tag and no Link (nothing remains)", async () => {
    const { res, body } = await tagList(`/v2/${tagRepo}/tags/list?n=${TAGS.length}`);
    expect(body.tags).toEqual(SORTED);
    expect(res.headers.get("link")).toBeNull();
  });

  test('?n&last: "up to <int> tags *after* <tagname>", "<tagname> will not be included"', async () => {
    const last = SORTED[2]!;
    const { body } = await tagList(`/v2/${tagRepo}/tags/list?n=3&last=${last}`);
    expect(body.tags).toEqual(SORTED.slice(3, 6));
  });

  test('"When using the last query parameter, the n parameter is OPTIONAL"', async () => {
    const last = SORTED[6]!;
    const { body } = await tagList(`/v2/${tagRepo}/tags/list?last=${last}`);
    expect(body.tags).toEqual(SORTED.slice(7));
  });

  test("last = the final tag → an empty list", async () => {
    const { res, body } = await tagList(`/v2/${tagRepo}/tags/list?n=5&last=${SORTED.at(-1)!}`);
    expect(body.tags).toEqual([]);
    expect(res.headers.get("link")).toBeNull();
  });

  test("last need not be an existing tag: the list resumes after its value", async () => {
    const { body } = await tagList(`/v2/${tagRepo}/tags/list?last=c`);
    expect(body.tags).toEqual(SORTED.filter((t) => t > "c"));
  });

  test("an invalid n → 400 PAGINATION_NUMBER_INVALID", async () => {
    for (const n of ["abc", "-1", "1.5"]) {
      expectError(await c.request("GET", `/v2/${tagRepo}/tags/list?n=${n}`), 400, "PAGINATION_NUMBER_INVALID");
    }
  });
});

describe("/v2/_catalog (Docker Registry API extension, paginated like end-8b)", () => {
  interface Catalog {
    repositories: string[];
  }
  const catalogRepos = ["disc-cat/c", "disc-cat/a", "disc-cat/b/nested", "disc-cat/d"];

  beforeAll(async () => {
    for (const repo of catalogRepos) await c.pushImage(repo, "v1", { layerSize: 16 });
  });

  test("lists every repository holding content, sorted", async () => {
    const res = await c.request("GET", "/v2/_catalog");
    expectStatus(res, 200);
    const body = res.json() as Catalog;
    expect(body.repositories).toEqual([...body.repositories].sort());
    for (const repo of [...catalogRepos, tagRepo]) expect(body.repositories).toContain(repo);
  });

  test('?n with Link rel="next" walks the whole catalog once, in order', async () => {
    const all = ((await c.request("GET", "/v2/_catalog")).json() as Catalog).repositories;
    const seen: string[] = [];
    let path: string | undefined = "/v2/_catalog?n=2";
    let pages = 0;
    while (path !== undefined) {
      const res = await c.request("GET", path);
      expectStatus(res, 200);
      const page = (res.json() as Catalog).repositories;
      if (nextLink(res) !== undefined) expect(page.length).toBe(2);
      seen.push(...page);
      path = nextLink(res);
      expect(++pages).toBeLessThan(100);
    }
    expect(seen).toEqual(all);
  });

  test("?last resumes after the named repository", async () => {
    const res = await c.request("GET", "/v2/_catalog?n=2&last=disc-cat/a");
    expectStatus(res, 200);
    expect((res.json() as Catalog).repositories).toEqual(["disc-cat/b/nested", "disc-cat/c"]);
  });

  test("n=0 → empty list and no Link", async () => {
    const res = await c.request("GET", "/v2/_catalog?n=0");
    expectStatus(res, 200);
    expect((res.json() as Catalog).repositories).toEqual([]);
    expect(res.headers.get("link")).toBeNull();
  });

  test("an invalid n → 400 PAGINATION_NUMBER_INVALID", async () => {
    expectError(await c.request("GET", "/v2/_catalog?n=x"), 400, "PAGINATION_NUMBER_INVALID");
  });
});

describe("end-12a/12b listing referrers", () => {
  interface Index {
    schemaVersion: number;
    mediaType: string;
    manifests: Descriptor[];
  }
  const repo = randomRepo("disc-ref");
  const SBOM = "application/vnd.example.sbom.v1";
  const SIG = "application/vnd.example.signature.v1";
  const CUSTOM_CONFIG = "application/vnd.example.config.v1+json";
  let subject: PushedImage;
  const expected: Descriptor[] = [];

  /** Pushes `bytes` by digest and records its expected referrers descriptor. */
  async function pushReferrer(bytes: Uint8Array, mediaType: string, descriptor: Partial<Descriptor>): Promise<Descriptor> {
    const digest = await c.pushManifest(repo, digestOf(bytes), bytes, mediaType);
    const d: Descriptor = { mediaType, digest, size: bytes.byteLength, ...descriptor };
    expected.push(d);
    return d;
  }

  /** GET the referrers of `digest` in `name`, checking the parts every answer must have. */
  async function referrers(name: string, digest: string, query = ""): Promise<{ res: Reply; index: Index }> {
    const res = await c.request("GET", `/v2/${name}/referrers/${digest}${query}`);
    // "If the registry supports the referrers API, the registry MUST NOT return a 404 Not Found"
    expectStatus(res, 200);
    // "The Content-Type header MUST be set to application/vnd.oci.image.index.v1+json."
    expect(res.headers.get("content-type")).toBe(OCI_INDEX);
    const index = res.json() as Index;
    expect(index.schemaVersion).toBe(2);
    expect(index.mediaType).toBe(OCI_INDEX);
    expect(Array.isArray(index.manifests)).toBe(true);
    return { res, index };
  }

  /** Descriptors in a stable order, for comparing lists whose order the spec leaves open. */
  function byDigest(list: Descriptor[]): Descriptor[] {
    return [...list].sort((a, b) => a.digest.localeCompare(b.digest));
  }

  beforeAll(async () => {
    subject = await c.pushImage(repo, "app");
    const s = subject.descriptor;
    const blob = await c.pushBlob(repo, randomBytes(40));
    const layer: Descriptor = { mediaType: "application/octet-stream", digest: blob, size: 40 };

    // An artifact with artifactType and annotations.
    await pushReferrer(
      imageManifest({ artifactType: SBOM, config: EMPTY_DESCRIPTOR, layers: [layer], subject: s, annotations: { "org.example.sbom.format": "json" } }),
      OCI_MANIFEST,
      { artifactType: SBOM, annotations: { "org.example.sbom.format": "json" } },
    );
    await pushReferrer(
      imageManifest({ artifactType: SIG, config: EMPTY_DESCRIPTOR, layers: [layer], subject: s, annotations: { "org.example.fingerprint": "abcd" } }),
      OCI_MANIFEST,
      { artifactType: SIG, annotations: { "org.example.fingerprint": "abcd" } },
    );
    // An image manifest without artifactType: the config mediaType stands in.
    const configBytes = new TextEncoder().encode(`{"kind":"custom"}`);
    const config: Descriptor = { mediaType: CUSTOM_CONFIG, digest: await c.pushBlob(repo, configBytes), size: configBytes.byteLength };
    await pushReferrer(imageManifest({ config, layers: [layer], subject: s }), OCI_MANIFEST, { artifactType: CUSTOM_CONFIG });
    // An index without artifactType: "the artifactType MUST be omitted".
    await pushReferrer(imageIndex({ manifests: [], subject: s, annotations: { "org.example.kind": "bundle" } }), OCI_INDEX, {
      annotations: { "org.example.kind": "bundle" },
    });
    // An index with artifactType.
    await pushReferrer(imageIndex({ manifests: [], subject: s, artifactType: SBOM }), OCI_INDEX, { artifactType: SBOM });
  });

  test('"Each descriptor is of an image manifest or index ... with a subject field that specifies the value of <digest>"', async () => {
    const { res, index } = await referrers(repo, subject.digest);
    expect(byDigest(index.manifests)).toEqual(byDigest(expected));
    // Unfiltered: no OCI-Filters-Applied.
    expect(res.headers.get("oci-filters-applied")).toBeNull();
  });

  test('"If the artifactType is empty or missing in an index, the artifactType MUST be omitted"', async () => {
    const { index } = await referrers(repo, subject.digest);
    const bundle = index.manifests.find((d) => d.annotations?.["org.example.kind"] === "bundle");
    expect(bundle).toBeDefined();
    expect(bundle && "artifactType" in bundle).toBe(false);
  });

  test('"If filtering is requested and applied, the response MUST include a header OCI-Filters-Applied: artifactType"', async () => {
    const { res, index } = await referrers(repo, subject.digest, `?artifactType=${encodeURIComponent(SBOM)}`);
    expect(res.headers.get("oci-filters-applied")).toBe("artifactType");
    expect(byDigest(index.manifests)).toEqual(byDigest(expected.filter((d) => d.artifactType === SBOM)));
    expect(index.manifests.length).toBe(2);
  });

  test("filtering by the config mediaType that stands in for artifactType", async () => {
    const { index } = await referrers(repo, subject.digest, `?artifactType=${encodeURIComponent(CUSTOM_CONFIG)}`);
    expect(index.manifests.map((d) => d.artifactType)).toEqual([CUSTOM_CONFIG]);
  });

  test("a filter that matches nothing → 200, empty list, OCI-Filters-Applied", async () => {
    const { res, index } = await referrers(repo, subject.digest, "?artifactType=application/vnd.example.none");
    expect(index.manifests).toEqual([]);
    expect(res.headers.get("oci-filters-applied")).toBe("artifactType");
  });

  test('"If a query results in no matching referrers, an empty manifest list MUST be returned"', async () => {
    const { index } = await referrers(repo, tagImage.digest);
    expect(index.manifests).toEqual([]);
    const unknown = await referrers(repo, unknownDigest());
    expect(unknown.index.manifests).toEqual([]);
  });

  test('"MUST NOT return a 404 Not Found to a referrers API request": unknown repository → 200 empty index', async () => {
    const { index } = await referrers(randomRepo("nowhere"), subject.digest);
    expect(index.manifests).toEqual([]);
  });

  test('"in the same <name> namespace": a referrer pushed to another repository is not listed here', async () => {
    const other = randomRepo("disc-ref-other");
    const blob = await c.pushBlob(other, randomBytes(10));
    const foreign = imageManifest({
      artifactType: SIG,
      config: EMPTY_DESCRIPTOR,
      layers: [{ mediaType: "application/octet-stream", digest: blob, size: 10 }],
      subject: subject.descriptor,
    });
    const digest = await c.pushManifest(other, digestOf(foreign), foreign);
    const here = await referrers(repo, subject.digest);
    expect(here.index.manifests.map((d) => d.digest)).not.toContain(digest);
    const there = await referrers(other, subject.digest);
    expect(there.index.manifests.map((d) => d.digest)).toEqual([digest]);
  });

  test("a referrer pushed before its subject is listed (push in either order)", async () => {
    const orphanRepo = randomRepo("disc-ref-orphan");
    const future: Descriptor = { mediaType: OCI_MANIFEST, digest: unknownDigest(), size: 500 };
    const blob = await c.pushBlob(orphanRepo, randomBytes(10));
    const early = imageManifest({
      artifactType: SIG,
      config: EMPTY_DESCRIPTOR,
      layers: [{ mediaType: "application/octet-stream", digest: blob, size: 10 }],
      subject: future,
    });
    const digest = await c.pushManifest(orphanRepo, digestOf(early), early);
    const { index } = await referrers(orphanRepo, future.digest);
    expect(index.manifests).toEqual([{ mediaType: OCI_MANIFEST, digest, size: early.byteLength, artifactType: SIG }]);
  });

  test('"If the request is invalid, such as a <digest> with an invalid syntax, a 400 Bad Request MUST be returned"', async () => {
    const res = await c.request("GET", `/v2/${repo}/referrers/sha256:not-a-digest`);
    expectError(res, 400, "DIGEST_INVALID");
  });
});

test("Errors: no request in the content discovery workflow was answered with a 5xx", () => {
  expect(c.serverErrors()).toEqual([]);
  // Spec "Warnings": any Warning header is `299 - "<text>"`, at most 4096 bytes in all.
  expect(c.badWarnings).toEqual([]);
});
