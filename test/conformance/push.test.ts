/**
 * @module OCI Distribution Spec v1.1 conformance, workflow "Push" (end-4a/b,
 * end-5, end-6, end-7, end-11, end-13), against a real `mcr serve` over HTTP.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";
import {
  clientFor,
  type Client,
  EMPTY_DESCRIPTOR,
  EMPTY_JSON,
  OCI_INDEX,
  OCI_LAYER,
  OCI_MANIFEST,
  digestOf,
  expectError,
  expectStatus,
  imageIndex,
  imageManifest,
  jsonBytes,
  location,
  pathOf,
  randomBytes,
  randomId,
  randomRepo,
  unknownDigest,
  withQuery,
  type Descriptor,
  type Reply,
} from "./client.ts";

let server: ServerProcess;
let c: Client;

beforeAll(async () => {
  server = await startServerProcess();
  c = clientFor(server);
});

afterAll(async () => {
  await server?.stop();
});

const OCTET = { "Content-Type": "application/octet-stream" };

/** Opens an upload session (end-4a) and returns its Location. */
async function openSession(repo: string): Promise<string> {
  const res = await c.request("POST", `/v2/${repo}/blobs/uploads/`, { body: new Uint8Array(0) });
  expectStatus(res, 202);
  return location(res);
}

/** PATCH one chunk (end-5). */
function patch(loc: string, bytes: Uint8Array, start: number): Promise<Reply> {
  return c.request("PATCH", loc, {
    headers: { ...OCTET, "Content-Range": `${start}-${start + bytes.byteLength - 1}`, "Content-Length": String(bytes.byteLength) },
    body: bytes,
  });
}

/** Asserts `repo` serves exactly `bytes` as blob `digest`. */
async function expectBlob(repo: string, digest: string, bytes: Uint8Array): Promise<void> {
  const res = await c.request("GET", `/v2/${repo}/blobs/${digest}`);
  expectStatus(res, 200);
  expect(res.body).toEqual(bytes);
}

describe("end-4a POST: obtaining a session", () => {
  test('"the response MUST have a code of 202 Accepted, and MUST include ... Location"; Location is /v2/<name>/blobs/uploads/<id>', async () => {
    const repo = randomRepo("push");
    const res = await c.request("POST", `/v2/${repo}/blobs/uploads/`);
    expectStatus(res, 202);
    const path = pathOf(location(res));
    expect(path).toMatch(new RegExp(`^/v2/${repo}/blobs/uploads/[^/]+$`));
    // mcr also sends the Docker headers: the session id, and an (empty) Range.
    const uuid = res.headers.get("docker-upload-uuid");
    expect(uuid).toBeTruthy();
    expect(path.endsWith(`/${uuid}`)).toBe(true);
    expect(res.headers.get("range")).toMatch(/^0-\d+$/);
  });

  test('"The <location> MUST contain a UUID representing a unique session ID": two POSTs, two sessions', async () => {
    const repo = randomRepo("push");
    const a = await openSession(repo);
    const b = await openSession(repo);
    expect(a).not.toBe(b);
  });

  test('chunked: "the post request MUST include the following header: Content-Length: 0" → 202', async () => {
    const repo = randomRepo("push");
    const res = await c.request("POST", `/v2/${repo}/blobs/uploads/`, { headers: { "Content-Length": "0" }, body: new Uint8Array(0) });
    expectStatus(res, 202);
    location(res);
  });
});

