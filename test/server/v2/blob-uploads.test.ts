/**
 * @module Push: upload sessions under `/v2/<name>/blobs/uploads/` —
 * monolithic, single-request, chunked and streamed uploads, progress,
 * cancel, and every error a session can answer.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { sha256Digest } from "../../../lib/oci/digest.ts";
import type { TestApp } from "../../support/app.ts";
import { pushBlob } from "../../support/blobs.ts";
import { expectOciError, recordingApp, serverErrors, streamOf, type Seen } from "../../support/oci-checks.ts";

const seen: Seen[] = [];
let t: TestApp;
beforeAll(async () => {
  t = await recordingApp(seen);
});
afterAll(() => t.close());

const enc = new TextEncoder();

/** Opens a session in `repo`; returns its path (from Location) and id. */
async function start(repo: string): Promise<{ url: string; id: string }> {
  const res = await t.request("POST", `/v2/${repo}/blobs/uploads/`);
  expect(res.status).toBe(202);
  const location = res.headers.get("location") ?? "";
  const url = new URL(location, "http://registry.test");
  return { url: url.pathname + url.search, id: res.headers.get("docker-upload-uuid") ?? "" };
}

/** `path` with `?digest=` (or `&digest=`) appended. */
function withDigest(path: string, digest: string): string {
  return `${path}${path.includes("?") ? "&" : "?"}digest=${digest}`;
}

/** The blob's bytes as repository `repo` serves them, or the status when it does not. */
async function readBlob(repo: string, digest: string): Promise<string | number> {
  const res = await t.request("GET", `/v2/${repo}/blobs/${digest}`);
  return res.status === 200 ? res.text() : res.status;
}

describe("starting a session", () => {
  test("POST answers 202 with Location, Docker-Upload-UUID, Range 0-0 and no body", async () => {
    const res = await t.request("POST", "/v2/push/start/blobs/uploads/");
    expect(res.status).toBe(202);
    const id = res.headers.get("docker-upload-uuid") ?? "";
    expect(id).not.toBe("");
    expect(new URL(res.headers.get("location") ?? "", "http://registry.test").pathname).toBe(`/v2/push/start/blobs/uploads/${id}`);
    expect(res.headers.get("range")).toBe("0-0");
    expect(res.headers.get("content-length")).toBe("0");
    expect(res.headers.get("docker-distribution-api-version")).toBe("registry/2.0");
    expect(await res.text()).toBe("");
  });

  test("POST without the trailing slash works as well", async () => {
    const res = await t.request("POST", "/v2/push/start/blobs/uploads");
    expect(res.status).toBe(202);
  });

  test("every session gets its own id", async () => {
    const a = await start("push/start");
    const b = await start("push/start");
    expect(a.id).not.toBe(b.id);
  });

  test("a mount the registry cannot do falls back to a new session (202)", async () => {
    const missing = sha256Digest("not in the source repository");
    const res = await t.request("POST", `/v2/push/mount-target/blobs/uploads/?mount=${missing}&from=push/mount-source`);
    expect(res.status).toBe(202);
    expect(res.headers.get("location")).toContain("/v2/push/mount-target/blobs/uploads/");
  });

  test("an invalid repository name → 400 NAME_INVALID", async () => {
    await expectOciError(await t.request("POST", "/v2/Push/Bad/blobs/uploads/"), 400, "NAME_INVALID");
  });
});

describe("upload status", () => {
  test("GET on a new session answers 204 with Range, Location and Docker-Upload-UUID", async () => {
    const { url, id } = await start("push/status");
    const res = await t.request("GET", url);
    expect(res.status).toBe(204);
    expect(res.headers.get("range")).toBe("0-0");
    expect(res.headers.get("docker-upload-uuid")).toBe(id);
    expect(res.headers.get("location")).toBe(url);
  });

  test("GET after a chunk reports the bytes held", async () => {
    const { url } = await start("push/status");
    expect((await t.request("PATCH", url, { body: "hello" })).status).toBe(202);
    const res = await t.request("GET", url);
    expect(res.status).toBe(204);
    expect(res.headers.get("range")).toBe("0-4");
  });
});

