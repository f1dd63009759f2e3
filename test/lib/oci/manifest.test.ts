/**
 * @module parseManifest: what a pushed manifest references and declares,
 * and every way a manifest is refused as MANIFEST_INVALID.
 */
import { describe, expect, test } from "bun:test";
import { RegistryError } from "../../../lib/errors.ts";
import { sha256Digest } from "../../../lib/oci/digest.ts";
import { parseManifest } from "../../../lib/oci/manifest.ts";
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_EMPTY, OCI_INDEX, OCI_MANIFEST } from "../../../lib/oci/media-types.ts";

const enc = new TextEncoder();
const d = (label: string) => sha256Digest(label);
const configDigest = d("config");
const layer1 = d("layer-1");
const layer2 = d("layer-2");

const config = { mediaType: "application/vnd.oci.image.config.v1+json", digest: configDigest, size: 6 };
const layer = (digest: string, extra: object = {}) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest, size: 7, ...extra });

function image(extra: Record<string, unknown> = {}) {
  return { schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [layer(layer1), layer(layer2)], ...extra };
}

function bytes(doc: unknown): Uint8Array {
  return enc.encode(typeof doc === "string" ? doc : JSON.stringify(doc));
}

/** The code of the RegistryError parseManifest throws, or null when it parses. */
function codeOf(doc: unknown, contentType: string | null = OCI_MANIFEST): string | null {
  try {
    parseManifest(doc instanceof Uint8Array ? doc : bytes(doc), contentType);
    return null;
  } catch (error) {
    if (error instanceof RegistryError) return error.code;
    throw error;
  }
}

describe("image manifests", () => {
  test("an OCI image manifest references its config and layers", () => {
    expect(parseManifest(bytes(image()), OCI_MANIFEST)).toEqual({
      mediaType: OCI_MANIFEST,
      blobs: [configDigest, layer1, layer2],
      children: [],
      subject: null,
      artifactType: config.mediaType,
      annotations: null,
    });
  });

  test("a Docker schema 2 manifest", () => {
    const doc = {
      schemaVersion: 2,
      mediaType: DOCKER_MANIFEST,
      config: { mediaType: "application/vnd.docker.container.image.v1+json", digest: configDigest, size: 6 },
      layers: [{ mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", digest: layer1, size: 7 }],
    };
    expect(parseManifest(bytes(doc), DOCKER_MANIFEST)).toMatchObject({ mediaType: DOCKER_MANIFEST, blobs: [configDigest, layer1], children: [] });
  });

  test("a blob referenced twice is listed once", () => {
    const doc = image({ layers: [layer(layer1), layer(configDigest), layer(layer1)] });
    expect(parseManifest(bytes(doc), OCI_MANIFEST).blobs).toEqual([configDigest, layer1]);
  });

  test("an image with no layers references only its config", () => {
    expect(parseManifest(bytes(image({ layers: [] })), OCI_MANIFEST).blobs).toEqual([configDigest]);
  });

  test("foreign and non-distributable layers, and layers with urls, are not required", () => {
    const doc = image({
      layers: [
        layer(layer1),
        { mediaType: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", digest: d("f1"), size: 1 },
        { mediaType: "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", digest: d("f2"), size: 1 },
        layer(d("f3"), { urls: ["https://example.com/layer"] }),
        layer(layer2, { urls: [] }),
      ],
    });
    expect(parseManifest(bytes(doc), OCI_MANIFEST).blobs).toEqual([configDigest, layer1, layer2]);
  });

  test("an artifact: artifactType is recorded, and the subject's digest", () => {
    const subject = { mediaType: OCI_MANIFEST, digest: d("subject"), size: 100 };
    const doc = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: "application/vnd.example.sbom",
      config: { mediaType: OCI_EMPTY, digest: sha256Digest("{}"), size: 2 },
      layers: [layer(layer1, { mediaType: "application/spdx+json" })],
      subject,
    };
    expect(parseManifest(bytes(doc), OCI_MANIFEST)).toMatchObject({
      artifactType: "application/vnd.example.sbom",
      subject: subject.digest,
      blobs: [sha256Digest("{}"), layer1],
    });
  });
});

describe("indexes", () => {
  const child = (label: string) => ({ mediaType: OCI_MANIFEST, digest: d(label), size: 500, platform: { architecture: "amd64", os: "linux" } });

  test("an OCI index references its manifests as children, no blobs", () => {
    const doc = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [child("m1"), child("m2"), child("m1")] };
    expect(parseManifest(bytes(doc), OCI_INDEX)).toEqual({
      mediaType: OCI_INDEX,
      blobs: [],
      children: [d("m1"), d("m2")],
      subject: null,
      artifactType: null,
      annotations: null,
    });
  });

  test("a Docker manifest list", () => {
    const doc = { schemaVersion: 2, mediaType: DOCKER_MANIFEST_LIST, manifests: [{ ...child("m1"), mediaType: DOCKER_MANIFEST }] };
    expect(parseManifest(bytes(doc), DOCKER_MANIFEST_LIST)).toMatchObject({ mediaType: DOCKER_MANIFEST_LIST, children: [d("m1")], blobs: [] });
  });

  test("an empty index", () => {
    expect(parseManifest(bytes({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] }), OCI_INDEX).children).toEqual([]);
  });

  test("an index's manifests must be an array of descriptors", () => {
    expect(codeOf({ schemaVersion: 2, mediaType: OCI_INDEX }, OCI_INDEX)).toBe("MANIFEST_INVALID");
    expect(codeOf({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: {} }, OCI_INDEX)).toBe("MANIFEST_INVALID");
    expect(codeOf({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ digest: d("x") }] }, OCI_INDEX)).toBe("MANIFEST_INVALID");
  });
});

