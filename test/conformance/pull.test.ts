/**
 * @module OCI Distribution Spec v1.1 conformance, workflow "Pull" (end-1,
 * end-2, end-3), against a real `mcr serve` process over HTTP only.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";
import {
  clientFor,
  type Client,
  DOCKER_MANIFEST,
  OCI_INDEX,
  OCI_MANIFEST,
  digestOf,
  expectError,
  expectStatus,
  imageIndex,
  imageManifest,
  randomBytes,
  randomId,
  randomRepo,
  unknownDigest,
  type PushedImage,
} from "./client.ts";

let server: ServerProcess;
let c: Client;
const repo = randomRepo("pull");
let image: PushedImage;
let layer: Uint8Array;
let layerDigest: string;

beforeAll(async () => {
  server = await startServerProcess();
  c = clientFor(server);
  image = await c.pushImage(repo, "v1", { layerSize: 1000 });
  layer = image.layerBytes[0]!;
  layerDigest = image.layers[0]!.digest;
});

afterAll(async () => {
  await server?.stop();
});

describe("end-1 determining support", () => {
  test('GET /v2/: "If the response is 200 OK, then the registry implements this specification"', async () => {
    const res = await c.request("GET", "/v2/");
    expectStatus(res, 200);
  });
});

describe("end-3 pulling manifests", () => {
  test('GET by tag: "MUST provide the expected manifest, with a response code that MUST be 200 OK" (byte-exact)', async () => {
    const res = await c.request("GET", `/v2/${repo}/manifests/v1`, { headers: { Accept: OCI_MANIFEST } });
    expectStatus(res, 200);
    expect(res.body).toEqual(image.manifest);
  });

  test("GET by digest returns the same bytes", async () => {
    const res = await c.request("GET", `/v2/${repo}/manifests/${image.digest}`, { headers: { Accept: OCI_MANIFEST } });
    expectStatus(res, 200);
    expect(res.body).toEqual(image.manifest);
    // "If the <reference> part of a manifest request is a digest, clients SHOULD verify the returned manifest matches this digest."
    expect(digestOf(res.body)).toBe(image.digest);
  });

  test('"The Content-Type header SHOULD match what the client pushed"; "registry SHOULD NOT include parameters"', async () => {
    const res = await c.request("GET", `/v2/${repo}/manifests/v1`, { headers: { Accept: OCI_MANIFEST } });
    expect(res.headers.get("content-type")).toBe(OCI_MANIFEST);
  });

  test('"A successful response SHOULD contain the digest ... in the header Docker-Content-Digest" (tag and digest)', async () => {
    for (const reference of ["v1", image.digest]) {
      const res = await c.request("GET", `/v2/${repo}/manifests/${reference}`, { headers: { Accept: OCI_MANIFEST } });
      expect(res.headers.get("docker-content-digest")).toBe(image.digest);
    }
  });

  test("an image index is served with its own media type, byte-exact", async () => {
    const index = imageIndex({ manifests: [image.descriptor] });
    const digest = await c.pushManifest(repo, "multi", index, OCI_INDEX);
    const res = await c.request("GET", `/v2/${repo}/manifests/multi`, { headers: { Accept: `${OCI_MANIFEST}, ${OCI_INDEX}` } });
    expectStatus(res, 200);
    expect(res.headers.get("content-type")).toBe(OCI_INDEX);
    expect(res.headers.get("docker-content-digest")).toBe(digest);
    expect(res.body).toEqual(index);
  });

  test("a manifest pushed only by digest is pullable by that digest", async () => {
    const bytes = imageManifest({ config: image.config, layers: image.layers, annotations: { unique: randomId() } });
    const digest = await c.pushManifest(repo, digestOf(bytes), bytes);
    const res = await c.request("GET", `/v2/${repo}/manifests/${digest}`);
    expectStatus(res, 200);
    expect(res.body).toEqual(bytes);
  });

  test("a GET without Accept header returns the stored manifest and type", async () => {
    const res = await c.request("GET", `/v2/${repo}/manifests/v1`);
    expectStatus(res, 200);
    expect(res.headers.get("content-type")).toBe(OCI_MANIFEST);
  });

  test("Accept listing the stored type among others → 200 (content negotiation, RFC 7231 §5.3.2)", async () => {
    const res = await c.request("GET", `/v2/${repo}/manifests/v1`, {
      headers: { Accept: `${DOCKER_MANIFEST}, ${OCI_INDEX}, ${OCI_MANIFEST}` },
    });
    expectStatus(res, 200);
    expect(res.headers.get("content-type")).toBe(OCI_MANIFEST);
  });

  test("Accept with a q parameter on the stored type → 200 (RFC 7231 media-range parameters)", async () => {
    const res = await c.request("GET", `/v2/${repo}/manifests/v1`, { headers: { Accept: `${DOCKER_MANIFEST}, ${OCI_MANIFEST};q=0.9` } });
    expectStatus(res, 200);
  });

  test("Accept: */* → 200", async () => {
    const res = await c.request("GET", `/v2/${repo}/manifests/v1`, { headers: { Accept: "*/*" } });
    expectStatus(res, 200);
    expect(res.body).toEqual(image.manifest);
  });

  test("Accept listing neither the stored type nor a wildcard → 404 MANIFEST_UNKNOWN (mcr's negotiation choice)", async () => {
    const res = await c.request("GET", `/v2/${repo}/manifests/v1`, { headers: { Accept: DOCKER_MANIFEST } });
    expectError(res, 404, "MANIFEST_UNKNOWN");
  });

  test('"If the manifest is not found in the repository, the response code MUST be 404" (unknown tag)', async () => {
    const res = await c.request("GET", `/v2/${repo}/manifests/no-such-tag`);
    expectError(res, 404, "MANIFEST_UNKNOWN");
  });

  test("404 MANIFEST_UNKNOWN for an unknown digest", async () => {
    const res = await c.request("GET", `/v2/${repo}/manifests/${unknownDigest()}`);
    expectError(res, 404, "MANIFEST_UNKNOWN");
  });

  test('"An attempt to pull a nonexistent repository MUST return response code 404 Not Found"', async () => {
    const res = await c.request("GET", `/v2/${randomRepo("nowhere")}/manifests/latest`);
    expectError(res, 404, ["NAME_UNKNOWN", "MANIFEST_UNKNOWN"]);
  });

  test("a manifest is not visible through a repository it was not pushed to", async () => {
    const res = await c.request("GET", `/v2/${randomRepo("pull-other")}/manifests/${image.digest}`);
    expectError(res, 404, ["NAME_UNKNOWN", "MANIFEST_UNKNOWN"]);
  });

  test('"<reference> MUST NOT be in any other format": a reference that is neither tag nor digest names nothing → 404 MANIFEST_UNKNOWN', async () => {
    // The public suite (v1.1.1, "GET nonexistent manifest should return 404") pulls `.INVALID_MANIFEST_NAME`.
    for (const reference of [".INVALID_MANIFEST_NAME", "-bad-tag", "sha256:xyz", "a".repeat(129)]) {
      const res = await c.request("GET", `/v2/${repo}/manifests/${reference}`);
      expectError(res, 404, "MANIFEST_UNKNOWN");
    }
  });

  test('"<name> MUST match" the name grammar: an upper-case name is a 4xx error', async () => {
    const res = await c.request("GET", "/v2/Upper/Case/manifests/latest");
    expectError(res, [400, 404], ["NAME_INVALID", "NAME_UNKNOWN", "MANIFEST_UNKNOWN"]);
  });
});