describe("monolithic upload", () => {
  test("POST then PUT ?digest= with the whole body → 201 with Location and Docker-Content-Digest", async () => {
    const { url } = await start("push/mono");
    const digest = sha256Digest("monolithic content");
    const res = await t.request("PUT", withDigest(url, digest), { body: "monolithic content", headers: { "Content-Type": "application/octet-stream" } });
    expect(res.status).toBe(201);
    expect(res.headers.get("location")).toBe(`/v2/push/mono/blobs/${digest}`);
    expect(res.headers.get("docker-content-digest")).toBe(digest);
    expect(res.headers.get("content-length")).toBe("0");
    expect(await readBlob("push/mono", digest)).toBe("monolithic content");
  });

  test("the session is gone once complete", async () => {
    const { url } = await start("push/mono");
    const digest = sha256Digest("done");
    expect((await t.request("PUT", withDigest(url, digest), { body: "done" })).status).toBe(201);
    await expectOciError(await t.request("GET", url), 404, "BLOB_UPLOAD_UNKNOWN");
    await expectOciError(await t.request("PUT", withDigest(url, digest), { body: "done" }), 404, "BLOB_UPLOAD_UNKNOWN");
  });

  test("an empty blob", async () => {
    const { url } = await start("push/mono");
    const digest = sha256Digest("");
    expect((await t.request("PUT", withDigest(url, digest))).status).toBe(201);
    expect(await readBlob("push/mono", digest)).toBe("");
  });

  test("a blob that is already stored is pushed again without trouble", async () => {
    const digest = await pushBlob(t, "push/mono-again", "same bytes");
    const { url } = await start("push/mono-again");
    expect((await t.request("PUT", withDigest(url, digest), { body: "same bytes" })).status).toBe(201);
    expect(await readBlob("push/mono-again", digest)).toBe("same bytes");
  });
});

describe("single-request upload", () => {
  test("POST ?digest= with the body → 201, readable at once", async () => {
    const digest = sha256Digest("one request");
    const res = await t.request("POST", `/v2/push/single/blobs/uploads/?digest=${digest}`, { body: "one request" });
    expect(res.status).toBe(201);
    expect(res.headers.get("location")).toBe(`/v2/push/single/blobs/${digest}`);
    expect(res.headers.get("docker-content-digest")).toBe(digest);
    expect(await readBlob("push/single", digest)).toBe("one request");
  });

  test("POST ?digest= with a streamed body and no Content-Length", async () => {
    const digest = sha256Digest("streamed in three parts");
    const res = await t.request("POST", `/v2/push/single/blobs/uploads/?digest=${digest}`, { body: streamOf("streamed ", "in three ", "parts") });
    expect(res.status).toBe(201);
    expect(await readBlob("push/single", digest)).toBe("streamed in three parts");
  });

  test("POST ?digest= with content that does not match → 400 DIGEST_INVALID, nothing stored or left over", async () => {
    const claimed = sha256Digest("what was promised");
    const res = await t.request("POST", `/v2/push/single-bad/blobs/uploads/?digest=${claimed}`, { body: "what was sent" });
    await expectOciError(res, 400, "DIGEST_INVALID");
    expect(await readBlob("push/single-bad", claimed)).toBe(404);
    expect(await readBlob("push/single-bad", sha256Digest("what was sent"))).toBe(404);
    const sessions = await t.reg.db.selectFrom("uploads").select("id").execute();
    const files = readdirSync(`${t.dataDir}/uploads`);
    expect(files.filter((f) => !sessions.some((s) => s.id === f))).toEqual([]);
  });

  test("POST ?digest= with a malformed digest → 400 DIGEST_INVALID", async () => {
    await expectOciError(await t.request("POST", "/v2/push/single/blobs/uploads/?digest=sha256:nope", { body: "x" }), 400, "DIGEST_INVALID");
  });
});