describe("media type", () => {
  const { mediaType: _omit, ...untyped } = image();

  test("without a mediaType field, the Content-Type decides, parameters ignored", () => {
    expect(parseManifest(bytes(untyped), OCI_MANIFEST).mediaType).toBe(OCI_MANIFEST);
    expect(parseManifest(bytes(untyped), `${DOCKER_MANIFEST}; charset=utf-8`).mediaType).toBe(DOCKER_MANIFEST);
  });

  test("with a mediaType field, a generic or absent Content-Type is fine", () => {
    expect(parseManifest(bytes(image()), null).mediaType).toBe(OCI_MANIFEST);
    expect(parseManifest(bytes(image()), "application/json").mediaType).toBe(OCI_MANIFEST);
    expect(parseManifest(bytes(image()), "").mediaType).toBe(OCI_MANIFEST);
  });

  test("a Content-Type naming another manifest type than the mediaType field is refused", () => {
    expect(codeOf(image(), DOCKER_MANIFEST)).toBe("MANIFEST_INVALID");
    expect(codeOf(image(), OCI_INDEX)).toBe("MANIFEST_INVALID");
  });

  test("no media type anywhere, or an unknown one, is refused", () => {
    expect(codeOf(untyped, null)).toBe("MANIFEST_INVALID");
    expect(codeOf(untyped, "application/json")).toBe("MANIFEST_INVALID");
    expect(codeOf(image({ mediaType: "application/vnd.example.unknown+json" }), null)).toBe("MANIFEST_INVALID");
    expect(codeOf(untyped, "application/vnd.docker.distribution.manifest.v1+prettyjws")).toBe("MANIFEST_INVALID");
  });

  test("a non-string mediaType is refused", () => {
    expect(codeOf(image({ mediaType: 2 }), OCI_MANIFEST)).toBe("MANIFEST_INVALID");
    expect(codeOf(image({ mediaType: null }), OCI_MANIFEST)).toBe("MANIFEST_INVALID");
  });
});

describe("annotations", () => {
  test("the string-valued entries, in order; a key named __proto__ stays a key", () => {
    const doc = JSON.parse(`{"b":"1","n":2,"__proto__":"p","a":"x","o":{"k":"v"}}`);
    const parsed = parseManifest(bytes(image({ annotations: doc })), OCI_MANIFEST);
    expect(parsed.annotations && Object.entries(parsed.annotations)).toEqual([["b", "1"], ["__proto__", "p"], ["a", "x"]]);
    expect(parseManifest(bytes(image({ annotations: { n: 1 } })), OCI_MANIFEST).annotations).toBeNull();
    expect(parseManifest(bytes(image({ annotations: ["x"] })), OCI_MANIFEST).annotations).toBeNull();
  });
});

