/**
 * @module Content discovery: `GET /v2/<name>/tags/list` in lexical order,
 * with `n`/`last` pagination and the `Link` header.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sha256Digest } from "../../../lib/oci/digest.ts";
import type { TestApp } from "../../support/app.ts";
import { pushBlob, pushImage, pushManifest } from "../../support/blobs.ts";
import { expectOciError, recordingApp, serverErrors, type Seen } from "../../support/oci-checks.ts";

const seen: Seen[] = [];
let t: TestApp;
beforeAll(async () => {
  t = await recordingApp(seen);
});
afterAll(() => t.close());

/** Pushes one image to `repo` and tags it with every tag in `tags`. */
async function tagged(repo: string, tags: string[]) {
  const first = tags[0] ?? "first";
  const { bytes } = await pushImage(t, repo, first);
  for (const tag of tags.slice(1)) {
    const res = await pushManifest(t, repo, tag, bytes);
    expect(res.status).toBe(201);
  }
}

async function list(path: string) {
  const res = await t.request("GET", path);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type") ?? "").toStartWith("application/json");
  return { body: (await res.json()) as { name: string; tags: string[] }, link: res.headers.get("link") };
}

/** The path and query a `Link: <...>; rel="next"` header points to. */
function nextOf(link: string | null): string {
  const match = /^<([^>]+)>;\s*rel="next"$/.exec(link ?? "");
  expect(match).not.toBeNull();
  const url = new URL(match?.[1] ?? "", "http://registry.test");
  return url.pathname + url.search;
}

const tags = ["v2", "latest", "v1", "1.0", "alpha", "v10", "beta", "_internal"];
const sorted = [...tags].sort();

describe("listing", () => {
  beforeAll(async () => {
    await tagged("tl/app", tags);
  });

  test("all tags, lexically sorted, with the repository name", async () => {
    const { body, link } = await list("/v2/tl/app/tags/list");
    expect(body).toEqual({ name: "tl/app", tags: sorted });
    expect(link).toBeNull();
  });

  test("a repository with one segment and one with several", async () => {
    await tagged("solo", ["x"]);
    await tagged("tl/a/b/c/d", ["y"]);
    expect((await list("/v2/solo/tags/list")).body).toEqual({ name: "solo", tags: ["x"] });
    expect((await list("/v2/tl/a/b/c/d/tags/list")).body).toEqual({ name: "tl/a/b/c/d", tags: ["y"] });
  });

  test("a repository whose manifests were pushed by digest only lists no tags", async () => {
    const config = await pushBlob(t, "tl/digests-only", "{}");
    const manifest = {
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: config, size: 2 },
      layers: [],
    };
    const bytes = new TextEncoder().encode(JSON.stringify(manifest));
    expect((await pushManifest(t, "tl/digests-only", sha256Digest(bytes), bytes)).status).toBe(201);
    expect((await list("/v2/tl/digests-only/tags/list")).body).toEqual({ name: "tl/digests-only", tags: [] });
  });

  test("a repository with only a blob lists no tags", async () => {
    await pushBlob(t, "tl/blob-only", "just a blob");
    expect((await list("/v2/tl/blob-only/tags/list")).body).toEqual({ name: "tl/blob-only", tags: [] });
  });

  // The spec: "the tags MUST be in lexical order (i.e. case-insensitive alphanumeric order)".
  test("mixed-case tags sort case-insensitively, as the spec words it", async () => {
    await tagged("tl/case", ["b", "A", "a", "B", "C"]);
    const { body } = await list("/v2/tl/case/tags/list");
    expect(body.tags.map((tag) => tag.toLowerCase())).toEqual(["a", "a", "b", "b", "c"]);
  });

  test("paging through mixed-case tags returns each exactly once, in the same order", async () => {
    await tagged("tl/case-paged", ["b", "A", "a", "B", "C", "c"]);
    const whole = (await list("/v2/tl/case-paged/tags/list")).body.tags;
    const collected: string[] = [];
    let path: string | null = "/v2/tl/case-paged/tags/list?n=2";
    for (let pages = 0; path !== null && pages < 10; pages += 1) {
      const { body, link } = await list(path);
      collected.push(...body.tags);
      path = link === null ? null : nextOf(link);
    }
    expect(collected).toEqual(whole);
    expect([...collected].sort()).toEqual(["A", "B", "C", "a", "b", "c"]);
    // Pages that end on an upper-case tag: the cursor is compared case-insensitively too.
    for (const n of [1, 3]) {
      const again: string[] = [];
      let next: string | null = `/v2/tl/case-paged/tags/list?n=${n}`;
      for (let pages = 0; next !== null && pages < 10; pages += 1) {
        const { body, link } = await list(next);
        again.push(...body.tags);
        next = link === null ? null : nextOf(link);
      }
      expect(again).toEqual(whole);
    }
  });
});