describe("chunked upload", () => {
  test("PATCH chunks with Content-Range, then PUT with no body", async () => {
    const { url, id } = await start("push/chunked");
    const first = await t.request("PATCH", url, { body: "hello ", headers: { "Content-Range": "0-5", "Content-Length": "6" } });
    expect(first.status).toBe(202);
    expect(first.headers.get("range")).toBe("0-5");
    expect(first.headers.get("docker-upload-uuid")).toBe(id);
    const next = new URL(first.headers.get("location") ?? "", "http://registry.test").pathname;
    const second = await t.request("PATCH", next, { body: "world", headers: { "Content-Range": "6-10", "Content-Length": "5" } });
    expect(second.status).toBe(202);
    expect(second.headers.get("range")).toBe("0-10");
    const digest = sha256Digest("hello world");
    const done = await t.request("PUT", withDigest(next, digest));
    expect(done.status).toBe(201);
    expect(done.headers.get("docker-content-digest")).toBe(digest);
    expect(await readBlob("push/chunked", digest)).toBe("hello world");
  });

  test("PATCH chunks without Content-Range append in order", async () => {
    const { url } = await start("push/chunked");
    for (const [chunk, range] of [["a", "0-0"], ["bc", "0-2"], ["def", "0-5"]] as const) {
      const res = await t.request("PATCH", url, { body: chunk });
      expect(res.status).toBe(202);
      expect(res.headers.get("range")).toBe(range);
    }
    const digest = sha256Digest("abcdef");
    expect((await t.request("PUT", withDigest(url, digest))).status).toBe(201);
    expect(await readBlob("push/chunked", digest)).toBe("abcdef");
  });

  test("a chunk streamed with no Content-Length (chunked transfer)", async () => {
    const { url } = await start("push/chunked");
    const res = await t.request("PATCH", url, { body: streamOf("stre", "amed ", "chunk") });
    expect(res.status).toBe(202);
    expect(res.headers.get("range")).toBe("0-13");
    const digest = sha256Digest("streamed chunk");
    expect((await t.request("PUT", withDigest(url, digest))).status).toBe(201);
    expect(await readBlob("push/chunked", digest)).toBe("streamed chunk");
  });

  test("a streamed chunk with Content-Range", async () => {
    const { url } = await start("push/chunked");
    expect((await t.request("PATCH", url, { body: "12345" })).status).toBe(202);
    const res = await t.request("PATCH", url, { body: streamOf("67", "890"), headers: { "Content-Range": "5-9" } });
    expect(res.status).toBe(202);
    expect(res.headers.get("range")).toBe("0-9");
  });

  test("the final PUT carries the last chunk without Content-Range", async () => {
    const { url } = await start("push/chunked");
    expect((await t.request("PATCH", url, { body: "first-", headers: { "Content-Range": "0-5" } })).status).toBe(202);
    const digest = sha256Digest("first-last");
    expect((await t.request("PUT", withDigest(url, digest), { body: "last" })).status).toBe(201);
    expect(await readBlob("push/chunked", digest)).toBe("first-last");
  });

  test("the final PUT carries the last chunk with Content-Range", async () => {
    const { url } = await start("push/chunked");
    expect((await t.request("PATCH", url, { body: "first-", headers: { "Content-Range": "0-5" } })).status).toBe(202);
    const digest = sha256Digest("first-last");
    const res = await t.request("PUT", withDigest(url, digest), { body: "last", headers: { "Content-Range": "6-9", "Content-Length": "4" } });
    expect(res.status).toBe(201);
    expect(await readBlob("push/chunked", digest)).toBe("first-last");
  });

  test("a larger blob in many chunks", async () => {
    const { url } = await start("push/chunked");
    const whole = new Uint8Array(300_000).map((_, i) => (i * 7) % 251);
    for (let at = 0; at < whole.byteLength; at += 65_536) {
      const chunk = whole.subarray(at, Math.min(at + 65_536, whole.byteLength));
      const res = await t.request("PATCH", url, { body: chunk, headers: { "Content-Range": `${at}-${at + chunk.byteLength - 1}` } });
      expect(res.status).toBe(202);
    }
    const digest = sha256Digest(whole);
    expect((await t.request("PUT", withDigest(url, digest))).status).toBe(201);
    const res = await t.request("GET", `/v2/push/chunked/blobs/${digest}`);
    expect(sha256Digest(new Uint8Array(await res.arrayBuffer()))).toBe(digest);
  });
});