describe("refused documents", () => {
  test("malformed JSON", () => {
    for (const text of ["", "{", "{'schemaVersion':2}", "{\"schemaVersion\":2,}", "undefined"]) {
      expect({ text, code: codeOf(text) }).toEqual({ text, code: "MANIFEST_INVALID" });
    }
  });

  test("invalid UTF-8", () => {
    const json = enc.encode(JSON.stringify(image({ annotations: { k: "XX" } })));
    const at = new TextDecoder().decode(json).indexOf("XX");
    json[at] = 0xff;
    json[at + 1] = 0xfe;
    expect(codeOf(json)).toBe("MANIFEST_INVALID");
  });

  test("JSON that is not an object", () => {
    for (const text of ["[]", "null", "42", "\"manifest\"", "true"]) {
      expect({ text, code: codeOf(text) }).toEqual({ text, code: "MANIFEST_INVALID" });
    }
  });

  test("a schemaVersion other than the number 2", () => {
    const { schemaVersion: _omit, ...missing } = image();
    for (const doc of [image({ schemaVersion: 1 }), image({ schemaVersion: "2" }), image({ schemaVersion: 2.5 }), missing]) {
      expect(codeOf(doc)).toBe("MANIFEST_INVALID");
    }
  });

  test("bad descriptor fields", () => {
    const bad: [string, Record<string, unknown>][] = [
      ["no config", { config: undefined }],
      ["config not an object", { config: "sha256:x" }],
      ["config is an array", { config: [config] }],
      ["config without mediaType", { config: { digest: configDigest, size: 1 } }],
      ["config with empty mediaType", { config: { ...config, mediaType: "" } }],
      ["config without digest", { config: { mediaType: config.mediaType, size: 1 } }],
      ["config digest not a string", { config: { ...config, digest: 5 } }],
      ["config digest malformed", { config: { ...config, digest: "sha256:abc" } }],
      ["config digest uppercase", { config: { ...config, digest: configDigest.toUpperCase() } }],
      ["config digest of another algorithm", { config: { ...config, digest: `sha512:${"a".repeat(128)}` } }],
      ["config without size", { config: { mediaType: config.mediaType, digest: configDigest } }],
      ["negative size", { config: { ...config, size: -1 } }],
      ["fractional size", { config: { ...config, size: 1.5 } }],
      ["size as a string", { config: { ...config, size: "6" } }],
      ["size beyond safe integers", { config: { ...config, size: 2 ** 53 } }],
      ["no layers", { layers: undefined }],
      ["layers not an array", { layers: { 0: layer(layer1) } }],
      ["a null layer", { layers: [null] }],
      ["a layer without digest", { layers: [{ mediaType: "x", size: 1 }] }],
      ["a subject that is not a descriptor", { subject: "sha256:abc" }],
      ["a subject with a bad digest", { subject: { mediaType: OCI_MANIFEST, digest: "nope", size: 1 } }],
      ["a non-string artifactType", { artifactType: 7 }],
    ];
    for (const [why, extra] of bad) {
      expect({ why, code: codeOf(image(extra)) }).toEqual({ why, code: "MANIFEST_INVALID" });
    }
  });

  test("a zero size is allowed", () => {
    expect(codeOf(image({ config: { ...config, size: 0 } }))).toBeNull();
  });
});

describe("artifactType and config.mediaType are media types (RFC 6838)", () => {
  test("real artifact and config types parse", () => {
    for (const type of ["application/vnd.cncf.helm.config.v1+json", "application/vnd.dev.cosign.artifact.sig.v1+json", "text/plain", "application/spdx+json"]) {
      expect(parseManifest(bytes(image({ artifactType: type })), OCI_MANIFEST).artifactType).toBe(type);
      expect(parseManifest(bytes(image({ config: { ...config, mediaType: type } })), OCI_MANIFEST).artifactType).toBe(type);
    }
  });

  test("control characters, spaces, parameters or no slash → MANIFEST_INVALID", () => {
    const bad = ["application/x\u001b[2Kevil", "\u001b[1A\u001b[2K", "application/vnd.x\n", "text/plain; charset=utf-8", "no-slash", "a/b/c", "", "application/\u202evil", "x".repeat(128) + "/y"];
    for (const type of bad) {
      expect({ type, code: codeOf(image({ artifactType: type })) }).toEqual({ type, code: "MANIFEST_INVALID" });
      expect({ type, code: codeOf(image({ config: { ...config, mediaType: type } })) }).toEqual({ type, code: "MANIFEST_INVALID" });
    }
    expect(codeOf({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [], artifactType: "a\u0007/b" }, OCI_INDEX)).toBe("MANIFEST_INVALID");
  });
});
