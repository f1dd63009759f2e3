/**
 * @module Pushing and reading manifests. A push checks every reference and
 * records the manifest, its references and its tag in one transaction, so
 * no manifest row ever points at something that is not there. Pushes,
 * pulls and deletes are audited once they have happened.
 */
import type { AuditContext } from "../audit/audit-log.ts";
import { fail } from "../errors.ts";
import { linkBlob, linkedDigests } from "../db/queries/blobs.ts";
import { withStoredBlobs } from "../gc/claims.ts";
import {
  deleteManifestRow,
  findManifestByDigest,
  findManifestByTag,
  manifestIdsByDigest,
  parentDigests,
  touchManifest,
  upsertManifest,
} from "../db/queries/manifests.ts";
import { findRepositoryId, upsertRepository } from "../db/queries/repositories.ts";
import { deleteTag, findTagTarget, setTag, tagsOfManifest } from "../db/queries/tags.ts";
import type { Identity } from "../auth/identity.ts";
import type { Manifest } from "../db/schema.ts";
import { sha256Digest } from "../oci/digest.ts";
import { parseManifest, type ParsedManifest } from "../oci/manifest.ts";
import { accepts, imageConfigMediaTypes, MAX_MANIFEST_BYTES } from "../oci/media-types.ts";
import { checkDigest, checkTag, isSha256Digest, isTag, looksLikeDigest } from "../oci/names.ts";
import { TOUCH_INTERVAL_MS } from "./blobs.ts";
import { EMPTY_JSON_DIGEST, ensureEmptyJsonBlob } from "./empty-blob.ts";
import { capReferrerAnnotations } from "./referrers.ts";
import type { Registry } from "./registry.ts";

/** What a manifest push stored. */
export interface PushedManifest {
  digest: string;
  subject: string | null;
}

/**
 * Stores `bytes` as a manifest of repository `name` under `reference` (a
 * tag, which then moves to it, or its own digest). Audited as
 * `manifest.pushed`, and `tag.moved` when the tag named another manifest.
 * Moving a tag needs the `overwrite` action of `identity`, so the policy
 * can make tags immutable; without an identity (internal use) it is allowed.
 */
export async function putManifest(
  reg: Registry,
  name: string,
  reference: string,
  contentType: string | null,
  bytes: Uint8Array,
  by: AuditContext,
  identity?: Identity,
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
  // Artifacts may name the empty JSON config without pushing it; its bytes are
  // known, so it is provided, and linked only once it is stored and not being collected.
  const provided = usesEmptyJson ? [EMPTY_JSON_DIGEST] : [];
  // Decided before the transaction, which must not wait on anything but its own statements.
  const overwrite = tag !== null && identity ? await reg.policy.decide(identity, "overwrite", name) : null;
  const previous = await withStoredBlobs(reg, provided, () => ensureEmptyJsonBlob(reg), async (trx) => {
    const now = reg.now();
    const repositoryId = await upsertRepository(trx, name, now);
    if (usesEmptyJson) await linkBlob(trx, repositoryId, EMPTY_JSON_DIGEST, 2, now);
    const present = await linkedDigests(trx, repositoryId, parsed.blobs);
    const missingBlob = parsed.blobs.find((d) => !present.has(d));
    if (missingBlob) fail("MANIFEST_BLOB_UNKNOWN", "manifest references a blob unknown to this repository", { digest: missingBlob });
    const children = await manifestIdsByDigest(trx, repositoryId, parsed.children);
    const missingChild = parsed.children.find((d) => !children.has(d));
    // The spec names one code for any missing reference, blob or manifest.
    if (missingChild) fail("MANIFEST_BLOB_UNKNOWN", "index references a manifest unknown to this repository", { digest: missingChild });
    const record = manifestRecord(repositoryId, digest, bytes, parsed, now);
    const manifestId = await upsertManifest(trx, record.row, parsed.blobs, [...children.values()], record.referrerAnnotations);
    if (tag === null) return null;
    const before = await findTagTarget(trx, repositoryId, tag);
    if (before !== null && before !== digest && overwrite && !overwrite.allowed) {
      reg.audit.record({
        ...by,
        event: "access.denied",
        outcome: "denied",
        repository: name,
        tag,
        digest,
        detail: { action: "overwrite", reason: overwrite.reason, rules: overwrite.decidedBy.map((r) => r.id) },
      });
      fail("DENIED", `tag ${tag} already points to another manifest and may not be moved: ${overwrite.reason}`, { tag });
    }
    await setTag(trx, repositoryId, tag, manifestId, now);
    return before;
  });
  const detail: Record<string, unknown> = { mediaType: parsed.mediaType, size: bytes.byteLength };
  if (parsed.artifactType !== null && !imageConfigMediaTypes.includes(parsed.artifactType)) detail.artifactType = parsed.artifactType;
  if (parsed.subject !== null) detail.subject = parsed.subject;
  reg.audit.record({ ...by, event: "manifest.pushed", outcome: "success", repository: name, digest, tag, detail });
  if (tag !== null && previous !== null && previous !== digest) {
    reg.audit.record({ ...by, event: "tag.moved", outcome: "success", repository: name, digest, tag, detail: { from: previous } });
  }
  return { digest, subject: parsed.subject };
}

/**
 * The manifest repository `name` holds under `reference` (tag or digest).
 * `accepted` is the client's Accept list: a manifest of a type it did not
 * ask for is not silently served. Throws MANIFEST_UNKNOWN.
 */