describe("out-of-order and malformed chunks", () => {
  test("a chunk that does not start where the upload ends → 416 with Range showing the current size", async () => {
    const { url } = await start("push/order");
    expect((await t.request("PATCH", url, { body: "0123456789", headers: { "Content-Range": "0-9" } })).status).toBe(202);
    for (const range of ["5-9", "11-15", "0-3"]) {
      const res = await t.request("PATCH", url, { body: "abcde".slice(0, Number(range.split("-")[1]) - Number(range.split("-")[0]) + 1), headers: { "Content-Range": range } });
      expect(res.headers.get("range")).toBe("0-9");
      await expectOciError(res, 416, "BLOB_UPLOAD_INVALID");
    }
    const status = await t.request("GET", url);
    expect(status.headers.get("range")).toBe("0-9");
  });

  test("after a 416 the client resumes from the Range it was given", async () => {
    const { url } = await start("push/order");
    expect((await t.request("PATCH", url, { body: "abc", headers: { "Content-Range": "0-2" } })).status).toBe(202);
    expect((await t.request("PATCH", url, { body: "xyz", headers: { "Content-Range": "5-7" } })).status).toBe(416);
    expect((await t.request("PATCH", url, { body: "def", headers: { "Content-Range": "3-5" } })).status).toBe(202);
    const digest = sha256Digest("abcdef");
    expect((await t.request("PUT", withDigest(url, digest))).status).toBe(201);
    expect(await readBlob("push/order", digest)).toBe("abcdef");
  });

  test("a first chunk that does not start at 0 → 416 with Range 0-0", async () => {
    const { url } = await start("push/order");
    const res = await t.request("PATCH", url, { body: "abc", headers: { "Content-Range": "3-5" } });
    expect(res.headers.get("range")).toBe("0-0");
    await expectOciError(res, 416, "BLOB_UPLOAD_INVALID");
  });

  test("a final PUT whose Content-Range does not follow → 416, and the session survives", async () => {
    const { url } = await start("push/order");
    expect((await t.request("PATCH", url, { body: "abc" })).status).toBe(202);
    const digest = sha256Digest("abcdef");
    const res = await t.request("PUT", withDigest(url, digest), { body: "def", headers: { "Content-Range": "4-6" } });
    expect(res.headers.get("range")).toBe("0-2");
    await expectOciError(res, 416, "BLOB_UPLOAD_INVALID");
    expect((await t.request("GET", url)).status).toBe(204);
  });

  test("a body longer than its Content-Range → 400 SIZE_INVALID", async () => {
    const { url } = await start("push/order");
    await expectOciError(await t.request("PATCH", url, { body: streamOf("0123456789"), headers: { "Content-Range": "0-4" } }), 400, "SIZE_INVALID");
  });

  test("a chunk shorter than its Content-Range is never acknowledged as the full range", async () => {
    const { url } = await start("push/order");
    const res = await t.request("PATCH", url, { body: streamOf("01234"), headers: { "Content-Range": "0-9" } });
    if (res.status === 202) expect(res.headers.get("range")).toBe("0-4");
    else await expectOciError(res, 400, "SIZE_INVALID");
  });

  // The spec: "If the server cannot accept the chunk, a 416 ... will include a Range
  // header indicating the current status", and invalid Content-Range is one such case.
  test("a malformed Content-Range → 416 with the Range to resume from", async () => {
    const { url } = await start("push/malformed");
    expect((await t.request("PATCH", url, { body: "abc" })).status).toBe(202);
    const cases: Record<string, string>[] = [{ "Content-Range": "bytes=oops" }, { "Content-Range": "5-3" }, { "Content-Range": "3-5", "Content-Length": "7" }];
    const answers = [];
    for (const headers of cases) {
      const res = await t.request("PATCH", url, { body: "def", headers });
      answers.push({ headers, status: res.status, range: res.headers.get("range") });
      // BLOB_UPLOAD_INVALID: the spec's code for a chunk the session cannot take.
      await expectOciError(res, 416, "BLOB_UPLOAD_INVALID");
    }
    expect(answers).toEqual(cases.map((headers) => ({ headers, status: 416, range: "0-2" })));
  });
});