describe("end-3 HEAD manifests (checking if content exists)", () => {
  test('"A HEAD request to an existing ... manifest URL MUST return 200 OK" with Docker-Content-Digest and Content-Length', async () => {
    for (const reference of ["v1", image.digest]) {
      const res = await c.request("HEAD", `/v2/${repo}/manifests/${reference}`);
      expectStatus(res, 200);
      expect(res.headers.get("docker-content-digest")).toBe(image.digest);
      // "A successful response SHOULD contain the size in bytes ... in the header Content-Length."
      expect(res.headers.get("content-length")).toBe(String(image.manifest.byteLength));
      expect(res.headers.get("content-type")).toBe(OCI_MANIFEST);
      expect(res.body.byteLength).toBe(0);
    }
  });

  test('"If the blob or manifest is not found in the repository, the response code MUST be 404"', async () => {
    expectStatus(await c.request("HEAD", `/v2/${repo}/manifests/missing`), 404);
    // The public suite's "HEAD request to nonexistent manifest should return 404" uses a reference no tag grammar allows.
    expectStatus(await c.request("HEAD", `/v2/${repo}/manifests/.INVALID_MANIFEST_NAME`), 404);
    expectStatus(await c.request("HEAD", `/v2/${repo}/manifests/${unknownDigest()}`), 404);
  });
});

