/**
 * @module Manifests over HTTP: push by tag and by digest for every supported
 * media type, byte-exact pulls, reference checks, tag moves, `OCI-Subject`,
 * and every way a push is refused.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sha256Digest } from "../../../lib/oci/digest.ts";
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_EMPTY, OCI_INDEX, OCI_MANIFEST } from "../../../lib/oci/media-types.ts";
import type { TestApp } from "../../support/app.ts";
import { pushBlob, pushImage } from "../../support/blobs.ts";
import { expectOciError, recordingApp, serverErrors, streamOf, type Seen } from "../../support/oci-checks.ts";

const seen: Seen[] = [];
let t: TestApp;
beforeAll(async () => {
  t = await recordingApp(seen);
});
afterAll(() => t.close());

const enc = new TextEncoder();
const MiB = 1024 * 1024;

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

/** Pushes `text` as a blob of `repo` and returns its descriptor. */
async function blob(repo: string, text: string, mediaType: string): Promise<Descriptor> {
  return { mediaType, digest: await pushBlob(t, repo, text), size: enc.encode(text).byteLength };
}

/** An OCI image manifest over freshly pushed blobs of `repo`, as bytes, not yet pushed. */
async function ociImage(repo: string, label: string, extra: Record<string, unknown> = {}) {
  const config = await blob(repo, `{"os":"linux","label":"${label}"}`, "application/vnd.oci.image.config.v1+json");
  const layer = await blob(repo, `layer of ${label}`, "application/vnd.oci.image.layer.v1.tar+gzip");
  return document({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [layer], ...extra });
}

/** A Docker schema 2 manifest over freshly pushed blobs of `repo`. */
async function dockerImage(repo: string, label: string) {
  const config = await blob(repo, `{"docker":"${label}"}`, "application/vnd.docker.container.image.v1+json");
  const layer = await blob(repo, `docker layer of ${label}`, "application/vnd.docker.image.rootfs.diff.tar.gzip");
  return document({ schemaVersion: 2, mediaType: DOCKER_MANIFEST, config, layers: [layer] });
}

/** A manifest's bytes, digest and descriptor. */
function document(doc: object, mediaType = (doc as { mediaType?: string }).mediaType ?? OCI_MANIFEST) {
  const bytes = enc.encode(JSON.stringify(doc));
  const digest = sha256Digest(bytes);
  return { doc, bytes, digest, descriptor: { mediaType, digest, size: bytes.byteLength } };
}

/** PUTs raw manifest bytes under `reference`. */
function put(repo: string, reference: string, body: RequestInit["body"], contentType: string | null = OCI_MANIFEST) {
  const headers: Record<string, string> = contentType === null ? {} : { "Content-Type": contentType };
  return t.request("PUT", `/v2/${repo}/manifests/${reference}`, { body, headers });
}

/** Pushes and expects 201 with the right headers; returns the response. */
async function pushed(repo: string, reference: string, bytes: Uint8Array, contentType: string | null = OCI_MANIFEST) {
  const res = await put(repo, reference, bytes, contentType);
  const digest = sha256Digest(bytes);
  expect({ status: res.status, body: res.status === 201 ? "" : await res.text() }).toEqual({ status: 201, body: "" });
  expect(res.headers.get("docker-content-digest")).toBe(digest);
  expect(res.headers.get("location")).toBe(`/v2/${repo}/manifests/${digest}`);
  return res;
}

