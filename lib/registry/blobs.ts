/**
 * @module Reading blobs through a repository: a blob is served only by a
 * repository it was pushed or mounted to, whatever else the store holds.
 */
import type { AuditContext } from "../audit/audit-log.ts";
import { fail } from "../errors.ts";
import { findLinkedBlob, manifestsUsingBlob, touchLinkedBlob, unlinkBlob } from "../db/queries/blobs.ts";
import { findRepositoryId } from "../db/queries/repositories.ts";
import type { ByteRange } from "../storage/blob-store.ts";
import type { Registry } from "./registry.ts";

/**
 * A read refreshes `last_seen_at` (of blobs and manifests) at most this
 * often, so reads rarely write. GC widens its grace period by as much, so a
 * read within the grace period protects whatever was read.
 */
export const TOUCH_INTERVAL_MS = 60_000;

/** Size of blob `digest` in repository `name`; throws BLOB_UNKNOWN. Counts as a use for GC. */
export async function statBlob(reg: Registry, name: string, digest: string): Promise<{ size: number }> {
  const blob = await findLinkedBlob(reg.db, name, digest);
  if (!blob) fail("BLOB_UNKNOWN", "blob unknown to registry", { digest });
  const now = reg.now();
  if (now - blob.last_seen_at > TOUCH_INTERVAL_MS && !(await touchLinkedBlob(reg.db, name, digest, now))) {
    fail("BLOB_UNKNOWN", "blob unknown to registry", { digest });
  }
  return { size: blob.size };
}

/** An opened blob: its full size, the range chosen, and the bytes of that range. */
export interface OpenedBlob {
  size: number;
  range: ByteRange | null;
  body: Blob;
}

/**
 * The bytes of blob `digest` in repository `name`; `pickRange` chooses a
 * range once the size is known (null for all). Throws BLOB_UNKNOWN.
 */
export async function openBlob(
  reg: Registry,
  name: string,
  digest: string,
  pickRange: (size: number) => ByteRange | null = () => null,
): Promise<OpenedBlob> {
  const { size } = await statBlob(reg, name, digest);
  const range = pickRange(size);
  const body = await reg.store.open(digest, range ?? undefined);
  if (!body) fail("BLOB_UNKNOWN", "blob is recorded but its file is missing (run mcr gc to reconcile)", { digest });
  return { size, range, body };
}

/**
 * Stops repository `name` serving blob `digest` (the bytes stay for other
 * repositories; GC reclaims them when nothing uses them). Refused with
 * BLOB_REFERENCED while a manifest of the repository references the blob.
 * Audited as `blob.deleted`.
 */
export async function deleteBlob(reg: Registry, name: string, digest: string, by: AuditContext): Promise<void> {
  await reg.db.transaction().execute(async (trx) => {
    const repositoryId = await findRepositoryId(trx, name);
    if (repositoryId === null || !(await findLinkedBlob(trx, name, digest))) {
      fail("BLOB_UNKNOWN", "blob unknown to registry", { digest });
    }
    const users = await manifestsUsingBlob(trx, repositoryId, digest, 5);
    if (users.length > 0) {
      fail("BLOB_REFERENCED", "blob is referenced by manifests of this repository; delete them first", { digest, manifests: users });
    }
    await unlinkBlob(trx, repositoryId, digest);
  });
  reg.audit.record({ ...by, event: "blob.deleted", outcome: "success", repository: name, digest });
}