export async function getManifest(reg: Registry, name: string, reference: string, accepted: readonly string[] = []): Promise<Manifest> {
  const tag = lookupReference(reference);
  const manifest =
    tag === null ? await findManifestByDigest(reg.db, name, reference) : await findManifestByTag(reg.db, name, tag);
  if (!manifest) fail("MANIFEST_UNKNOWN", "manifest unknown to registry", { reference });
  // GET and HEAD both count as pulls for retention: kubelets and containerd resolve and re-check tags with HEAD.
  reg.pulls.record(manifest.id, reg.now());
  // A read is a use: GC's grace period protects a manifest a client just checked (and will reference).
  const now = reg.now();
  if (now - manifest.last_seen_at > TOUCH_INTERVAL_MS && !(await touchManifest(reg.db, manifest.id, now))) {
    fail("MANIFEST_UNKNOWN", "manifest unknown to registry", { reference });
  }
  if (!accepts(accepted, manifest.media_type)) {
    fail("MANIFEST_UNKNOWN", `manifest is a ${manifest.media_type}, which the Accept header does not allow`, {
      reference,
      mediaType: manifest.media_type,
    });
  }
  return manifest;
}

/**
 * A manifest GET: `getManifest`, audited as `manifest.pulled`. (HEAD, which
 * clients send to check a digest, is not a pull and calls `getManifest`.)
 */
export async function pullManifest(
  reg: Registry,
  name: string,
  reference: string,
  accepted: readonly string[],
  by: AuditContext,
): Promise<Manifest> {
  const manifest = await getManifest(reg, name, reference, accepted);
  const tag = looksLikeDigest(reference) ? null : reference;
  reg.audit.record({ ...by, event: "manifest.pulled", outcome: "success", repository: name, digest: manifest.digest, tag });
  return manifest;
}

/**
 * Deletes by digest (the manifest, its tags and its references; refused
 * with MANIFEST_REFERENCED while an index lists it) or by tag (only the
 * tag). Throws MANIFEST_UNKNOWN when there is nothing to delete. Audited
 * as `manifest.deleted` (with the tags that went with it) or `tag.deleted`.
 */
export async function deleteManifest(reg: Registry, name: string, reference: string, by: AuditContext): Promise<void> {
  const tag = lookupReference(reference);
  const deleted = await reg.db.transaction().execute(async (trx) => {
    const repositoryId = await findRepositoryId(trx, name);
    if (repositoryId === null) fail("MANIFEST_UNKNOWN", "manifest unknown to registry", { reference });
    if (tag !== null) {
      const target = await findTagTarget(trx, repositoryId, tag);
      if (target === null || !(await deleteTag(trx, repositoryId, tag))) fail("MANIFEST_UNKNOWN", "tag unknown to registry", { reference });
      return { digest: target, tags: [] };
    }
    const manifest = await findManifestByDigest(trx, name, reference);
    if (!manifest) fail("MANIFEST_UNKNOWN", "manifest unknown to registry", { reference });
    const parents = await parentDigests(trx, manifest.id, 5);
    if (parents.length > 0) {
      fail("MANIFEST_REFERENCED", "manifest is listed by an index of this repository; delete the index first", { reference, indexes: parents });
    }
    const tags = await tagsOfManifest(trx, manifest.id);
    await deleteManifestRow(trx, manifest.id);
    return { digest: manifest.digest, tags };
  });
  if (tag !== null) {
    reg.audit.record({ ...by, event: "tag.deleted", outcome: "success", repository: name, digest: deleted.digest, tag });
  } else {
    reg.audit.record({ ...by, event: "manifest.deleted", outcome: "success", repository: name, digest: deleted.digest, detail: { tags: deleted.tags } });
  }
}

/**
 * A reference to look up (GET, HEAD, DELETE): a tag (returned) or a digest
 * (null). Anything else names no manifest, so it is MANIFEST_UNKNOWN, as
 * the OCI conformance suite expects of `.INVALID_MANIFEST_NAME`; only a push
 * calls a malformed reference invalid (parseReference).
 */
function lookupReference(reference: string): string | null {
  if (isSha256Digest(reference)) return null;
  if (isTag(reference)) return reference;
  fail("MANIFEST_UNKNOWN", "manifest unknown to registry: the reference is neither a tag nor a sha256 digest", { reference: reference.slice(0, 200) });
}

/** A reference to push to is a tag (returned) or a digest (null); anything else is invalid. */
function parseReference(reference: string): string | null {
  if (looksLikeDigest(reference)) {
    checkDigest(reference);
    return null;
  }
  return checkTag(reference);
}

/** The row a parsed manifest is stored as, with its capped annotations when it is a referrer (for `upsertManifest`). */
export function manifestRecord(
  repositoryId: number,
  digest: string,
  bytes: Uint8Array,
  parsed: ParsedManifest,
  now: number,
): { row: Omit<Manifest, "id">; referrerAnnotations: string | null } {
  return {
    row: {
      repository_id: repositoryId,
      digest,
      media_type: parsed.mediaType,
      artifact_type: parsed.artifactType,
      subject: parsed.subject,
      content: bytes,
      size: bytes.byteLength,
      created_at: now,
      last_seen_at: now,
    },
    referrerAnnotations: parsed.subject === null ? null : capReferrerAnnotations(parsed.annotations),
  };
}