describe("pagination", () => {
  beforeAll(async () => {
    await tagged("tl/paged", tags);
  });

  test("n limits the page and Link points to the next one", async () => {
    const { body, link } = await list("/v2/tl/paged/tags/list?n=3");
    expect(body.tags).toEqual(sorted.slice(0, 3));
    expect(nextOf(link)).toBe(`/v2/tl/paged/tags/list?n=3&last=${encodeURIComponent(sorted[2] ?? "")}`);
  });

  test("following Link pages through every tag exactly once", async () => {
    const collected: string[] = [];
    let path: string | null = "/v2/tl/paged/tags/list?n=3";
    let pages = 0;
    while (path !== null) {
      const { body, link } = await list(path);
      expect(body.tags.length).toBeLessThanOrEqual(3);
      collected.push(...body.tags);
      path = link === null ? null : nextOf(link);
      pages += 1;
      expect(pages).toBeLessThan(10);
    }
    expect(collected).toEqual(sorted);
    expect(pages).toBe(3);
  });

  test("last alone lists what follows it, without a Link", async () => {
    const { body, link } = await list(`/v2/tl/paged/tags/list?last=${sorted[4]}`);
    expect(body.tags).toEqual(sorted.slice(5));
    expect(link).toBeNull();
  });

  test("last need not be an existing tag", async () => {
    const { body } = await list("/v2/tl/paged/tags/list?last=u");
    expect(body.tags).toEqual(sorted.filter((tag) => tag > "u"));
  });

  test("last past the end gives an empty page", async () => {
    const { body, link } = await list("/v2/tl/paged/tags/list?n=5&last=zzz");
    expect(body).toEqual({ name: "tl/paged", tags: [] });
    expect(link).toBeNull();
  });

  test("n equal to the number of tags gives all, and no Link", async () => {
    const { body, link } = await list(`/v2/tl/paged/tags/list?n=${tags.length}`);
    expect(body.tags).toEqual(sorted);
    expect(link).toBeNull();
  });

  test("n larger than the number of tags gives all, and no Link", async () => {
    const { body, link } = await list("/v2/tl/paged/tags/list?n=1000");
    expect(body.tags).toEqual(sorted);
    expect(link).toBeNull();
  });

  test("n=0 gives an empty list and no Link", async () => {
    const { body, link } = await list("/v2/tl/paged/tags/list?n=0");
    expect(body).toEqual({ name: "tl/paged", tags: [] });
    expect(link).toBeNull();
  });

  test("n and last together", async () => {
    const { body, link } = await list(`/v2/tl/paged/tags/list?n=2&last=${sorted[1]}`);
    expect(body.tags).toEqual(sorted.slice(2, 4));
    expect(nextOf(link)).toBe(`/v2/tl/paged/tags/list?n=2&last=${encodeURIComponent(sorted[3] ?? "")}`);
  });

  for (const n of ["-1", "abc", "1.5", "1e3", "0x10", "9999999999", " 3"]) {
    test(`n=${JSON.stringify(n)} → 400 PAGINATION_NUMBER_INVALID`, async () => {
      const res = await t.request("GET", `/v2/tl/paged/tags/list?n=${encodeURIComponent(n)}`);
      await expectOciError(res, 400, "PAGINATION_NUMBER_INVALID");
    });
  }
});

describe("errors", () => {
  test("an unknown repository → 404 NAME_UNKNOWN", async () => {
    const error = await expectOciError(await t.request("GET", "/v2/tl/nobody/here/tags/list"), 404, "NAME_UNKNOWN");
    expect(error.detail).toEqual({ name: "tl/nobody/here" });
  });

  test("an invalid repository name → 400 NAME_INVALID", async () => {
    await expectOciError(await t.request("GET", "/v2/TL/Upper/tags/list"), 400, "NAME_INVALID");
    await expectOciError(await t.request("GET", `/v2/${"a".repeat(256)}/tags/list`), 400, "NAME_INVALID");
  });

  test("a method the tag list lacks → 405 UNSUPPORTED", async () => {
    await expectOciError(await t.request("POST", "/v2/tl/app/tags/list"), 405, "UNSUPPORTED");
  });
});

describe("robustness", () => {
  test("no response in this file was a 500", () => {
    expect(seen.length).toBeGreaterThan(30);
    expect(serverErrors(seen)).toEqual([]);
  });
});