describe("end-6 monolithic POST then PUT", () => {
  test('"the response MUST have code 201 Created and MUST have ... Location: <blob-location>" (a pullable blob URL)', async () => {
    const repo = randomRepo("push");
    const bytes = randomBytes(777);
    const digest = digestOf(bytes);
    const loc = await openSession(repo);
    const res = await c.request("PUT", withQuery(loc, { digest }), { headers: OCTET, body: bytes });
    expectStatus(res, 201);
    expect(res.headers.get("docker-content-digest")).toBe(digest);
    const pulled = await c.request("GET", location(res));
    expectStatus(pulled, 200);
    expect(pulled.body).toEqual(bytes);
    await expectBlob(repo, digest, bytes);
  });

  test("pushing a blob that already exists succeeds again (layer upload de-duplication)", async () => {
    const repo = randomRepo("push");
    const bytes = randomBytes(100);
    const digest = await c.pushBlob(repo, bytes);
    expect(await c.pushBlob(repo, bytes)).toBe(digest);
    await expectBlob(repo, digest, bytes);
  });

  test("a zero-length blob can be pushed and pulled", async () => {
    const repo = randomRepo("push");
    const digest = await c.pushBlob(repo, new Uint8Array(0));
    await expectBlob(repo, digest, new Uint8Array(0));
  });

  test("end-6 failure 400: a PUT whose digest does not match the content → DIGEST_INVALID, session discarded", async () => {
    const repo = randomRepo("push");
    const bytes = randomBytes(64);
    const wrong = unknownDigest();
    const loc = await openSession(repo);
    const res = await c.request("PUT", withQuery(loc, { digest: wrong }), { headers: OCTET, body: bytes });
    expectError(res, 400, "DIGEST_INVALID");
    expectStatus(await c.request("HEAD", `/v2/${repo}/blobs/${wrong}`), 404);
    expectStatus(await c.request("HEAD", `/v2/${repo}/blobs/${digestOf(bytes)}`), 404);
    expectError(await c.request("GET", loc), 404, "BLOB_UPLOAD_UNKNOWN");
  });

  test('"The closing PUT request MUST include the <digest>": a PUT without ?digest= is a 400', async () => {
    const repo = randomRepo("push");
    const loc = await openSession(repo);
    const res = await c.request("PUT", loc, { headers: OCTET, body: randomBytes(16) });
    expectError(res, 400, ["DIGEST_INVALID", "BLOB_UPLOAD_INVALID"]);
  });

  test("a PUT with a malformed digest is a 400 DIGEST_INVALID", async () => {
    const repo = randomRepo("push");
    const loc = await openSession(repo);
    const res = await c.request("PUT", withQuery(loc, { digest: "sha256:nothex" }), { headers: OCTET, body: randomBytes(16) });
    expectError(res, 400, "DIGEST_INVALID");
  });
});

describe("end-4b single POST", () => {
  test('"Successful completion of the request MUST return a 201 Created and MUST include ... Location"', async () => {
    const repo = randomRepo("push");
    const bytes = randomBytes(300);
    const digest = digestOf(bytes);
    const res = await c.request("POST", `/v2/${repo}/blobs/uploads/?digest=${digest}`, { headers: OCTET, body: bytes });
    expectStatus(res, 201);
    expect(res.headers.get("docker-content-digest")).toBe(digest);
    const pulled = await c.request("GET", location(res));
    expect(pulled.body).toEqual(bytes);
    await expectBlob(repo, digest, bytes);
  });

  test('"the <digest> MUST match the blob\'s digest": a mismatch → 400 DIGEST_INVALID and no blob', async () => {
    const repo = randomRepo("push");
    const bytes = randomBytes(50);
    const wrong = unknownDigest();
    const res = await c.request("POST", `/v2/${repo}/blobs/uploads/?digest=${wrong}`, { headers: OCTET, body: bytes });
    expectError(res, 400, "DIGEST_INVALID");
    expectStatus(await c.request("HEAD", `/v2/${repo}/blobs/${wrong}`), 404);
  });
});