/** GETs `reference` and expects exactly `bytes` with `mediaType`. */
async function expectServed(repo: string, reference: string, bytes: Uint8Array, mediaType: string) {
  const res = await t.request("GET", `/v2/${repo}/manifests/${reference}`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe(mediaType);
  expect(res.headers.get("docker-content-digest")).toBe(sha256Digest(bytes));
  expect(res.headers.get("content-length")).toBe(String(bytes.byteLength));
  const received = new Uint8Array(await res.arrayBuffer());
  expect(received.byteLength).toBe(bytes.byteLength);
  expect(sha256Digest(received)).toBe(sha256Digest(bytes));
}

describe("push and pull by tag and by digest", () => {
  test("an OCI image manifest by tag, pulled by tag and by digest", async () => {
    const m = await ociImage("mf/oci", "tagged");
    await pushed("mf/oci", "v1", m.bytes);
    await expectServed("mf/oci", "v1", m.bytes, OCI_MANIFEST);
    await expectServed("mf/oci", m.digest, m.bytes, OCI_MANIFEST);
  });

  test("an OCI image manifest by digest makes no tag", async () => {
    const m = await ociImage("mf/oci-digest", "untagged");
    await pushed("mf/oci-digest", m.digest, m.bytes);
    await expectServed("mf/oci-digest", m.digest, m.bytes, OCI_MANIFEST);
    const tags = await t.request("GET", "/v2/mf/oci-digest/tags/list");
    expect(await tags.json()).toEqual({ name: "mf/oci-digest", tags: [] });
  });

  test("the Location of a push is a pullable URL", async () => {
    const m = await ociImage("mf/location", "x");
    const res = await pushed("mf/location", "latest", m.bytes);
    const location = new URL(res.headers.get("location") ?? "", "http://registry.test").pathname;
    expect((await t.request("GET", location)).status).toBe(200);
  });

  test("a Docker schema 2 manifest by tag and by digest", async () => {
    const m = await dockerImage("mf/docker", "one");
    await pushed("mf/docker", "v1", m.bytes, DOCKER_MANIFEST);
    await expectServed("mf/docker", "v1", m.bytes, DOCKER_MANIFEST);
    const n = await dockerImage("mf/docker", "two");
    await pushed("mf/docker", n.digest, n.bytes, DOCKER_MANIFEST);
    await expectServed("mf/docker", n.digest, n.bytes, DOCKER_MANIFEST);
  });

  test("an OCI index over pushed manifests, by tag and by digest", async () => {
    const amd = await ociImage("mf/index", "amd64");
    const arm = await ociImage("mf/index", "arm64");
    await pushed("mf/index", amd.digest, amd.bytes);
    await pushed("mf/index", arm.digest, arm.bytes);
    const index = document({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        { ...amd.descriptor, platform: { architecture: "amd64", os: "linux" } },
        { ...arm.descriptor, platform: { architecture: "arm64", os: "linux" } },
      ],
    });
    await pushed("mf/index", "multi", index.bytes, OCI_INDEX);
    await expectServed("mf/index", "multi", index.bytes, OCI_INDEX);
    const second = document({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [amd.descriptor] });
    await pushed("mf/index", second.digest, second.bytes, OCI_INDEX);
    await expectServed("mf/index", second.digest, second.bytes, OCI_INDEX);
  });

  test("a Docker manifest list over Docker manifests, by tag and by digest", async () => {
    const one = await dockerImage("mf/list", "amd64");
    await pushed("mf/list", one.digest, one.bytes, DOCKER_MANIFEST);
    const list = document({
      schemaVersion: 2,
      mediaType: DOCKER_MANIFEST_LIST,
      manifests: [{ ...one.descriptor, platform: { architecture: "amd64", os: "linux" } }],
    });
    await pushed("mf/list", "latest", list.bytes, DOCKER_MANIFEST_LIST);
    await expectServed("mf/list", "latest", list.bytes, DOCKER_MANIFEST_LIST);
    await expectServed("mf/list", list.digest, list.bytes, DOCKER_MANIFEST_LIST);
  });

  test("an index may nest another index", async () => {
    const leaf = await ociImage("mf/nested", "leaf");
    await pushed("mf/nested", leaf.digest, leaf.bytes);
    const inner = document({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [leaf.descriptor] });
    await pushed("mf/nested", inner.digest, inner.bytes, OCI_INDEX);
    const outer = document({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [inner.descriptor] });
    await pushed("mf/nested", "outer", outer.bytes, OCI_INDEX);
  });

  test("a manifest without a mediaType field is served with the Content-Type it was pushed with", async () => {
    const config = await blob("mf/untyped", "{}", "application/vnd.docker.container.image.v1+json");
    const bytes = enc.encode(JSON.stringify({ schemaVersion: 2, config, layers: [] }));
    await pushed("mf/untyped", "docker", bytes, DOCKER_MANIFEST);
    await expectServed("mf/untyped", "docker", bytes, DOCKER_MANIFEST);
  });

  test("HEAD by tag and by digest: the headers of GET, no body", async () => {
    const { digest, bytes } = await pushImage(t, "mf/head", "v1");
    for (const reference of ["v1", digest]) {
      const res = await t.request("HEAD", `/v2/mf/head/manifests/${reference}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe(OCI_MANIFEST);
      expect(res.headers.get("docker-content-digest")).toBe(digest);
      expect(res.headers.get("content-length")).toBe(String(bytes.byteLength));
      expect(res.headers.get("etag")).toBe(`"${digest}"`);
      expect(await res.text()).toBe("");
    }
  });

  test("GET carries an ETag of the digest", async () => {
    const { digest } = await pushImage(t, "mf/etag", "v1");
    expect((await t.request("GET", "/v2/mf/etag/manifests/v1")).headers.get("etag")).toBe(`"${digest}"`);
  });

  test("tags are case-sensitive and may be up to 128 characters", async () => {
    const m = await ociImage("mf/tagnames", "x");
    for (const tag of ["Latest", "_under", "v1.2.3-rc.1_b", "x".repeat(128)]) await pushed("mf/tagnames", tag, m.bytes);
    expect((await t.request("GET", "/v2/mf/tagnames/manifests/latest")).status).toBe(404);
  });
});

describe("byte-exact content", () => {
  test("unusual whitespace, key order, escapes and raw UTF-8 come back byte for byte", async () => {
    const config = await blob("mf/exact", "{}", "application/vnd.oci.image.config.v1+json");
    const layer = await blob("mf/exact", "bytes", "application/vnd.oci.image.layer.v1.tar");
    const text =
      `\n  {  "layers" :[ ${JSON.stringify(layer, null, 7)} ] ,\r\n\t"annotations":{"zz":"é ü \\u00e9 \\/","aa":"1"},` +
      `"config":   ${JSON.stringify(config)},"schemaVersion" : 2 ,  "mediaType":"${OCI_MANIFEST}"  }\n\n`;
    const bytes = enc.encode(text);
    await pushed("mf/exact", "weird", bytes);
    await expectServed("mf/exact", "weird", bytes, OCI_MANIFEST);
    await expectServed("mf/exact", sha256Digest(bytes), bytes, OCI_MANIFEST);
  });

  test("a manifest of exactly 4 MiB is accepted and served whole", async () => {
    const m = await ociImage("mf/big", "big");
    const bytes = new Uint8Array(4 * MiB).fill(0x20);
    bytes.set(m.bytes);
    await pushed("mf/big", "big", bytes);
    await expectServed("mf/big", "big", bytes, OCI_MANIFEST);
  });

  test("a manifest streamed without Content-Length", async () => {
    const m = await ociImage("mf/streamed", "s");
    const half = Math.floor(m.bytes.byteLength / 2);
    const res = await put("mf/streamed", "s", streamOf(m.bytes.subarray(0, half), m.bytes.subarray(half)));
    expect(res.status).toBe(201);
    await expectServed("mf/streamed", "s", m.bytes, OCI_MANIFEST);
  });
});

describe("tags move", () => {
  test("pushing another manifest under the same tag moves it; the old one stays by digest", async () => {
    const first = await ociImage("mf/move", "first");
    const second = await ociImage("mf/move", "second");
    await pushed("mf/move", "latest", first.bytes);
    await pushed("mf/move", "latest", second.bytes);
    await expectServed("mf/move", "latest", second.bytes, OCI_MANIFEST);
    await expectServed("mf/move", first.digest, first.bytes, OCI_MANIFEST);
    expect(await (await t.request("GET", "/v2/mf/move/tags/list")).json()).toEqual({ name: "mf/move", tags: ["latest"] });
  });

  test("one manifest under several tags, pushed again and again", async () => {
    const m = await ociImage("mf/retag", "same");
    for (const tag of ["a", "b", "a", "c"]) await pushed("mf/retag", tag, m.bytes);
    await pushed("mf/retag", m.digest, m.bytes);
    expect(await (await t.request("GET", "/v2/mf/retag/tags/list")).json()).toEqual({ name: "mf/retag", tags: ["a", "b", "c"] });
  });

  test("a tag moves from an image to an index and back", async () => {
    const image = await ociImage("mf/kind", "image");
    await pushed("mf/kind", "v", image.bytes);
    const index = document({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [image.descriptor] });
    await pushed("mf/kind", "v", index.bytes, OCI_INDEX);
    await expectServed("mf/kind", "v", index.bytes, OCI_INDEX);
    await pushed("mf/kind", "v", image.bytes);
    await expectServed("mf/kind", "v", image.bytes, OCI_MANIFEST);
  });

  test("concurrent pushes under one tag all succeed and the tag ends on one of them", async () => {
    const images = await Promise.all(Array.from({ length: 8 }, (_, i) => ociImage("mf/race", `racer-${i}`)));
    const responses = await Promise.all(images.map((m) => put("mf/race", "latest", m.bytes)));
    expect(responses.map((r) => r.status)).toEqual(Array(8).fill(201));
    const served = (await t.request("GET", "/v2/mf/race/manifests/latest")).headers.get("docker-content-digest");
    expect(images.map((m) => m.digest)).toContain(served ?? "");
  });
});

describe("artifacts and subject", () => {
  test("a manifest with a subject answers with OCI-Subject", async () => {
    const { digest: subjectDigest, bytes: subjectBytes } = await pushImage(t, "mf/subject", "base");
    const empty = await blob("mf/subject", "{}", OCI_EMPTY);
    const sbom = await blob("mf/subject", '{"spdxVersion":"SPDX-2.3"}', "application/spdx+json");
    const artifact = document({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: "application/spdx+json",
      config: empty,
      layers: [sbom],
      subject: { mediaType: OCI_MANIFEST, digest: subjectDigest, size: subjectBytes.byteLength },
    });
    const res = await pushed("mf/subject", artifact.digest, artifact.bytes);
    expect(res.headers.get("oci-subject")).toBe(subjectDigest);
    await expectServed("mf/subject", artifact.digest, artifact.bytes, OCI_MANIFEST);
  });

  test("a subject that is not (yet) in the registry is accepted", async () => {
    const empty = await blob("mf/subject-later", "{}", OCI_EMPTY);
    const absent = sha256Digest("not pushed yet");
    const artifact = document({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: "application/vnd.example.signature",
      config: empty,
      layers: [empty],
      subject: { mediaType: OCI_MANIFEST, digest: absent, size: 10 },
    });
    const res = await pushed("mf/subject-later", artifact.digest, artifact.bytes);
    expect(res.headers.get("oci-subject")).toBe(absent);
  });

  test("an index with a subject answers with OCI-Subject too", async () => {
    const image = await ociImage("mf/subject-index", "i");
    await pushed("mf/subject-index", image.digest, image.bytes);
    const index = document({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [image.descriptor], subject: image.descriptor });
    const res = await pushed("mf/subject-index", index.digest, index.bytes, OCI_INDEX);
    expect(res.headers.get("oci-subject")).toBe(image.digest);
  });

  test("no subject, no OCI-Subject header", async () => {
    const m = await ociImage("mf/no-subject", "n");
    expect((await pushed("mf/no-subject", "n", m.bytes)).headers.get("oci-subject")).toBeNull();
  });
});

describe("references checked on push", () => {
  test("a config or layer never pushed → 400 MANIFEST_BLOB_UNKNOWN naming it", async () => {
    const config = await blob("mf/missing", "{}", "application/vnd.oci.image.config.v1+json");
    const missing = sha256Digest("never pushed layer");
    const m = document({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: missing, size: 3 }] });
    const error = await expectOciError(await put("mf/missing", "v1", m.bytes), 400, "MANIFEST_BLOB_UNKNOWN");
    expect(error.detail).toEqual({ digest: missing });
    const noConfig = document({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { ...config, digest: missing }, layers: [] });
    await expectOciError(await put("mf/missing", "v1", noConfig.bytes), 400, "MANIFEST_BLOB_UNKNOWN");
    await expectOciError(await t.request("GET", "/v2/mf/missing/manifests/v1"), 404, "MANIFEST_UNKNOWN");
  });

  test("a blob only another repository holds → 400 MANIFEST_BLOB_UNKNOWN", async () => {
    const m = await ociImage("mf/blob-owner", "owned");
    await pushBlob(t, "mf/blob-borrower", "something");
    await expectOciError(await put("mf/blob-borrower", "v1", m.bytes), 400, "MANIFEST_BLOB_UNKNOWN");
    await pushed("mf/blob-owner", "v1", m.bytes);
  });

  test("a refused push to a new repository leaves no repository behind", async () => {
    const m = await ociImage("mf/elsewhere", "x");
    await expectOciError(await put("mf/never-created", "v1", m.bytes), 400, "MANIFEST_BLOB_UNKNOWN");
    await expectOciError(await t.request("GET", "/v2/mf/never-created/tags/list"), 404, "NAME_UNKNOWN");
  });

  // The spec: a manifest rejected for references to manifests or blobs that do not exist
  // "MUST result in one or more MANIFEST_BLOB_UNKNOWN errors", an index's children included.
  test("an index whose child is missing → 400 MANIFEST_BLOB_UNKNOWN naming it", async () => {
    const child = await ociImage("mf/orphan", "child");
    const index = document({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [child.descriptor] });
    const error = await expectOciError(await put("mf/orphan", "v1", index.bytes, OCI_INDEX), 400, "MANIFEST_BLOB_UNKNOWN");
    expect(error.detail).toEqual({ digest: child.digest });
  });

  test("an index whose child is in another repository → 400 MANIFEST_BLOB_UNKNOWN", async () => {
    const child = await ociImage("mf/child-owner", "c");
    await pushed("mf/child-owner", child.digest, child.bytes);
    const list = document({ schemaVersion: 2, mediaType: DOCKER_MANIFEST_LIST, manifests: [child.descriptor] });
    await pushBlob(t, "mf/child-borrower", "x");
    await expectOciError(await put("mf/child-borrower", "v1", list.bytes, DOCKER_MANIFEST_LIST), 400, "MANIFEST_BLOB_UNKNOWN");
  });

  test("an index whose child exists only as a blob → 400 MANIFEST_BLOB_UNKNOWN", async () => {
    const child = await ociImage("mf/child-blob", "c");
    await pushBlob(t, "mf/child-blob", child.bytes);
    const index = document({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [child.descriptor] });
    await expectOciError(await put("mf/child-blob", "v1", index.bytes, OCI_INDEX), 400, "MANIFEST_BLOB_UNKNOWN");
  });
});

describe("refused pushes", () => {
  let valid: Uint8Array;
  let validDoc: Record<string, unknown>;
  beforeAll(async () => {
    const m = await ociImage("mf/bad", "base");
    valid = m.bytes;
    validDoc = m.doc as Record<string, unknown>;
  });

  const json = (doc: unknown) => enc.encode(JSON.stringify(doc));

  test("the digest in the URL does not match the content → 400 DIGEST_INVALID, nothing stored", async () => {
    const other = sha256Digest("other content");
    await expectOciError(await put("mf/bad", other, valid), 400, "DIGEST_INVALID");
    await expectOciError(await t.request("GET", `/v2/mf/bad/manifests/${other}`), 404, "MANIFEST_UNKNOWN");
    await expectOciError(await t.request("GET", `/v2/mf/bad/manifests/${sha256Digest(valid)}`), 404, "MANIFEST_UNKNOWN");
  });

  test("a digest reference with an unsupported algorithm or bad form → 400 DIGEST_INVALID", async () => {
    await expectOciError(await put("mf/bad", `sha512:${"ab".repeat(64)}`, valid), 400, "DIGEST_INVALID");
    await expectOciError(await put("mf/bad", `sha256:${"AB".repeat(32)}`, valid), 400, "DIGEST_INVALID");
    await expectOciError(await put("mf/bad", "sha256:short", valid), 400, "DIGEST_INVALID");
  });

  test("more than 4 MiB → 413 MANIFEST_INVALID", async () => {
    const big = new Uint8Array(4 * MiB + 1).fill(0x20);
    big.set(valid);
    await expectOciError(await put("mf/bad", "big", big), 413, "MANIFEST_INVALID");
  });

  test("more than 4 MiB, streamed without Content-Length → 413 MANIFEST_INVALID", async () => {
    const chunk = new Uint8Array(MiB).fill(0x20);
    await expectOciError(await put("mf/bad", "big", streamOf(valid, chunk, chunk, chunk, chunk)), 413, "MANIFEST_INVALID");
  });

  test("a Content-Length over 4 MiB is refused up front → 413 MANIFEST_INVALID", async () => {
    const res = await t.request("PUT", "/v2/mf/bad/manifests/big", {
      body: valid,
      headers: { "Content-Type": OCI_MANIFEST, "Content-Length": String(5 * MiB) },
    });
    await expectOciError(res, 413, "MANIFEST_INVALID");
  });

  const invalid: [string, () => Uint8Array, string | null][] = [
    ["an empty body", () => new Uint8Array(), OCI_MANIFEST],
    ["malformed JSON", () => enc.encode('{"schemaVersion": 2,'), OCI_MANIFEST],
    ["single-quoted JSON", () => enc.encode("{'schemaVersion': 2}"), OCI_MANIFEST],
    ["invalid UTF-8", () => new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), OCI_MANIFEST],
    ["a JSON array", () => json([validDoc]), OCI_MANIFEST],
    ["JSON null", () => enc.encode("null"), OCI_MANIFEST],
    ["a JSON string", () => json("manifest"), OCI_MANIFEST],
    ["schemaVersion 1", () => json({ ...validDoc, schemaVersion: 1 }), OCI_MANIFEST],
    ["schemaVersion as a string", () => json({ ...validDoc, schemaVersion: "2" }), OCI_MANIFEST],
    ["no schemaVersion", () => json({ ...validDoc, schemaVersion: undefined }), OCI_MANIFEST],
    ["an unknown media type", () => json({ ...validDoc, mediaType: "application/vnd.example.thing+json" }), "application/vnd.example.thing+json"],
    ["no media type at all", () => json({ ...validDoc, mediaType: undefined }), null],
    ["a generic Content-Type and no mediaType", () => json({ ...validDoc, mediaType: undefined }), "application/json"],
    ["a Docker Content-Type for an OCI manifest", () => valid, DOCKER_MANIFEST],
    ["an index Content-Type for an image manifest", () => valid, OCI_INDEX],
    ["an image Content-Type for an index", () => json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] }), OCI_MANIFEST],
    ["no config", () => json({ ...validDoc, config: undefined }), OCI_MANIFEST],
    ["layers not an array", () => json({ ...validDoc, layers: "none" }), OCI_MANIFEST],
    ["a layer with a negative size", () => json({ ...validDoc, layers: [{ mediaType: "x", digest: sha256Digest("l"), size: -1 }] }), OCI_MANIFEST],
    ["a layer with a string size", () => json({ ...validDoc, layers: [{ mediaType: "x", digest: sha256Digest("l"), size: "3" }] }), OCI_MANIFEST],
    ["a layer with a malformed digest", () => json({ ...validDoc, layers: [{ mediaType: "x", digest: "sha256:123", size: 3 }] }), OCI_MANIFEST],
    ["a layer without mediaType", () => json({ ...validDoc, layers: [{ digest: sha256Digest("l"), size: 3 }] }), OCI_MANIFEST],
    ["an index whose manifests is not an array", () => json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: {} }), OCI_INDEX],
    ["a subject that is not a descriptor", () => json({ ...validDoc, subject: sha256Digest("s") }), OCI_MANIFEST],
  ];
  for (const [why, body, contentType] of invalid) {
    test(`${why} → 400 MANIFEST_INVALID`, async () => {
      await expectOciError(await put("mf/bad", "invalid", body(), contentType), 400, "MANIFEST_INVALID");
    });
  }

  test("none of the refused pushes created the tag", async () => {
    await expectOciError(await t.request("GET", "/v2/mf/bad/manifests/invalid"), 404, "MANIFEST_UNKNOWN");
    await expectOciError(await t.request("GET", "/v2/mf/bad/manifests/big"), 404, "MANIFEST_UNKNOWN");
  });

  const badTags = ["-leading-dash", ".leading-dot", "x".repeat(129), "a+b", "t%20space"];
  for (const tag of badTags) {
    test(`tag ${tag.slice(0, 20)} → 400 TAG_INVALID`, async () => {
      await expectOciError(await put("mf/bad", tag, valid), 400, "TAG_INVALID");
    });
  }

  test("an invalid repository name → 400 NAME_INVALID", async () => {
    await expectOciError(await put("MF/Bad", "v1", valid), 400, "NAME_INVALID");
    await expectOciError(await put(`${"a".repeat(256)}`, "v1", valid), 400, "NAME_INVALID");
  });
});

describe("unknown manifests", () => {
  test("an unknown tag → 404 MANIFEST_UNKNOWN for GET and HEAD", async () => {
    await pushImage(t, "mf/unknown", "present");
    const error = await expectOciError(await t.request("GET", "/v2/mf/unknown/manifests/absent"), 404, "MANIFEST_UNKNOWN");
    expect(error.detail).toEqual({ reference: "absent" });
    await expectOciError(await t.request("HEAD", "/v2/mf/unknown/manifests/absent"), 404, "MANIFEST_UNKNOWN");
  });

  test("an unknown digest → 404 MANIFEST_UNKNOWN", async () => {
    const absent = sha256Digest("absent manifest");
    await expectOciError(await t.request("GET", `/v2/mf/unknown/manifests/${absent}`), 404, "MANIFEST_UNKNOWN");
    await expectOciError(await t.request("HEAD", `/v2/mf/unknown/manifests/${absent}`), 404, "MANIFEST_UNKNOWN");
  });

  test("a manifest of another repository is unknown here, by tag and by digest", async () => {
    const { digest } = await pushImage(t, "mf/mine", "v1");
    await pushImage(t, "mf/theirs", "other", ["a different layer"]);
    await expectOciError(await t.request("GET", "/v2/mf/theirs/manifests/v1"), 404, "MANIFEST_UNKNOWN");
    await expectOciError(await t.request("GET", `/v2/mf/theirs/manifests/${digest}`), 404, "MANIFEST_UNKNOWN");
  });

  test("a repository that does not exist → 404", async () => {
    const res = await t.request("GET", "/v2/mf/no/such/repo/manifests/latest");
    const { errors } = (await res.clone().json()) as { errors: { code: string }[] };
    expect(["MANIFEST_UNKNOWN", "NAME_UNKNOWN"]).toContain(errors[0]?.code ?? "");
    await expectOciError(res, 404, errors[0]?.code ?? "");
  });

  test("a reference that is neither tag nor digest names nothing on GET, HEAD and DELETE → 404 MANIFEST_UNKNOWN; PUT → 400", async () => {
    await pushImage(t, "mf/refs", "v1");
    for (const reference of ["sha256:short", "-bad", ".INVALID_MANIFEST_NAME", `sha512:${"ab".repeat(64)}`]) {
      await expectOciError(await t.request("GET", `/v2/mf/refs/manifests/${reference}`), 404, "MANIFEST_UNKNOWN");
      await expectOciError(await t.request("DELETE", `/v2/mf/refs/manifests/${reference}`), 404, "MANIFEST_UNKNOWN");
      await expectOciError(await t.request("HEAD", `/v2/mf/refs/manifests/${reference}`), 404, "MANIFEST_UNKNOWN");
    }
    // The reference is checked before the body: a push names something new, so a bad one is invalid, not unknown.
    await expectOciError(await put("mf/refs", ".INVALID_MANIFEST_NAME", enc.encode("{}")), 400, "TAG_INVALID");
  });
});

describe("robustness", () => {
  test("no response in this file was a 500", () => {
    expect(seen.length).toBeGreaterThan(100);
    expect(serverErrors(seen)).toEqual([]);
  });
});