describe("end-2 pulling blobs", () => {
  test('GET: "MUST provide the expected blob, with a response code that MUST be 200 OK"', async () => {
    const res = await c.request("GET", `/v2/${repo}/blobs/${layerDigest}`);
    expectStatus(res, 200);
    expect(res.body).toEqual(layer);
  });

  test('Docker-Content-Digest "MUST be a digest matching that of the response body"', async () => {
    const res = await c.request("GET", `/v2/${repo}/blobs/${layerDigest}`);
    expect(res.headers.get("docker-content-digest")).toBe(digestOf(res.body));
    expect(res.headers.get("docker-content-digest")).toBe(layerDigest);
  });

  test("the config blob is pullable with the exact pushed bytes", async () => {
    const res = await c.request("GET", `/v2/${repo}/blobs/${image.config.digest}`);
    expectStatus(res, 200);
    expect(res.body).toEqual(image.configBytes);
  });

  test('"If the blob is not found in the repository, the response code MUST be 404" → BLOB_UNKNOWN', async () => {
    const res = await c.request("GET", `/v2/${repo}/blobs/${unknownDigest()}`);
    expectError(res, 404, "BLOB_UNKNOWN");
  });

  test("a blob is served only via a repository it was pushed or mounted into (404 BLOB_UNKNOWN elsewhere)", async () => {
    const other = randomRepo("pull-other");
    await c.pushBlob(other, randomBytes(8)); // the other repository exists
    const res = await c.request("GET", `/v2/${other}/blobs/${layerDigest}`);
    expectError(res, 404, "BLOB_UNKNOWN");
    expectStatus(await c.request("HEAD", `/v2/${other}/blobs/${layerDigest}`), 404);
  });

  test("blob in a nonexistent repository → 404", async () => {
    const res = await c.request("GET", `/v2/${randomRepo("nowhere")}/blobs/${layerDigest}`);
    expectError(res, 404, ["BLOB_UNKNOWN", "NAME_UNKNOWN"]);
  });

  test("a malformed digest is a 4xx error (the <digest> grammar of image-spec descriptors)", async () => {
    const res = await c.request("GET", `/v2/${repo}/blobs/sha256:not-hex`);
    expectError(res, [400, 404], ["DIGEST_INVALID", "BLOB_UNKNOWN"]);
  });
});

describe("end-2 HEAD blobs", () => {
  test('"A HEAD request to an existing blob ... MUST return 200 OK" with digest and Content-Length', async () => {
    const res = await c.request("HEAD", `/v2/${repo}/blobs/${layerDigest}`);
    expectStatus(res, 200);
    expect(res.headers.get("docker-content-digest")).toBe(layerDigest);
    expect(res.headers.get("content-length")).toBe(String(layer.byteLength));
    expect(res.body.byteLength).toBe(0);
  });

  test("HEAD of an unknown blob → 404", async () => {
    expectStatus(await c.request("HEAD", `/v2/${repo}/blobs/${unknownDigest()}`), 404);
  });
});

describe('end-2 Range: "A registry SHOULD support the Range request header in accordance with RFC 9110"', () => {
  test("bytes=a-b → 206 Partial Content with Content-Range and the slice", async () => {
    const res = await c.request("GET", `/v2/${repo}/blobs/${layerDigest}`, { headers: { Range: "bytes=10-19" } });
    expectStatus(res, 206);
    expect(res.headers.get("content-range")).toBe(`bytes 10-19/${layer.byteLength}`);
    expect(res.headers.get("content-length")).toBe("10");
    expect(res.body).toEqual(layer.subarray(10, 20));
  });

  test("bytes=a- (open-ended, a resumed pull) → 206 with the rest", async () => {
    const res = await c.request("GET", `/v2/${repo}/blobs/${layerDigest}`, { headers: { Range: "bytes=900-" } });
    expectStatus(res, 206);
    expect(res.headers.get("content-range")).toBe(`bytes 900-999/${layer.byteLength}`);
    expect(res.body).toEqual(layer.subarray(900));
  });

  test("bytes=-n (suffix range, RFC 9110 §14.1.2) → 206 with the last n bytes", async () => {
    const res = await c.request("GET", `/v2/${repo}/blobs/${layerDigest}`, { headers: { Range: "bytes=-5" } });
    expectStatus(res, 206);
    expect(res.headers.get("content-range")).toBe(`bytes 995-999/${layer.byteLength}`);
    expect(res.body).toEqual(layer.subarray(995));
  });

  test("a last-pos beyond the end is clamped to the size (RFC 9110 §14.1.1)", async () => {
    const res = await c.request("GET", `/v2/${repo}/blobs/${layerDigest}`, { headers: { Range: "bytes=990-5000" } });
    expectStatus(res, 206);
    expect(res.headers.get("content-range")).toBe(`bytes 990-999/${layer.byteLength}`);
    expect(res.body).toEqual(layer.subarray(990));
  });

  test("an unsatisfiable range → 416 RANGE_INVALID with Content-Range: bytes */size (RFC 9110 §15.5.17)", async () => {
    const res = await c.request("GET", `/v2/${repo}/blobs/${layerDigest}`, { headers: { Range: `bytes=${layer.byteLength}-` } });
    // RANGE_INVALID is a legacy Docker code ("the client MAY encounter error codes" outside the table).
    expectError(res, 416, "RANGE_INVALID");
    expect(res.headers.get("content-range")).toBe(`bytes */${layer.byteLength}`);
  });
});

test("Errors: no request in the pull workflow was answered with a 5xx", () => {
  expect(c.serverErrors()).toEqual([]);
  // Spec "Warnings": any Warning header is `299 - "<text>"`, at most 4096 bytes in all.
  expect(c.badWarnings).toEqual([]);
});