describe("end-5 chunked upload (PATCH) and end-13 status (GET)", () => {
  test('each chunk: "MUST have a 202 Accepted response code, and MUST have ... Location ... Range: 0-<end-of-range>"', async () => {
    const repo = randomRepo("push");
    const bytes = randomBytes(3000);
    const digest = digestOf(bytes);
    let loc = await openSession(repo);
    const first = await patch(loc, bytes.subarray(0, 1000), 0);
    expectStatus(first, 202);
    expect(first.headers.get("range")).toBe("0-999");
    // "Each consecutive chunk upload SHOULD use the <location> provided in the response to the previous chunk upload."
    loc = location(first);
    const second = await patch(loc, bytes.subarray(1000, 2500), 1000);
    expectStatus(second, 202);
    expect(second.headers.get("range")).toBe("0-2499");
    loc = location(second);
    const third = await patch(loc, bytes.subarray(2500), 2500);
    expectStatus(third, 202);
    expect(third.headers.get("range")).toBe("0-2999");
    loc = location(third);
    // "the session MUST be closed with a PUT request" — here without a body.
    const done = await c.request("PUT", withQuery(loc, { digest }));
    expectStatus(done, 201);
    expect(done.headers.get("docker-content-digest")).toBe(digest);
    const pulled = await c.request("GET", location(done));
    expect(pulled.body).toEqual(bytes);
    await expectBlob(repo, digest, bytes);
  });

  test('"The final chunk MAY be uploaded ... in the closing PUT request"', async () => {
    const repo = randomRepo("push");
    const bytes = randomBytes(2000);
    const digest = digestOf(bytes);
    const loc = location(await patch(await openSession(repo), bytes.subarray(0, 1200), 0));
    const done = await c.request("PUT", withQuery(loc, { digest }), {
      headers: { ...OCTET, "Content-Range": "1200-1999", "Content-Length": "800" },
      body: bytes.subarray(1200),
    });
    expectStatus(done, 201);
    expect(location(done)).toBeTruthy();
    await expectBlob(repo, digest, bytes);
  });

  test('end-13: "The response to an active upload <location> MUST be a 204 No Content ... Location ... Range"', async () => {
    const repo = randomRepo("push");
    const bytes = randomBytes(500);
    const loc = await openSession(repo);
    const empty = await c.request("GET", loc);
    expectStatus(empty, 204);
    expect(empty.headers.get("location")).toBeTruthy();
    expect(empty.headers.get("range")).toMatch(/^0-\d+$/);
    expectStatus(await patch(loc, bytes, 0), 202);
    const status = await c.request("GET", loc);
    expectStatus(status, 204);
    expect(status.headers.get("range")).toBe("0-499");
    expect(pathOf(location(status))).toBe(pathOf(loc));
  });

  test('"If a chunk is uploaded out of order, the registry MUST respond with a 416": a gap → 416 BLOB_UPLOAD_INVALID with Range', async () => {
    const repo = randomRepo("push");
    const bytes = randomBytes(300);
    const loc = await openSession(repo);
    expectStatus(await patch(loc, bytes.subarray(0, 100), 0), 202);
    const gap = await patch(loc, bytes.subarray(200), 200);
    expectError(gap, 416, "BLOB_UPLOAD_INVALID");
    expect(gap.headers.get("range")).toBe("0-99");
    // "A GET request may be used to retrieve the current valid offset and upload location."
    const status = await c.request("GET", loc);
    expectStatus(status, 204);
    expect(status.headers.get("range")).toBe("0-99");
    // The session survives the refusal and resumes from the offset the server holds.
    expectStatus(await patch(location(status), bytes.subarray(100), 100), 202);
    const done = await c.request("PUT", withQuery(loc, { digest: digestOf(bytes) }));
    expectStatus(done, 201);
    await expectBlob(repo, digestOf(bytes), bytes);
  });

  test('"The first chunk\'s range MUST begin with 0": a first chunk at 10 → 416', async () => {
    const repo = randomRepo("push");
    const loc = await openSession(repo);
    const res = await patch(loc, randomBytes(10), 10);
    expectError(res, 416, "BLOB_UPLOAD_INVALID");
    expect(res.headers.get("range")).toMatch(/^0-\d+$/);
  });

  test("an overlapping chunk → 416 BLOB_UPLOAD_INVALID with the Range the server holds", async () => {
    const repo = randomRepo("push");
    const bytes = randomBytes(200);
    const loc = await openSession(repo);
    expectStatus(await patch(loc, bytes.subarray(0, 100), 0), 202);
    const overlap = await patch(loc, bytes.subarray(50, 150), 50);
    expectError(overlap, 416, "BLOB_UPLOAD_INVALID");
    expect(overlap.headers.get("range")).toBe("0-99");
  });

  test("a repeated chunk → 416 BLOB_UPLOAD_INVALID, and the held bytes are unchanged", async () => {
    const repo = randomRepo("push");
    const bytes = randomBytes(200);
    const loc = await openSession(repo);
    expectStatus(await patch(loc, bytes.subarray(0, 100), 0), 202);
    const again = await patch(loc, bytes.subarray(0, 100), 0);
    expectError(again, 416, "BLOB_UPLOAD_INVALID");
    expect(again.headers.get("range")).toBe("0-99");
    expectStatus(await patch(loc, bytes.subarray(100), 100), 202);
    expectStatus(await c.request("PUT", withQuery(loc, { digest: digestOf(bytes) })), 201);
    await expectBlob(repo, digestOf(bytes), bytes);
  });

  test("a chunked upload whose final digest does not match → 400 DIGEST_INVALID, session discarded", async () => {
    const repo = randomRepo("push");
    const bytes = randomBytes(100);
    const loc = await openSession(repo);
    expectStatus(await patch(loc, bytes, 0), 202);
    const res = await c.request("PUT", withQuery(loc, { digest: unknownDigest() }));
    expectError(res, 400, "DIGEST_INVALID");
    expectError(await c.request("GET", loc), 404, "BLOB_UPLOAD_UNKNOWN");
    expectError(await patch(loc, randomBytes(5), 100), 404, "BLOB_UPLOAD_UNKNOWN");
  });

  test("DELETE on an upload session → 204; afterwards the session is 404 BLOB_UPLOAD_UNKNOWN", async () => {
    const repo = randomRepo("push");
    const bytes = randomBytes(100);
    const loc = await openSession(repo);
    expectStatus(await patch(loc, bytes, 0), 202);
    expectStatus(await c.request("DELETE", loc), 204);
    expectError(await c.request("GET", loc), 404, "BLOB_UPLOAD_UNKNOWN");
    expectError(await patch(loc, randomBytes(5), 100), 404, "BLOB_UPLOAD_UNKNOWN");
    expectError(await c.request("PUT", withQuery(loc, { digest: digestOf(bytes) })), 404, "BLOB_UPLOAD_UNKNOWN");
    expectError(await c.request("DELETE", loc), 404, "BLOB_UPLOAD_UNKNOWN");
    expectStatus(await c.request("HEAD", `/v2/${repo}/blobs/${digestOf(bytes)}`), 404);
  });

  test("end-5/end-6/end-13 failure 404: an unknown session id → BLOB_UPLOAD_UNKNOWN", async () => {
    const repo = randomRepo("push");
    await openSession(repo);
    const bogus = `/v2/${repo}/blobs/uploads/${crypto.randomUUID()}`;
    expectError(await c.request("GET", bogus), 404, "BLOB_UPLOAD_UNKNOWN");
    expectError(await patch(bogus, randomBytes(4), 0), 404, "BLOB_UPLOAD_UNKNOWN");
    expectError(await c.request("PUT", withQuery(bogus, { digest: unknownDigest() })), 404, "BLOB_UPLOAD_UNKNOWN");
  });

  test("a completed session is gone: reusing its Location → 404 BLOB_UPLOAD_UNKNOWN", async () => {
    const repo = randomRepo("push");
    const bytes = randomBytes(40);
    const loc = await openSession(repo);
    expectStatus(await c.request("PUT", withQuery(loc, { digest: digestOf(bytes) }), { headers: OCTET, body: bytes }), 201);
    expectError(await c.request("GET", loc), 404, "BLOB_UPLOAD_UNKNOWN");
  });
});

