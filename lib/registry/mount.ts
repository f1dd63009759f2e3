/**
 * @module Cross-repository blob mount: link a blob another repository
 * already holds instead of uploading it again.
 */
import { findLinkedBlob, linkBlob, repositoriesWithBlob } from "../db/queries/blobs.ts";
import { findRepositoryId, upsertRepository } from "../db/queries/repositories.ts";
import { checkDigest } from "../oci/names.ts";
import { quotaRoom } from "./quota.ts";
import type { Registry } from "./registry.ts";

/** Decides whether the caller may read repository `name`; the access policy plugs in here. */
export type CanRead = (name: string) => boolean | Promise<boolean>;

/** How many holders of a blob a `from`-less mount considers. */
const CANDIDATES = 50;

/**
 * Links blob `digest` into repository `name` when the caller may read a
 * repository that holds it: `from` when given, else any repository (regctl
 * mounts without `from`). Returns false when no mount is possible, and the
 * caller falls back to an upload session.
 */
export async function mountBlob(reg: Registry, name: string, digest: string, from: string | null, canRead: CanRead): Promise<boolean> {
  checkDigest(digest);
  const sources = from !== null ? [from] : await repositoriesWithBlob(reg.db, digest, CANDIDATES);
  for (const source of sources) {
    if (!(await canRead(source))) continue;
    const blob = await findLinkedBlob(reg.db, source, digest);
    if (!blob || !(await reg.store.stat(digest))) continue;
    // Over quota, the mount is declined and the client's fallback upload is refused with the reason.
    const room = await quotaRoom(reg, name, digest);
    if (room !== null && blob.size > room) return false;
    const now = reg.now();
    const linked = await reg.db.transaction().execute(async (trx) => {
      // Re-checked inside the transaction: the source may have lost the blob since.
      if ((await findRepositoryId(trx, source)) === null || !(await findLinkedBlob(trx, source, digest))) return false;
      const repositoryId = await upsertRepository(trx, name, now);
      await linkBlob(trx, repositoryId, digest, blob.size, now);
      return true;
    });
    if (linked) return true;
  }
  return false;
}