describe("digest checks on completion", () => {
  test("a digest mismatch → 400 DIGEST_INVALID; the session is gone and the blob unreadable", async () => {
    const { url } = await start("push/mismatch");
    expect((await t.request("PATCH", url, { body: "actual bytes" })).status).toBe(202);
    const claimed = sha256Digest("claimed bytes");
    const error = await expectOciError(await t.request("PUT", withDigest(url, claimed)), 400, "DIGEST_INVALID");
    expect(error.detail).toMatchObject({ expected: claimed, actual: sha256Digest("actual bytes") });
    await expectOciError(await t.request("GET", url), 404, "BLOB_UPLOAD_UNKNOWN");
    await expectOciError(await t.request("PATCH", url, { body: "more" }), 404, "BLOB_UPLOAD_UNKNOWN");
    expect(await readBlob("push/mismatch", claimed)).toBe(404);
    expect(await readBlob("push/mismatch", sha256Digest("actual bytes"))).toBe(404);
  });

  test("a digest mismatch with the last chunk in the PUT → the same", async () => {
    const { url } = await start("push/mismatch");
    const claimed = sha256Digest("something else");
    await expectOciError(await t.request("PUT", withDigest(url, claimed), { body: "the bytes" }), 400, "DIGEST_INVALID");
    await expectOciError(await t.request("GET", url), 404, "BLOB_UPLOAD_UNKNOWN");
    expect(await readBlob("push/mismatch", claimed)).toBe(404);
  });

  test("PUT without a digest → 400 DIGEST_INVALID, and the session stays usable", async () => {
    const { url } = await start("push/nodigest");
    expect((await t.request("PATCH", url, { body: "kept" })).status).toBe(202);
    await expectOciError(await t.request("PUT", url), 400, "DIGEST_INVALID");
    const status = await t.request("GET", url);
    expect(status.status).toBe(204);
    expect(status.headers.get("range")).toBe("0-3");
    expect((await t.request("PUT", withDigest(url, sha256Digest("kept")))).status).toBe(201);
  });

  test("a PUT refused for its digest leaves the session as it was, last chunk not appended", async () => {
    const { url } = await start("push/nodigest");
    expect((await t.request("PATCH", url, { body: "abc" })).status).toBe(202);
    const refused = await t.request("PUT", withDigest(url, "sha256:nope"), { body: "def", headers: { "Content-Range": "3-5" } });
    await expectOciError(refused, 400, "DIGEST_INVALID");
    expect((await t.request("GET", url)).headers.get("range")).toBe("0-2");
  });

  test("PUT with a malformed or unsupported digest → 400 DIGEST_INVALID", async () => {
    const { url } = await start("push/nodigest");
    for (const digest of ["sha256:short", "nonsense", `sha512:${"ab".repeat(64)}`, `sha256:${"AB".repeat(32)}`]) {
      await expectOciError(await t.request("PUT", withDigest(url, digest)), 400, "DIGEST_INVALID");
    }
  });
});

describe("unknown sessions", () => {
  const unknown = "/v2/push/unknown/blobs/uploads/6f1b6a3e-0000-4000-8000-000000000000";

  test("an id never issued → 404 BLOB_UPLOAD_UNKNOWN for GET, PATCH, PUT and DELETE", async () => {
    await start("push/unknown");
    await expectOciError(await t.request("GET", unknown), 404, "BLOB_UPLOAD_UNKNOWN");
    await expectOciError(await t.request("PATCH", unknown, { body: "x" }), 404, "BLOB_UPLOAD_UNKNOWN");
    await expectOciError(await t.request("PUT", withDigest(unknown, sha256Digest("x")), { body: "x" }), 404, "BLOB_UPLOAD_UNKNOWN");
    await expectOciError(await t.request("DELETE", unknown), 404, "BLOB_UPLOAD_UNKNOWN");
  });

  test("an unknown session is reported as unknown whatever its Content-Range says", async () => {
    await expectOciError(await t.request("PATCH", unknown, { body: "x", headers: { "Content-Range": "oops" } }), 404, "BLOB_UPLOAD_UNKNOWN");
    await expectOciError(await t.request("PATCH", unknown, { body: "x", headers: { "Content-Range": "0-0", "Content-Length": "9" } }), 404, "BLOB_UPLOAD_UNKNOWN");
  });

  test("ids that look like paths are just unknown", async () => {
    for (const id of ["..", "%2e%2e", "..%2f..%2fmcr.db", "a.b", "x".repeat(300)]) {
      const path = `/v2/push/unknown/blobs/uploads/${id}`;
      const res = await t.request("PATCH", path, { body: "x" });
      expect({ id, status: res.status }).toEqual({ id, status: res.status >= 400 && res.status < 500 ? res.status : -1 });
    }
  });

  test("a session of another repository is unknown here, and left untouched", async () => {
    const { id, url } = await start("push/owner");
    expect((await t.request("PATCH", url, { body: "abc" })).status).toBe(202);
    const foreign = `/v2/push/intruder/blobs/uploads/${id}`;
    await start("push/intruder");
    await expectOciError(await t.request("GET", foreign), 404, "BLOB_UPLOAD_UNKNOWN");
    await expectOciError(await t.request("PATCH", foreign, { body: "def" }), 404, "BLOB_UPLOAD_UNKNOWN");
    await expectOciError(await t.request("PUT", withDigest(foreign, sha256Digest("abc"))), 404, "BLOB_UPLOAD_UNKNOWN");
    await expectOciError(await t.request("DELETE", foreign), 404, "BLOB_UPLOAD_UNKNOWN");
    expect(await readBlob("push/intruder", sha256Digest("abc"))).toBe(404);
    const status = await t.request("GET", url);
    expect(status.status).toBe(204);
    expect(status.headers.get("range")).toBe("0-2");
  });
});