describe("end-11 mounting a blob from another repository", () => {
  test('"The response to a successful mount MUST be 201 Created, and MUST contain ... Location"', async () => {
    const from = randomRepo("push-src");
    const to = randomRepo("push-dst");
    const bytes = randomBytes(123);
    const digest = await c.pushBlob(from, bytes);
    expectStatus(await c.request("HEAD", `/v2/${to}/blobs/${digest}`), 404);
    const res = await c.request("POST", `/v2/${to}/blobs/uploads/?mount=${digest}&from=${from}`);
    expectStatus(res, 201);
    expect(res.headers.get("docker-content-digest")).toBe(digest);
    const pulled = await c.request("GET", location(res));
    expectStatus(pulled, 200);
    expect(pulled.body).toEqual(bytes);
    await expectBlob(to, digest, bytes);
  });

  test('"if a registry ... is unable to mount the requested blob, it SHOULD return a 202": from does not hold it', async () => {
    const holder = randomRepo("push-holder");
    const from = randomRepo("push-src");
    const to = randomRepo("push-dst");
    const bytes = randomBytes(64);
    const digest = await c.pushBlob(holder, bytes);
    await c.pushBlob(from, randomBytes(8)); // `from` exists but lacks the blob
    const res = await c.request("POST", `/v2/${to}/blobs/uploads/?mount=${digest}&from=${from}`);
    expectStatus(res, 202);
    // "This indicates that the upload session has begun and that the client MAY proceed with the upload."
    const loc = location(res);
    expect(pathOf(loc)).toMatch(new RegExp(`^/v2/${to}/blobs/uploads/[^/]+$`));
    expectStatus(await c.request("HEAD", `/v2/${to}/blobs/${digest}`), 404);
    const done = await c.request("PUT", withQuery(loc, { digest }), { headers: OCTET, body: bytes });
    expectStatus(done, 201);
    await expectBlob(to, digest, bytes);
  });

  test("mount from a nonexistent repository → 202 upload session", async () => {
    const to = randomRepo("push-dst");
    const bytes = randomBytes(64);
    const digest = await c.pushBlob(randomRepo("push-holder"), bytes);
    const res = await c.request("POST", `/v2/${to}/blobs/uploads/?mount=${digest}&from=${randomRepo("nowhere")}`);
    expectStatus(res, 202);
    expectStatus(await c.request("GET", location(res)), 204);
    expectStatus(await c.request("HEAD", `/v2/${to}/blobs/${digest}`), 404);
  });

  test('"The registry MAY treat the from parameter as optional, and it MAY cross-mount the blob if it can be found" → 201', async () => {
    const to = randomRepo("push-dst");
    const bytes = randomBytes(64);
    const digest = await c.pushBlob(randomRepo("push-holder"), bytes);
    const res = await c.request("POST", `/v2/${to}/blobs/uploads/?mount=${digest}`);
    expectStatus(res, 201);
    expect(pathOf(location(res))).toBe(`/v2/${to}/blobs/${digest}`);
    await expectBlob(to, digest, bytes);
  });

  test("mount without from of a blob no repository holds → 202 upload session", async () => {
    const to = randomRepo("push-dst");
    const res = await c.request("POST", `/v2/${to}/blobs/uploads/?mount=${unknownDigest()}`);
    expectStatus(res, 202);
    expect(pathOf(location(res))).toMatch(new RegExp(`^/v2/${to}/blobs/uploads/[^/]+$`));
  });

  test("a mounted blob is served by both repositories", async () => {
    const from = randomRepo("push-src");
    const to = randomRepo("push-dst");
    const bytes = randomBytes(99);
    const digest = await c.pushBlob(from, bytes);
    expectStatus(await c.request("POST", `/v2/${to}/blobs/uploads/?mount=${digest}&from=${from}`), 201);
    await expectBlob(from, digest, bytes);
    await expectBlob(to, digest, bytes);
  });
});

