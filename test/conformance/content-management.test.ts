/**
 * @module OCI Distribution Spec v1.1 conformance, workflow "Content
 * Management" (end-9, end-10 deletes), against a real `mcr serve` over HTTP.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";
import {
  clientFor,
  type Client,
  EMPTY_DESCRIPTOR,
  OCI_INDEX,
  digestOf,
  expectError,
  expectStatus,
  imageIndex,
  imageManifest,
  randomBytes,
  randomRepo,
  unknownDigest,
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

/** The tags of `repo` (end-8a), [] when the repository has none. */
async function tagsOf(repo: string): Promise<string[]> {
  const res = await c.request("GET", `/v2/${repo}/tags/list`);
  if (res.status === 404) return [];
  expectStatus(res, 200);
  return (res.json() as { tags: string[] }).tags;
}

describe("end-9 deleting manifests", () => {
  test('by digest: "Upon success, the registry MUST respond with a 202 Accepted code"', async () => {
    const repo = randomRepo("mgmt");
    const image = await c.pushImage(repo, "v1");
    expectStatus(await c.request("DELETE", `/v2/${repo}/manifests/${image.digest}`), 202);
    // "Once deleted, a GET to /v2/<name>/manifests/<digest> and any tag pointing to that digest will return a 404."
    expectError(await c.request("GET", `/v2/${repo}/manifests/${image.digest}`), 404, "MANIFEST_UNKNOWN");
    expectError(await c.request("GET", `/v2/${repo}/manifests/v1`), 404, "MANIFEST_UNKNOWN");
  });

  test("by digest removes every tag pointing to it, and only those", async () => {
    const repo = randomRepo("mgmt");
    const image = await c.pushImage(repo, "a");
    await c.pushManifest(repo, "b", image.manifest);
    const other = await c.pushImage(repo, "keep");
    expectStatus(await c.request("DELETE", `/v2/${repo}/manifests/${image.digest}`), 202);
    for (const tag of ["a", "b"]) expectStatus(await c.request("HEAD", `/v2/${repo}/manifests/${tag}`), 404);
    expect(await tagsOf(repo)).toEqual(["keep"]);
    expectStatus(await c.request("HEAD", `/v2/${repo}/manifests/${other.digest}`), 200);
  });

  test("a deleted manifest can be pushed again", async () => {
    const repo = randomRepo("mgmt");
    const image = await c.pushImage(repo, "v1");
    expectStatus(await c.request("DELETE", `/v2/${repo}/manifests/${image.digest}`), 202);
    expectStatus(await c.putManifest(repo, "v1", image.manifest), 201);
    const res = await c.request("GET", `/v2/${repo}/manifests/v1`);
    expectStatus(res, 200);
    expect(res.body).toEqual(image.manifest);
  });

  test("deleting an unknown digest → 404 MANIFEST_UNKNOWN", async () => {
    const repo = randomRepo("mgmt");
    await c.pushImage(repo, "v1");
    expectError(await c.request("DELETE", `/v2/${repo}/manifests/${unknownDigest()}`), 404, "MANIFEST_UNKNOWN");
  });

  test("deleting the same manifest twice → 202 then 404 MANIFEST_UNKNOWN", async () => {
    const repo = randomRepo("mgmt");
    const image = await c.pushImage(repo, "v1");
    expectStatus(await c.request("DELETE", `/v2/${repo}/manifests/${image.digest}`), 202);
    expectError(await c.request("DELETE", `/v2/${repo}/manifests/${image.digest}`), 404, "MANIFEST_UNKNOWN");
  });

  test('"If the repository does not exist, the response MUST return 404 Not Found"', async () => {
    const res = await c.request("DELETE", `/v2/${randomRepo("nowhere")}/manifests/${unknownDigest()}`);
    expectError(res, 404, ["NAME_UNKNOWN", "MANIFEST_UNKNOWN"]);
  });

  test("a manifest listed by an index cannot be deleted: 409 MANIFEST_REFERENCED, until the index is gone", async () => {
    const repo = randomRepo("mgmt");
    const child = await c.pushImage(repo, "child");
    const index = imageIndex({ manifests: [child.descriptor] });
    const indexDigest = await c.pushManifest(repo, "idx", index, OCI_INDEX);
    expectError(await c.request("DELETE", `/v2/${repo}/manifests/${child.digest}`), 409, "MANIFEST_REFERENCED");
    expectStatus(await c.request("HEAD", `/v2/${repo}/manifests/${child.digest}`), 200);
    expectStatus(await c.request("DELETE", `/v2/${repo}/manifests/${indexDigest}`), 202);
    expectStatus(await c.request("DELETE", `/v2/${repo}/manifests/${child.digest}`), 202);
    expectStatus(await c.request("HEAD", `/v2/${repo}/manifests/${child.digest}`), 404);
  });

  test("a deleted referrer disappears from the referrers list (end-12a)", async () => {
    const repo = randomRepo("mgmt");
    const subject = await c.pushImage(repo, "app");
    const blob = await c.pushBlob(repo, randomBytes(12));
    const referrer = imageManifest({
      artifactType: "application/vnd.example.sig",
      config: EMPTY_DESCRIPTOR,
      layers: [{ mediaType: "application/octet-stream", digest: blob, size: 12 }],
      subject: subject.descriptor,
    });
    const digest = await c.pushManifest(repo, digestOf(referrer), referrer);
    const before = await c.request("GET", `/v2/${repo}/referrers/${subject.digest}`);
    expect((before.json() as { manifests: { digest: string }[] }).manifests.map((d) => d.digest)).toEqual([digest]);
    expectStatus(await c.request("DELETE", `/v2/${repo}/manifests/${digest}`), 202);
    const after = await c.request("GET", `/v2/${repo}/referrers/${subject.digest}`);
    expectStatus(after, 200);
    expect((after.json() as { manifests: unknown[] }).manifests).toEqual([]);
  });
});