describe("cancel", () => {
  test("DELETE answers 204, then the session is unknown", async () => {
    const { url } = await start("push/cancel");
    expect((await t.request("PATCH", url, { body: "discard me" })).status).toBe(202);
    const res = await t.request("DELETE", url);
    expect(res.status).toBe(204);
    await expectOciError(await t.request("GET", url), 404, "BLOB_UPLOAD_UNKNOWN");
    await expectOciError(await t.request("DELETE", url), 404, "BLOB_UPLOAD_UNKNOWN");
    await expectOciError(await t.request("PUT", withDigest(url, sha256Digest("discard me"))), 404, "BLOB_UPLOAD_UNKNOWN");
    expect(await readBlob("push/cancel", sha256Digest("discard me"))).toBe(404);
  });
});

describe("concurrency", () => {
  test("a second writer while a chunk is still arriving → 416, and the first chunk lands whole", async () => {
    const { url } = await start("push/concurrent");
    let finish!: () => void;
    const held = new Promise<void>((resolve) => (finish = resolve));
    const slow = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(enc.encode("first "));
        await held;
        controller.enqueue(enc.encode("chunk"));
        controller.close();
      },
    });
    const first = t.request("PATCH", url, { body: slow });
    await Bun.sleep(50);
    const second = await t.request("PATCH", url, { body: "intruder" });
    await expectOciError(second, 416, "BLOB_UPLOAD_INVALID");
    finish();
    const done = await first;
    expect(done.status).toBe(202);
    expect(done.headers.get("range")).toBe("0-10");
    const digest = sha256Digest("first chunk");
    expect((await t.request("PUT", withDigest(url, digest))).status).toBe(201);
    expect(await readBlob("push/concurrent", digest)).toBe("first chunk");
  });

  // Invariant 1: never is a wrong byte served under a digest. A PATCH that arrives while
  // the final PUT is verifying and moving the upload must not reach the committed file.
  test("a PATCH racing the final PUT never changes the bytes committed under the digest", async () => {
    const failures: string[] = [];
    for (let i = 0; i < 60; i++) {
      const content = `racing content ${i}`;
      const digest = sha256Digest(content);
      const { url } = await start("push/race");
      expect((await t.request("PATCH", url, { body: content })).status).toBe(202);
      const put = t.request("PUT", withDigest(url, digest));
      const patch = (async () => {
        // Spread the second request over the PUT's lifetime: event-loop turns, then microtasks.
        if (i % 2 === 0) for (let k = 0; k < i / 2; k++) await new Promise((resolve) => setImmediate(resolve));
        else for (let k = 0; k < i * 2; k++) await Promise.resolve();
        return t.request("PATCH", url, { body: "EXTRA" });
      })();
      const [done, extra] = await Promise.all([put, patch]);
      if (done.status >= 500 || extra.status >= 500) failures.push(`#${i}: PUT ${done.status}, PATCH ${extra.status}`);
      if (done.status !== 201) continue;
      const served = new Uint8Array(await (await t.request("GET", `/v2/push/race/blobs/${digest}`)).arrayBuffer());
      if (sha256Digest(served) !== digest) {
        failures.push(`#${i}: ${digest} served ${JSON.stringify(new TextDecoder().decode(served))} (PATCH answered ${extra.status})`);
      }
    }
    expect(failures).toEqual([]);
  });

  test("the same blob pushed by many clients at once", async () => {
    const digest = sha256Digest("popular layer");
    const responses = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        t.request("POST", `/v2/push/crowd${i % 3}/blobs/uploads/?digest=${digest}`, { body: streamOf("popular ", "layer") }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(12).fill(201));
    for (const repo of ["push/crowd0", "push/crowd1", "push/crowd2"]) expect(await readBlob(repo, digest)).toBe("popular layer");
  });
});

describe("robustness", () => {
  test("no response in this file was a 500", () => {
    expect(seen.length).toBeGreaterThan(50);
    expect(serverErrors(seen)).toEqual([]);
  });
});