describe("end-7 pushing manifests", () => {
  /** A repository holding one config and one layer blob, with their descriptors. */
  async function repoWithBlobs(prefix = "push-m"): Promise<{ repo: string; config: Descriptor; layer: Descriptor }> {
    const repo = randomRepo(prefix);
    const configBytes = jsonBytes({ architecture: "arm64", os: "linux", id: randomId() });
    const layerBytes = randomBytes(200);
    return {
      repo,
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: await c.pushBlob(repo, configBytes), size: configBytes.byteLength },
      layer: { mediaType: OCI_LAYER, digest: await c.pushBlob(repo, layerBytes), size: layerBytes.byteLength },
    };
  }

  test('by tag: "the registry MUST return response code 201 Created, and MUST have ... Location" (a pullable manifest URL)', async () => {
    const { repo, config, layer } = await repoWithBlobs();
    const manifest = imageManifest({ config, layers: [layer] });
    const res = await c.putManifest(repo, "v1", manifest);
    expectStatus(res, 201);
    expect(res.headers.get("docker-content-digest")).toBe(digestOf(manifest));
    const pulled = await c.request("GET", location(res));
    expectStatus(pulled, 200);
    expect(pulled.body).toEqual(manifest);
  });

  test('by digest: 201, and Docker-Content-Digest "MUST be equal to the client provided digest"', async () => {
    const { repo, config, layer } = await repoWithBlobs();
    const manifest = imageManifest({ config, layers: [layer] });
    const digest = digestOf(manifest);
    const res = await c.putManifest(repo, digest, manifest);
    expectStatus(res, 201);
    expect(res.headers.get("docker-content-digest")).toBe(digest);
    expect(pathOf(location(res))).toBe(`/v2/${repo}/manifests/${digest}`);
    const pulled = await c.request("GET", `/v2/${repo}/manifests/${digest}`);
    expect(pulled.body).toEqual(manifest);
  });

  test("by digest that does not match the body → 400 DIGEST_INVALID and nothing stored", async () => {
    const { repo, config, layer } = await repoWithBlobs();
    const manifest = imageManifest({ config, layers: [layer] });
    const wrong = unknownDigest();
    const res = await c.putManifest(repo, wrong, manifest);
    expectError(res, 400, "DIGEST_INVALID");
    expectStatus(await c.request("HEAD", `/v2/${repo}/manifests/${wrong}`), 404);
    expectStatus(await c.request("HEAD", `/v2/${repo}/manifests/${digestOf(manifest)}`), 404);
  });

  test('"The registry MUST store the manifest in the exact byte representation provided by the client"', async () => {
    const { repo, config, layer } = await repoWithBlobs();
    const text = `{\n  "layers": [ ${JSON.stringify(layer)} ],\n\t"schemaVersion":2,   "config": ${JSON.stringify(config)},\n  "mediaType": "${OCI_MANIFEST}"\n}\n`;
    const manifest = new TextEncoder().encode(text);
    const res = await c.putManifest(repo, "odd-format", manifest);
    expectStatus(res, 201);
    expect(res.headers.get("docker-content-digest")).toBe(digestOf(manifest));
    const pulled = await c.request("GET", `/v2/${repo}/manifests/odd-format`);
    expect(pulled.body).toEqual(manifest);
  });

  test("pushing a tag again moves it to the new manifest", async () => {
    const { repo, config, layer } = await repoWithBlobs();
    const one = imageManifest({ config, layers: [layer], annotations: { n: "1" } });
    const two = imageManifest({ config, layers: [layer], annotations: { n: "2" } });
    await c.pushManifest(repo, "moving", one);
    await c.pushManifest(repo, "moving", two);
    const res = await c.request("GET", `/v2/${repo}/manifests/moving`);
    expect(res.headers.get("docker-content-digest")).toBe(digestOf(two));
    expect(res.body).toEqual(two);
    expectStatus(await c.request("HEAD", `/v2/${repo}/manifests/${digestOf(one)}`), 200);
  });

  test("an image index over manifests of the repository → 201", async () => {
    const { repo, config, layer } = await repoWithBlobs();
    const child = imageManifest({ config, layers: [layer] });
    const childDigest = await c.pushManifest(repo, digestOf(child), child);
    const index = imageIndex({ manifests: [{ mediaType: OCI_MANIFEST, digest: childDigest, size: child.byteLength }] });
    const res = await c.putManifest(repo, "idx", index, OCI_INDEX);
    expectStatus(res, 201);
    expect(res.headers.get("docker-content-digest")).toBe(digestOf(index));
  });

  test('"When a manifest is rejected for this reason, it MUST result in one or more MANIFEST_BLOB_UNKNOWN errors": missing layer', async () => {
    const { repo, config } = await repoWithBlobs();
    const manifest = imageManifest({ config, layers: [{ mediaType: OCI_LAYER, digest: unknownDigest(), size: 10 }] });
    expectError(await c.putManifest(repo, "broken", manifest), 400, "MANIFEST_BLOB_UNKNOWN");
    expectStatus(await c.request("HEAD", `/v2/${repo}/manifests/broken`), 404);
  });

  test("MANIFEST_BLOB_UNKNOWN when the config exists only in another repository", async () => {
    const elsewhere = await repoWithBlobs();
    const { repo, layer } = await repoWithBlobs();
    const manifest = imageManifest({ config: elsewhere.config, layers: [layer] });
    expectError(await c.putManifest(repo, "foreign", manifest), 400, "MANIFEST_BLOB_UNKNOWN");
  });

  test('an index with a missing child: "it MUST result in one or more MANIFEST_BLOB_UNKNOWN errors" (spec: "reference a manifest or blob")', async () => {
    const { repo } = await repoWithBlobs();
    const index = imageIndex({ manifests: [{ mediaType: OCI_MANIFEST, digest: unknownDigest(), size: 300 }] });
    const res = await c.putManifest(repo, "idx-broken", index, OCI_INDEX);
    // The spec fixes the code, not the status; mcr's chosen status is 404.
    expectError(res, [400, 404], "MANIFEST_BLOB_UNKNOWN");
    expectStatus(await c.request("HEAD", `/v2/${repo}/manifests/idx-broken`), 404);
  });

  test("invalid JSON → 400 MANIFEST_INVALID", async () => {
    const { repo } = await repoWithBlobs();
    const res = await c.putManifest(repo, "bad", new TextEncoder().encode("{not json"));
    expectError(res, 400, "MANIFEST_INVALID");
  });

  test('"<reference> as a tag MUST be at most 128 characters": a 129-character tag is refused with a 4xx', async () => {
    const { repo, config, layer } = await repoWithBlobs();
    const res = await c.putManifest(repo, "t".repeat(129), imageManifest({ config, layers: [layer] }));
    expectError(res, [400, 404], ["TAG_INVALID", "MANIFEST_INVALID", "NAME_INVALID"]);
  });

  test('"A registry MUST initially accept ... a subject field that references a manifest that does not exist" → 201 + OCI-Subject', async () => {
    const { repo, config, layer } = await repoWithBlobs();
    const subject: Descriptor = { mediaType: OCI_MANIFEST, digest: unknownDigest(), size: 1234 };
    const manifest = imageManifest({ config, layers: [layer], subject });
    const res = await c.putManifest(repo, digestOf(manifest), manifest);
    expectStatus(res, 201);
    // "MUST respond with the response header OCI-Subject: <subject digest>"
    expect(res.headers.get("oci-subject")).toBe(subject.digest);
  });

  test("OCI-Subject is also sent for a subject that exists, and not for a manifest without subject", async () => {
    const { repo, config, layer } = await repoWithBlobs();
    const target = imageManifest({ config, layers: [layer] });
    const plain = await c.putManifest(repo, "target", target);
    expectStatus(plain, 201);
    expect(plain.headers.get("oci-subject")).toBeNull();
    const subject: Descriptor = { mediaType: OCI_MANIFEST, digest: digestOf(target), size: target.byteLength };
    const referrer = imageManifest({ config, layers: [layer], subject, annotations: { r: "1" } });
    const res = await c.putManifest(repo, digestOf(referrer), referrer);
    expectStatus(res, 201);
    expect(res.headers.get("oci-subject")).toBe(subject.digest);
  });

  test("an artifact (artifactType + empty config) is accepted even when the client never pushed the empty blob", async () => {
    const repo = randomRepo("push-artifact");
    const layerBytes = randomBytes(50);
    const layer: Descriptor = { mediaType: "application/vnd.example.data", digest: await c.pushBlob(repo, layerBytes), size: 50 };
    const manifest = imageManifest({ artifactType: "application/vnd.example.thing.v1", config: EMPTY_DESCRIPTOR, layers: [layer] });
    const res = await c.putManifest(repo, "artifact", manifest);
    expectStatus(res, 201);
    const pulled = await c.request("GET", `/v2/${repo}/manifests/artifact`);
    expect(pulled.body).toEqual(manifest);
    // The accepted manifest must be pullable in full: its config blob is the two bytes `{}`.
    const config = await c.request("GET", `/v2/${repo}/blobs/${EMPTY_DESCRIPTOR.digest}`);
    expectStatus(config, 200);
    expect(config.body).toEqual(EMPTY_JSON);
  });

  test("the empty descriptor's digest is the sha256 of `{}`", () => {
    expect(digestOf(EMPTY_JSON)).toBe(EMPTY_DESCRIPTOR.digest);
  });

  test('"SHOULD expect to be able to support manifest pushes of at least 4 megabytes": exactly 4 MiB → 201', async () => {
    const { repo, config, layer } = await repoWithBlobs();
    const manifest = paddedManifest(config, layer, 4 * 1024 * 1024);
    expect(manifest.byteLength).toBe(4 * 1024 * 1024);
    const res = await c.putManifest(repo, "four-mib", manifest);
    expectStatus(res, 201);
    const pulled = await c.request("GET", `/v2/${repo}/manifests/four-mib`);
    expect(digestOf(pulled.body)).toBe(digestOf(manifest));
  });

  test('"respond to a request to push a manifest over this limit with ... 413 Payload Too Large": 4 MiB + 1', async () => {
    const { repo, config, layer } = await repoWithBlobs();
    const manifest = paddedManifest(config, layer, 4 * 1024 * 1024 + 1);
    const res = await c.putManifest(repo, "too-big", manifest);
    expectError(res, 413, ["MANIFEST_INVALID", "SIZE_INVALID"]);
    expectStatus(await c.request("HEAD", `/v2/${repo}/manifests/too-big`), 404);
  });
});

/** An image manifest padded with an annotation to exactly `size` bytes. */
function paddedManifest(config: Descriptor, layer: Descriptor, size: number): Uint8Array {
  const base = imageManifest({ config, layers: [layer], annotations: { pad: "" } });
  return imageManifest({ config, layers: [layer], annotations: { pad: "x".repeat(size - base.byteLength) } });
}

test("Errors: no request in the push workflow was answered with a 5xx", () => {
  expect(c.serverErrors()).toEqual([]);
  // Spec "Warnings": any Warning header is `299 - "<text>"`, at most 4096 bytes in all.
  expect(c.badWarnings).toEqual([]);
});
