/**
 * @module The referrers API: the manifests of a repository whose `subject`
 * is a given digest, as the descriptors of an OCI image index, a page at a
 * time. Built only from what the push recorded (media type, artifact type,
 * size, annotations capped at REFERRER_ANNOTATIONS_MAX_BYTES), so a page
 * takes the same small memory however large the manifests are.
 */
import { referrersPage } from "../db/queries/referrers.ts";
import { REFERRER_ANNOTATIONS_MAX_BYTES, REFERRERS_PAGE_MAX } from "../limits.ts";
import { checkDigest } from "../oci/names.ts";
import type { Registry } from "./registry.ts";

/** One referrer, as a descriptor. */
export interface ReferrerDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** Which page of referrers to list. */
export interface ReferrersQuery {
  /** Only referrers of this artifact type. */
  artifactType?: string;
  /** At most this many (capped at REFERRERS_PAGE_MAX, which is also the default). */
  n?: number;
  /** The digest the previous page ended with: this page starts after it. */
  last?: string;
}

/** A page of referrers and the `last` of the next page, or null when none follows. */
export interface ReferrersPage {
  manifests: ReferrerDescriptor[];
  next: string | null;
}

/** Referrers of `digest` in repository `name`, a page at a time in digest order; throws DIGEST_INVALID. */
export async function listReferrers(reg: Registry, name: string, digest: string, query: ReferrersQuery = {}): Promise<ReferrersPage> {
  checkDigest(digest);
  // Any string is a usable cursor: digests sort after it or not.
  const last = query.last;
  const size = Math.min(query.n ?? REFERRERS_PAGE_MAX, REFERRERS_PAGE_MAX);
  if (size <= 0) return { manifests: [], next: null };
  const rows = await referrersPage(reg.db, name, digest, last ?? "", size + 1, query.artifactType);
  const manifests = rows.slice(0, size).map((row) => {
    const descriptor: ReferrerDescriptor = { mediaType: row.media_type, digest: row.digest, size: row.size };
    if (row.artifact_type !== null) descriptor.artifactType = row.artifact_type;
    if (row.annotations !== null) descriptor.annotations = JSON.parse(row.annotations) as Record<string, string>;
    return descriptor;
  });
  return { manifests, next: rows.length > size ? manifests[manifests.length - 1]!.digest : null };
}

/**
 * `annotations` as the referrers API stores them: whole entries, in their
 * order, while the JSON object stays within REFERRER_ANNOTATIONS_MAX_BYTES
 * (an entry that would pass it is left out; later, smaller ones may still
 * fit); null when none is kept.
 */
export function capReferrerAnnotations(annotations: Record<string, string> | null): string | null {
  if (annotations === null) return null;
  const kept = Object.create(null) as Record<string, string>;
  let bytes = 2;
  let count = 0;
  for (const [key, text] of Object.entries(annotations)) {
    const entry = Buffer.byteLength(JSON.stringify(key)) + 1 + Buffer.byteLength(JSON.stringify(text)) + (count > 0 ? 1 : 0);
    if (bytes + entry > REFERRER_ANNOTATIONS_MAX_BYTES) continue;
    kept[key] = text;
    bytes += entry;
    count++;
  }
  return count > 0 ? JSON.stringify(kept) : null;
}