describe("end-9 deleting tags", () => {
  test('"Upon success, the registry MUST respond with a 202"; "Once deleted, a GET to .../manifests/<tag> will return a 404"', async () => {
    const repo = randomRepo("mgmt");
    const image = await c.pushImage(repo, "v1");
    expectStatus(await c.request("DELETE", `/v2/${repo}/manifests/v1`), 202);
    expectError(await c.request("GET", `/v2/${repo}/manifests/v1`), 404, "MANIFEST_UNKNOWN");
    // Only the tag goes: the manifest is still there by digest.
    const res = await c.request("GET", `/v2/${repo}/manifests/${image.digest}`);
    expectStatus(res, 200);
    expect(res.body).toEqual(image.manifest);
  });

  test("deleting one tag leaves the other tags of the same manifest", async () => {
    const repo = randomRepo("mgmt");
    const image = await c.pushImage(repo, "one");
    await c.pushManifest(repo, "two", image.manifest);
    expectStatus(await c.request("DELETE", `/v2/${repo}/manifests/one`), 202);
    expect(await tagsOf(repo)).toEqual(["two"]);
    expectStatus(await c.request("HEAD", `/v2/${repo}/manifests/two`), 200);
  });

  test("deleting an unknown tag → 404 MANIFEST_UNKNOWN", async () => {
    const repo = randomRepo("mgmt");
    await c.pushImage(repo, "v1");
    expectError(await c.request("DELETE", `/v2/${repo}/manifests/nope`), 404, "MANIFEST_UNKNOWN");
    // A reference that is neither tag nor digest names nothing to delete, as on GET and HEAD.
    expectError(await c.request("DELETE", `/v2/${repo}/manifests/.INVALID_MANIFEST_NAME`), 404, "MANIFEST_UNKNOWN");
  });
});

