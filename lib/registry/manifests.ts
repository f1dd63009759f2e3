/**
 * @module Pushing and reading manifests. A push checks every reference and
 * records the manifest, its references and its tag in one transaction, so
 * no manifest row ever points at something that is not there.
 */
import { fail } from "../errors.ts";
import { linkBlob, linkedDigests } from "../db/queries/blobs.ts";
import {
  deleteManifestRow,
  findManifestByDigest,
  findManifestByTag,
  manifestIdsByDigest,
  parentDigests,
  upsertManifest,
} from "../db/queries/manifests.ts";
import { findRepositoryId, upsertRepository } from "../db/queries/repositories.ts";
import { deleteTag, setTag, tagTarget } from "../db/queries/tags.ts";
import { actorOf, type Caller } from "../auth/identity.ts";
import type { Manifest } from "../db/schema.ts";
import { sha256Digest } from "../oci/digest.ts";
import { parseManifest } from "../oci/manifest.ts";
import { accepts } from "../oci/media-types.ts";
import { checkDigest, checkTag, looksLikeDigest } from "../oci/names.ts";
import { EMPTY_JSON_DIGEST, ensureEmptyJsonBlob } from "./empty-blob.ts";
import type { Registry } from "./registry.ts";

/** What a manifest push stored. */
export interface PushedManifest {
  digest: string;
  subject: string | null;
}

/**
 * Stores `bytes` as a manifest of repository `name` under `reference` (a
 * tag, which then moves to it, or its own digest). Moving a tag that
 * already names another manifest needs the `overwrite` action, so the
 * policy can make tags immutable; without a `caller` (internal use) it is
 * allowed.
 */
export async function putManifest(
  reg: Registry,
  name: string,
  reference: string,
  contentType: string | null,
  bytes: Uint8Array,
  caller?: Caller,
): Promise<PushedManifest> {
  const limit = reg.limits.maxManifestBytes;
  if (bytes.byteLength > limit) fail("MANIFEST_TOO_LARGE", `manifest larger than ${limit} bytes`, { size: bytes.byteLength, limit });
  const digest = sha256Digest(bytes);
  const tag = parseReference(reference);
  if (tag === null && reference !== digest) {
    fail("DIGEST_INVALID", "manifest content does not match the digest in the URL", { expected: reference, actual: digest });
  }
  const parsed = parseManifest(bytes, contentType);
  const usesEmptyJson = parsed.blobs.includes(EMPTY_JSON_DIGEST);
  // Artifacts may name the empty JSON config without pushing it; its bytes are known.
  if (usesEmptyJson) await ensureEmptyJsonBlob(reg);
  // Decided before the transaction, which must not wait on anything but its own statements.
  const overwrite = tag !== null && caller ? await reg.policy.decide(caller.identity, "overwrite", name) : null;
  const now = reg.now();
  await reg.db.transaction().execute(async (trx) => {
    const repositoryId = await upsertRepository(trx, name, now);
    if (usesEmptyJson) await linkBlob(trx, repositoryId, EMPTY_JSON_DIGEST, 2, now);
    const present = await linkedDigests(trx, repositoryId, parsed.blobs);
    const missingBlob = parsed.blobs.find((d) => !present.has(d));
    if (missingBlob) fail("MANIFEST_BLOB_UNKNOWN", "manifest references a blob unknown to this repository", { digest: missingBlob });
    const children = await manifestIdsByDigest(trx, repositoryId, parsed.children);
    const missingChild = parsed.children.find((d) => !children.has(d));
    // The spec names one code for any missing reference, blob or manifest.
    if (missingChild) fail("MANIFEST_BLOB_UNKNOWN", "index references a manifest unknown to this repository", { digest: missingChild });
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
    if (tag === null) return;
    if (overwrite && !overwrite.allowed) {
      const current = await tagTarget(trx, repositoryId, tag);
      if (current !== null && current !== manifestId) {
        reg.audit.record({
          event: "access.denied",
          actor: actorOf(caller!.identity),
          outcome: "denied",
          source: caller!.source,
          repository: name,
          tag,
          digest,
          detail: { action: "overwrite", reason: overwrite.reason, rules: overwrite.decidedBy.map((r) => r.id) },
        });
        fail("DENIED", `tag ${tag} already points to another manifest and may not be moved: ${overwrite.reason}`, { tag });
      }
    }
    await setTag(trx, repositoryId, tag, manifestId, now);
  });
  return { digest, subject: parsed.subject };
}

/**
 * The manifest repository `name` holds under `reference` (tag or digest).
 * `accepted` is the client's Accept list: a manifest of a type it did not
 * ask for is not silently served. Throws MANIFEST_UNKNOWN.
 */
export async function getManifest(reg: Registry, name: string, reference: string, accepted: readonly string[] = []): Promise<Manifest> {
  const tag = parseReference(reference);
  const manifest =
    tag === null ? await findManifestByDigest(reg.db, name, reference) : await findManifestByTag(reg.db, name, tag);
  if (!manifest) fail("MANIFEST_UNKNOWN", "manifest unknown to registry", { reference });
  if (!accepts(accepted, manifest.media_type)) {
    fail("MANIFEST_UNKNOWN", `manifest is a ${manifest.media_type}, which the Accept header does not allow`, {
      reference,
      mediaType: manifest.media_type,
    });
  }
  return manifest;
}

/**
 * Deletes by digest (the manifest, its tags and its references; refused
 * with MANIFEST_REFERENCED while an index lists it) or by tag (only the
 * tag). Throws MANIFEST_UNKNOWN when there is nothing to delete.
 */
export async function deleteManifest(reg: Registry, name: string, reference: string): Promise<void> {
  const tag = parseReference(reference);
  await reg.db.transaction().execute(async (trx) => {
    const repositoryId = await findRepositoryId(trx, name);
    if (repositoryId === null) fail("MANIFEST_UNKNOWN", "manifest unknown to registry", { reference });
    if (tag !== null) {
      if (!(await deleteTag(trx, repositoryId, tag))) fail("MANIFEST_UNKNOWN", "tag unknown to registry", { reference });
      return;
    }
    const manifest = await findManifestByDigest(trx, name, reference);
    if (!manifest) fail("MANIFEST_UNKNOWN", "manifest unknown to registry", { reference });
    const parents = await parentDigests(trx, manifest.id, 5);
    if (parents.length > 0) {
      fail("MANIFEST_REFERENCED", "manifest is listed by an index of this repository; delete the index first", { reference, indexes: parents });
    }
    await deleteManifestRow(trx, manifest.id);
  });
}

/** A reference is a tag (returned) or a digest (null); anything else is invalid. */
function parseReference(reference: string): string | null {
  if (looksLikeDigest(reference)) {
    checkDigest(reference);
    return null;
  }
  return checkTag(reference);
}
