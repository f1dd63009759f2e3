/**
 * @module Parses a pushed manifest into what the registry must check and
 * record: its media type, the blobs and child manifests it references, its
 * subject and artifact type. The bytes themselves are stored untouched.
 */
import { fail } from "../errors.ts";
import { checkDigest } from "./names.ts";
import {
  foreignLayerMediaTypes,
  isMediaType,
  indexMediaTypes,
  manifestMediaTypes,
  type ManifestMediaType,
} from "./media-types.ts";

/** What a manifest references and declares. */
export interface ParsedManifest {
  mediaType: ManifestMediaType;
  /** Digests of blobs that must exist in the repository (config and layers). */
  blobs: string[];
  /** Digests of manifests that must exist in the repository (an index's entries). */
  children: string[];
  subject: string | null;
  artifactType: string | null;
  /** The document's string-valued `annotations`, in their order; null when it has none. */
  annotations: Record<string, string> | null;
}

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: unknown;
}

/** Parses and checks `bytes` pushed with Content-Type `contentType`; throws MANIFEST_INVALID. */
export function parseManifest(bytes: Uint8Array, contentType: string | null): ParsedManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    fail("MANIFEST_INVALID", "manifest is not valid UTF-8 JSON");
  }
  if (!isObject(doc)) fail("MANIFEST_INVALID", "manifest must be a JSON object");

  const declared = doc.mediaType;
  if (declared !== undefined && typeof declared !== "string") fail("MANIFEST_INVALID", "mediaType must be a string");
  const header = contentType?.split(";")[0]?.trim() || undefined;
  if (declared !== undefined && header !== undefined && header !== declared && isKnown(header)) {
    fail("MANIFEST_INVALID", "Content-Type does not match the manifest's mediaType", { contentType: header, mediaType: declared });
  }
  const mediaType = declared ?? header;
  if (!isKnown(mediaType)) {
    fail("MANIFEST_INVALID", "unsupported manifest media type", { mediaType: mediaType ?? null });
  }
  if (doc.schemaVersion !== 2) fail("MANIFEST_INVALID", "schemaVersion must be 2");

  const subject = doc.subject === undefined ? null : descriptor(doc.subject, "subject").digest;
  const artifactType = optionalMediaType(doc.artifactType, "artifactType");
  const annotations = stringEntries(doc.annotations);

  if (indexMediaTypes.includes(mediaType)) {
    const entries = descriptorList(doc.manifests, "manifests");
    return { mediaType, blobs: [], children: unique(entries.map((d) => d.digest)), subject, artifactType, annotations };
  }
  const config = descriptor(doc.config, "config");
  // The config's type is the artifact type when none is given, shown by `mcr repo show`: it must be a media type too.
  checkMediaType(config.mediaType, "config.mediaType");
  const layers = descriptorList(doc.layers, "layers");
  const pushed = layers.filter((d) => !isForeign(d));
  return {
    mediaType,
    blobs: unique([config.digest, ...pushed.map((d) => d.digest)]),
    children: [],
    subject,
    artifactType: artifactType ?? config.mediaType,
    annotations,
  };
}

function isKnown(type: string | undefined): type is ManifestMediaType {
  return (manifestMediaTypes as readonly string[]).includes(type ?? "");
}

function isForeign(d: Descriptor): boolean {
  return foreignLayerMediaTypes.includes(d.mediaType) || (Array.isArray(d.urls) && d.urls.length > 0);
}

function descriptorList(value: unknown, field: string): Descriptor[] {
  if (!Array.isArray(value)) fail("MANIFEST_INVALID", `${field} must be an array`);
  return value.map((item, i) => descriptor(item, `${field}[${i}]`));
}

function descriptor(value: unknown, field: string): Descriptor {
  if (!isObject(value)) fail("MANIFEST_INVALID", `${field} must be a descriptor object`);
  const { mediaType, digest, size } = value;
  if (typeof mediaType !== "string" || mediaType === "") fail("MANIFEST_INVALID", `${field}.mediaType must be a string`);
  if (typeof digest !== "string") fail("MANIFEST_INVALID", `${field}.digest must be a string`);
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
    fail("MANIFEST_INVALID", `${field}.size must be a non-negative integer`);
  }
  try {
    checkDigest(digest);
  } catch {
    fail("MANIFEST_INVALID", `${field}.digest is not a valid sha256 digest`, { digest: digest.slice(0, 200) });
  }
  return { mediaType, digest, size, urls: value.urls };
}

function optionalMediaType(value: unknown, field: string): string | null {
  if (value === undefined) return null;
  if (typeof value !== "string") fail("MANIFEST_INVALID", `${field} must be a string`);
  return checkMediaType(value, field);
}

function checkMediaType(value: string, field: string): string {
  if (!isMediaType(value)) fail("MANIFEST_INVALID", `${field} must be a media type (RFC 6838 type/subtype)`, { [field]: value.slice(0, 255) });
  return value;
}

/** The string-valued entries of an annotations object (others are ignored, as before); null when there are none. */
function stringEntries(value: unknown): Record<string, string> | null {
  if (!isObject(value)) return null;
  // No prototype: a key named __proto__ stays a key.
  const out = Object.create(null) as Record<string, string>;
  let count = 0;
  for (const [key, text] of Object.entries(value)) {
    if (typeof text !== "string") continue;
    out[key] = text;
    count++;
  }
  return count > 0 ? out : null;
}

function unique(items: string[]): string[] {
  return [...new Set(items)];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
