/**
 * @module Pull: `GET`/`HEAD /v2/<name>/blobs/<digest>` with their headers,
 * byte ranges, and the errors for unknown, unlinked and malformed digests.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sha256Digest } from "../../../lib/oci/digest.ts";
import type { TestApp } from "../../support/app.ts";
import { pushBlob } from "../../support/blobs.ts";
import { expectOciError, recordingApp, serverErrors, type Seen } from "../../support/oci-checks.ts";

const seen: Seen[] = [];
let t: TestApp;
beforeAll(async () => {
  t = await recordingApp(seen);
});
afterAll(() => t.close());

const content = "0123456789abcdefghij"; // 20 bytes
const size = content.length;

/** Pushes `content` to a repository of its own and returns the repository and digest. */
async function stored(repo: string, text = content) {
  return { repo, digest: await pushBlob(t, repo, text) };
}

describe("GET and HEAD", () => {
  test("GET returns the bytes with Content-Length, Docker-Content-Digest and ETag", async () => {
    const { repo, digest } = await stored("pull/get");
    const res = await t.request("GET", `/v2/${repo}/blobs/${digest}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe(String(size));
    expect(res.headers.get("docker-content-digest")).toBe(digest);
    expect(res.headers.get("etag")).toBe(`"${digest}"`);
    expect(res.headers.get("docker-distribution-api-version")).toBe("registry/2.0");
    expect(await res.text()).toBe(content);
  });

  test("HEAD returns the same headers and no body", async () => {
    const { repo, digest } = await stored("pull/head");
    const res = await t.request("HEAD", `/v2/${repo}/blobs/${digest}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe(String(size));
    expect(res.headers.get("docker-content-digest")).toBe(digest);
    expect(res.headers.get("etag")).toBe(`"${digest}"`);
    expect(await res.text()).toBe("");
  });

  test("binary content comes back byte for byte", async () => {
    const bytes = new Uint8Array(70_000).map((_, i) => (i * 131 + 7) % 256);
    const digest = await pushBlob(t, "pull/binary", bytes);
    const res = await t.request("GET", `/v2/pull/binary/blobs/${digest}`);
    expect(res.status).toBe(200);
    const body = new Uint8Array(await res.arrayBuffer());
    expect(body.byteLength).toBe(bytes.byteLength);
    expect(sha256Digest(body)).toBe(digest);
  });

  test("an empty blob", async () => {
    const { repo, digest } = await stored("pull/empty", "");
    const res = await t.request("GET", `/v2/${repo}/blobs/${digest}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe("0");
    expect(await res.text()).toBe("");
  });

  test("a repository name of several segments", async () => {
    const { repo, digest } = await stored("pull/deep/a/b/c");
    expect((await t.request("GET", `/v2/${repo}/blobs/${digest}`)).status).toBe(200);
  });
});

describe("byte ranges", () => {
  let repo = "";
  let digest = "";
  beforeAll(async () => {
    ({ repo, digest } = await stored("pull/range"));
  });

  async function ranged(header: string, method = "GET") {
    return t.request(method, `/v2/${repo}/blobs/${digest}`, { headers: { Range: header } });
  }

  test("a closed range answers 206 with Content-Range and only those bytes", async () => {
    const res = await ranged("bytes=2-5");
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe(`bytes 2-5/${size}`);
    expect(res.headers.get("content-length")).toBe("4");
    expect(res.headers.get("docker-content-digest")).toBe(digest);
    expect(await res.text()).toBe("2345");
  });

  test("an open-ended range runs to the end", async () => {
    const res = await ranged("bytes=15-");
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe(`bytes 15-19/${size}`);
    expect(await res.text()).toBe("fghij");
  });

  test("a suffix range gives the last bytes", async () => {
    const res = await ranged("bytes=-3");
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe(`bytes 17-19/${size}`);
    expect(res.headers.get("content-length")).toBe("3");
    expect(await res.text()).toBe("hij");
  });

  test("a suffix longer than the blob gives all of it", async () => {
    const res = await ranged("bytes=-1000");
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe(`bytes 0-19/${size}`);
    expect(await res.text()).toBe(content);
  });

  test("an end past the blob is clamped", async () => {
    const res = await ranged("bytes=18-99");
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe(`bytes 18-19/${size}`);
    expect(await res.text()).toBe("ij");
  });

  test("a single byte", async () => {
    const res = await ranged("bytes=0-0");
    expect(res.status).toBe(206);
    expect(await res.text()).toBe("0");
  });

  test("HEAD with a range answers 206 with the range headers", async () => {
    const res = await ranged("bytes=2-5", "HEAD");
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe(`bytes 2-5/${size}`);
    expect(res.headers.get("content-length")).toBe("4");
  });

  test("several ranges or another unit are ignored: 200 with the whole blob", async () => {
    for (const header of ["bytes=0-1,4-5", "items=0-3"]) {
      const res = await ranged(header);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(content);
    }
  });

  test("a range starting past the end → 416 RANGE_INVALID with Content-Range: bytes */size", async () => {
    for (const header of [`bytes=${size}-`, "bytes=100-200", "bytes=-0", "bytes=9-3"]) {
      const res = await ranged(header);
      expect(res.headers.get("content-range")).toBe(`bytes */${size}`);
      await expectOciError(res, 416, "RANGE_INVALID");
    }
  });

  test("HEAD with an unsatisfiable range → 416 too", async () => {
    const res = await ranged("bytes=100-", "HEAD");
    expect(res.status).toBe(416);
    expect(res.headers.get("content-range")).toBe(`bytes */${size}`);
  });

  test("any range of an empty blob is unsatisfiable", async () => {
    const empty = await pushBlob(t, "pull/range", "");
    const res = await t.request("GET", `/v2/${repo}/blobs/${empty}`, { headers: { Range: "bytes=0-" } });
    expect(res.headers.get("content-range")).toBe("bytes */0");
    await expectOciError(res, 416, "RANGE_INVALID");
  });
});

describe("unknown blobs", () => {
  test("a digest never pushed → 404 BLOB_UNKNOWN, for GET and HEAD", async () => {
    await stored("pull/unknown");
    const missing = sha256Digest("never pushed");
    const error = await expectOciError(await t.request("GET", `/v2/pull/unknown/blobs/${missing}`), 404, "BLOB_UNKNOWN");
    expect(error.detail).toEqual({ digest: missing });
    const head = await t.request("HEAD", `/v2/pull/unknown/blobs/${missing}`);
    expect(head.status).toBe(404);
  });

  test("a blob another repository holds is unknown here → 404 BLOB_UNKNOWN", async () => {
    const { digest } = await stored("pull/owner", "owned by one repository");
    await stored("pull/neighbour", "something else");
    expect((await t.request("GET", `/v2/pull/owner/blobs/${digest}`)).status).toBe(200);
    await expectOciError(await t.request("GET", `/v2/pull/neighbour/blobs/${digest}`), 404, "BLOB_UNKNOWN");
    await expectOciError(await t.request("HEAD", `/v2/pull/neighbour/blobs/${digest}`), 404, "BLOB_UNKNOWN");
    await expectOciError(await t.request("GET", `/v2/pull/owner/x/blobs/${digest}`), 404, "BLOB_UNKNOWN");
  });

  test("a range request for a blob of another repository is still 404, not 206 or 416", async () => {
    const { digest } = await stored("pull/range-owner", "ranged secret");
    const res = await t.request("GET", `/v2/pull/range-stranger/blobs/${digest}`, { headers: { Range: "bytes=100-" } });
    await expectOciError(res, 404, "BLOB_UNKNOWN");
  });

  test("a repository that does not exist → 404", async () => {
    const { digest } = await stored("pull/exists");
    const res = await t.request("GET", `/v2/pull/never/created/blobs/${digest}`);
    const { errors } = (await res.clone().json()) as { errors: { code: string }[] };
    expect(["BLOB_UNKNOWN", "NAME_UNKNOWN"]).toContain(errors[0]?.code ?? "");
    await expectOciError(res, 404, errors[0]?.code ?? "");
  });
});

describe("malformed requests", () => {
  for (const bad of ["sha256:xyz", "notadigest", `sha256:${"AB".repeat(32)}`, `sha512:${"ab".repeat(64)}`, `sha256:${"ab".repeat(31)}`]) {
    test(`digest ${bad.slice(0, 24)}… → 400 DIGEST_INVALID`, async () => {
      await expectOciError(await t.request("GET", `/v2/pull/bad/blobs/${bad}`), 400, "DIGEST_INVALID");
      await expectOciError(await t.request("HEAD", `/v2/pull/bad/blobs/${bad}`), 400, "DIGEST_INVALID");
    });
  }

  test("an invalid repository name → 400 NAME_INVALID", async () => {
    const digest = sha256Digest("x");
    await expectOciError(await t.request("GET", `/v2/Pull/Bad/blobs/${digest}`), 400, "NAME_INVALID");
    await expectOciError(await t.request("HEAD", `/v2/-bad/blobs/${digest}`), 400, "NAME_INVALID");
  });

  test("a method blobs do not offer → 405 UNSUPPORTED", async () => {
    await expectOciError(await t.request("PATCH", `/v2/pull/bad/blobs/${sha256Digest("x")}`), 405, "UNSUPPORTED");
  });
});

describe("robustness", () => {
  test("no response in this file was a 500", () => {
    expect(seen.length).toBeGreaterThan(30);
    expect(serverErrors(seen)).toEqual([]);
  });
});