describe("end-10 deleting blobs", () => {
  test('"Upon success, the registry MUST respond with code 202 Accepted"; afterwards 404 BLOB_UNKNOWN', async () => {
    const repo = randomRepo("mgmt");
    const digest = await c.pushBlob(repo, randomBytes(64));
    expectStatus(await c.request("DELETE", `/v2/${repo}/blobs/${digest}`), 202);
    expectError(await c.request("GET", `/v2/${repo}/blobs/${digest}`), 404, "BLOB_UNKNOWN");
    expectStatus(await c.request("HEAD", `/v2/${repo}/blobs/${digest}`), 404);
  });

  test("a blob deleted from one repository is still served by another repository holding it", async () => {
    const a = randomRepo("mgmt");
    const b = randomRepo("mgmt");
    const bytes = randomBytes(80);
    const digest = await c.pushBlob(a, bytes);
    await c.pushBlob(b, bytes);
    expectStatus(await c.request("DELETE", `/v2/${a}/blobs/${digest}`), 202);
    expectStatus(await c.request("HEAD", `/v2/${a}/blobs/${digest}`), 404);
    const res = await c.request("GET", `/v2/${b}/blobs/${digest}`);
    expectStatus(res, 200);
    expect(res.body).toEqual(bytes);
  });

  test("a mounted blob deleted from the source stays in the mount target", async () => {
    const from = randomRepo("mgmt");
    const to = randomRepo("mgmt");
    const bytes = randomBytes(33);
    const digest = await c.pushBlob(from, bytes);
    expectStatus(await c.request("POST", `/v2/${to}/blobs/uploads/?mount=${digest}&from=${from}`), 201);
    expectStatus(await c.request("DELETE", `/v2/${from}/blobs/${digest}`), 202);
    const res = await c.request("GET", `/v2/${to}/blobs/${digest}`);
    expectStatus(res, 200);
    expect(res.body).toEqual(bytes);
  });

  test("a deleted blob can be uploaded again", async () => {
    const repo = randomRepo("mgmt");
    const bytes = randomBytes(20);
    const digest = await c.pushBlob(repo, bytes);
    expectStatus(await c.request("DELETE", `/v2/${repo}/blobs/${digest}`), 202);
    await c.pushBlob(repo, bytes);
    expect((await c.request("GET", `/v2/${repo}/blobs/${digest}`)).body).toEqual(bytes);
  });

  test('"If the blob is not found, a 404 Not Found code MUST be returned" → BLOB_UNKNOWN', async () => {
    const repo = randomRepo("mgmt");
    await c.pushBlob(repo, randomBytes(8));
    expectError(await c.request("DELETE", `/v2/${repo}/blobs/${unknownDigest()}`), 404, "BLOB_UNKNOWN");
    expectError(await c.request("DELETE", `/v2/${randomRepo("nowhere")}/blobs/${unknownDigest()}`), 404, ["BLOB_UNKNOWN", "NAME_UNKNOWN"]);
  });

  test("a blob pushed only to another repository is not found here → 404 BLOB_UNKNOWN, and stays there", async () => {
    const a = randomRepo("mgmt");
    const b = randomRepo("mgmt");
    const bytes = randomBytes(16);
    const digest = await c.pushBlob(a, bytes);
    await c.pushBlob(b, randomBytes(4));
    expectError(await c.request("DELETE", `/v2/${b}/blobs/${digest}`), 404, "BLOB_UNKNOWN");
    expect((await c.request("GET", `/v2/${a}/blobs/${digest}`)).body).toEqual(bytes);
  });

  test("a blob referenced by a manifest of the repository → 409 BLOB_REFERENCED, until the manifest is gone", async () => {
    const repo = randomRepo("mgmt");
    const image = await c.pushImage(repo, "v1");
    const layer = image.layers[0]!.digest;
    expectError(await c.request("DELETE", `/v2/${repo}/blobs/${layer}`), 409, "BLOB_REFERENCED");
    expectError(await c.request("DELETE", `/v2/${repo}/blobs/${image.config.digest}`), 409, "BLOB_REFERENCED");
    expectStatus(await c.request("HEAD", `/v2/${repo}/blobs/${layer}`), 200);
    expectStatus(await c.request("DELETE", `/v2/${repo}/manifests/${image.digest}`), 202);
    expectStatus(await c.request("DELETE", `/v2/${repo}/blobs/${layer}`), 202);
    expectStatus(await c.request("HEAD", `/v2/${repo}/blobs/${layer}`), 404);
  });

  test("a blob referenced by a manifest of another repository can still be deleted here", async () => {
    const a = randomRepo("mgmt");
    const b = randomRepo("mgmt");
    const image = await c.pushImage(a, "v1");
    const layer = image.layers[0]!;
    await c.pushBlob(b, image.layerBytes[0]!);
    expectStatus(await c.request("DELETE", `/v2/${b}/blobs/${layer.digest}`), 202);
    expectStatus(await c.request("HEAD", `/v2/${a}/blobs/${layer.digest}`), 200);
  });
});

test("Errors: no request in the content management workflow was answered with a 5xx", () => {
  expect(c.serverErrors()).toEqual([]);
  // Spec "Warnings": any Warning header is `299 - "<text>"`, at most 4096 bytes in all.
  expect(c.badWarnings).toEqual([]);
});
