/**
 * @module Pushing and reading manifests. A push checks every reference and
 * records the manifest, its references and its tag in one transaction, so
 * no manifest row ever points at something that is not there.
 */
import { fail } from "../errors.ts";
import { linkedDigests } from "../db/queries/blobs.ts";
import { findManifestByDigest, findManifestByTag, manifestIdsByDigest, upsertManifest } from "../db/queries/manifests.ts";
import { upsertRepository } from "../db/queries/repositories.ts";
import { setTag } from "../db/queries/tags.ts";
import type { Manifest } from "../db/schema.ts";
import { sha256Digest } from "../oci/digest.ts";
import { parseManifest } from "../oci/manifest.ts";
import { MAX_MANIFEST_BYTES } from "../oci/media-types.ts";
import { checkDigest, checkTag, looksLikeDigest } from "../oci/names.ts";
import type { Registry } from "./registry.ts";

/** What a manifest push stored. */
export interface PushedManifest {
  digest: string;
  subject: string | null;
}

/**
 * Stores `bytes` as a manifest of repository `name` under `reference` (a
 * tag, which then moves to it, or its own digest).
 */
export async function putManifest(
  reg: Registry,
  name: string,
  reference: string,
  contentType: string | null,
  bytes: Uint8Array,
): Promise<PushedManifest> {
  if (bytes.byteLength > MAX_MANIFEST_BYTES) {
    fail("MANIFEST_TOO_LARGE", `manifest larger than ${MAX_MANIFEST_BYTES} bytes`, { size: bytes.byteLength });
  }
  const digest = sha256Digest(bytes);
  const tag = parseReference(reference);
  if (tag === null && reference !== digest) {
    fail("DIGEST_INVALID", "manifest content does not match the digest in the URL", { expected: reference, actual: digest });
  }
  const parsed = parseManifest(bytes, contentType);
  const now = reg.now();
  await reg.db.transaction().execute(async (trx) => {
    const repositoryId = await upsertRepository(trx, name, now);
    const present = await linkedDigests(trx, repositoryId, parsed.blobs);
    const missingBlob = parsed.blobs.find((d) => !present.has(d));
    if (missingBlob) fail("MANIFEST_BLOB_UNKNOWN", "manifest references a blob unknown to this repository", { digest: missingBlob });
    const children = await manifestIdsByDigest(trx, repositoryId, parsed.children);
    const missingChild = parsed.children.find((d) => !children.has(d));
    if (missingChild) fail("MANIFEST_UNKNOWN", "index references a manifest unknown to this repository", { digest: missingChild });
    const manifestId = await upsertManifest(
      trx,
      {
        repository_id: repositoryId,
        digest,
        media_type: parsed.mediaType,
        artifact_type: parsed.artifactType,
        subject: parsed.subject,
        content: bytes,
        size: bytes.byteLength,
        created_at: now,
      },
      parsed.blobs,
      [...children.values()],
    );
    if (tag !== null) await setTag(trx, repositoryId, tag, manifestId, now);
  });
  return { digest, subject: parsed.subject };
}

/** The manifest repository `name` holds under `reference` (tag or digest); throws MANIFEST_UNKNOWN. */
export async function getManifest(reg: Registry, name: string, reference: string): Promise<Manifest> {
  const tag = parseReference(reference);
  const manifest =
    tag === null ? await findManifestByDigest(reg.db, name, reference) : await findManifestByTag(reg.db, name, tag);
  if (!manifest) fail("MANIFEST_UNKNOWN", "manifest unknown to registry", { reference });
  return manifest;
}

/** A reference is a tag (returned) or a digest (null); anything else is invalid. */
function parseReference(reference: string): string | null {
  if (looksLikeDigest(reference)) {
    checkDigest(reference);
    return null;
  }
  return checkTag(reference);
}
