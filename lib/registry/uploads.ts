/**
 * @module Upload sessions: start, append, complete, cancel. Bytes are
 * written and verified by the blob store first; only then does a short
 * transaction record the blob and link it to the repository.
 */
import type { AuditContext } from "../audit/audit-log.ts";
import { fail, RegistryError } from "../errors.ts";
import { linkBlob } from "../db/queries/blobs.ts";
import { deleteUpload, expiredUploadIds, findUpload } from "../db/queries/uploads.ts";
import { withStoredBlobs } from "../gc/claims.ts";
import { checkDigest } from "../oci/names.ts";
import type { ByteSource, UploadCheckpoint } from "../storage/blob-store.ts";
import { ensureQuota, withinQuota } from "./quota.ts";
import { INTERNAL_OWNER, openSessionRow, reclaimIdleUploads } from "./upload-sessions.ts";
import { asUploadWriter } from "./upload-writer.ts";
import type { Registry } from "./registry.ts";

/** An upload session's id and how many bytes it holds. */
export interface UploadStatus {
  id: string;
  size: number;
}

/**
 * Opens a new upload session in repository `name` (created if new) for
 * `owner` (see `uploadOwner`). Throws TOO_MANY_REQUESTS, naming the limit,
 * when the owner has `maxUploadSessionsPerUser` sessions open or the
 * registry `maxUploadSessions`, and no idle ones can make room.
 */
export async function startUpload(reg: Registry, name: string, owner = INTERNAL_OWNER): Promise<UploadStatus> {
  const id = crypto.randomUUID();
  // The row first: a session the limits refuse costs the store nothing (on S3, requests to the bucket).
  // Nobody knows the id until this returns, so the row is never seen without its upload.
  await openSessionRow(reg, name, id, owner);
  try {
    await reg.store.beginUpload(id);
  } catch (error) {
    await deleteUpload(reg.db, id).catch(() => {});
    throw error;
  }
  return { id, size: 0 };
}

/** Whether `error` means the session cannot go on and should give back its space now. */
function isFatalToSession(error: unknown): boolean {
  return error instanceof RegistryError && (error.code === "INSUFFICIENT_STORAGE" || error.code === "QUOTA_EXCEEDED");
}

/**
 * Drops a session: its bytes first, then its row, because on a full disk
 * the row's delete needs the room the bytes free. Should the row stay
 * anyway, the session answers as unknown (it has no file) until swept.
 */
async function discard(reg: Registry, id: string): Promise<void> {
  await reg.store.abortUpload(id);
  await deleteUpload(reg.db, id).catch(() => {});
}

/**
 * The session `id` of repository `name`, if it is open and younger than
 * `maxUploadSessionAgeMs`; an older one is removed. Throws BLOB_UPLOAD_UNKNOWN.
 */
async function openSession(reg: Registry, name: string, id: string) {
  const row = await findUpload(reg.db, name, id);
  if (row && reg.now() - row.created_at > reg.limits.maxUploadSessionAgeMs) {
    await deleteUpload(reg.db, id);
    await reg.store.abortUpload(id);
    fail("BLOB_UPLOAD_UNKNOWN", `upload session expired: sessions last at most ${Math.round(reg.limits.maxUploadSessionAgeMs / 60_000)} minutes; start a new one`, { id });
  }
  return row;
}

/** The session `id` of repository `name`; throws BLOB_UPLOAD_UNKNOWN. */
export async function uploadStatus(reg: Registry, name: string, id: string): Promise<UploadStatus> {
  const row = await openSession(reg, name, id);
  const stored = row ? await reg.store.uploadSize(id) : null;
  if (stored === null) fail("BLOB_UPLOAD_UNKNOWN", "upload unknown to registry", { id });
  // What the last chunk acknowledged, in whichever process it landed; this process may know less.
  return { id, size: row!.hashed_size ?? stored };
}

/**
 * Appends a chunk; `at` (from Content-Range) must equal the current size.
 * `declared` is the chunk's length when the client said it, so a chunk
 * over the repository's quota is refused before it is read.
 */
export async function appendUpload(
  reg: Registry,
  name: string,
  id: string,
  body: ByteSource,
  at?: number,
  declared?: number,
): Promise<UploadStatus> {
  const session = await openSession(reg, name, id);
  if (!session) fail("BLOB_UPLOAD_UNKNOWN", "upload unknown to registry", { id });
  const size = await asUploadWriter(
    reg,
    id,
    async (from) => {
      const held = from?.size ?? (await reg.store.uploadSize(id));
      if (held === null) fail("BLOB_UPLOAD_UNKNOWN", "upload unknown to registry", { id });
      const bounded = await withinQuota(reg, name, body, { held, declared });
      try {
        return await reg.store.appendUpload(id, bounded, at, from);
      } catch (error) {
        // Out of disk space, the session is dropped rather than left holding what little room is left.
        if (error instanceof RegistryError && error.code === "INSUFFICIENT_STORAGE") await discard(reg, id);
        throw error;
      }
    },
    (n) => n,
  );
  return { id, size };
}

/**
 * Ends a session with its last chunk (if any, `declared` bytes long when
 * known) and makes it blob `digest` of repository `name`. A digest
 * mismatch, or a blob the repository's quota has no room for, discards
 * the session. The upload's bytes are kept until the blob is recorded:
 * should GC remove a file of the same digest meanwhile, they put it back.
 */
export async function completeUpload(
  reg: Registry,
  name: string,
  id: string,
  digest: string,
  body?: ByteSource,
  declared?: number,
): Promise<{ digest: string; size: number }> {
  checkDigest(digest);
  const session = await openSession(reg, name, id);
  if (!session) fail("BLOB_UPLOAD_UNKNOWN", "upload unknown to registry", { id });
  const { size } = await asUploadWriter(
    reg,
    id,
    async (from) => {
      let current: UploadCheckpoint | null | undefined = from;
      try {
        let held = from?.size ?? (await reg.store.uploadSize(id)) ?? 0;
        if (body) {
          const bounded = await withinQuota(reg, name, body, { held, declared, digest });
          held = await reg.store.appendUpload(id, bounded, undefined, from, true);
          // This request wrote the bytes: the store's own state is the newest now.
          current = undefined;
        }
        // Checked again now the size is final: uploads running side by side each fit, but maybe not together.
        await ensureQuota(reg, name, held, digest);
      } catch (error) {
        // A blob that cannot fit is not kept waiting in its session: the space goes back now.
        if (isFatalToSession(error)) await discard(reg, id);
        throw error;
      }
      try {
        return await reg.store.commitUpload(id, digest, current);
      } catch (error) {
        if (error instanceof RegistryError && error.code === "DIGEST_INVALID") await deleteUpload(reg.db, id);
        if (isFatalToSession(error)) await discard(reg, id);
        throw error;
      }
    },
    (done) => done.size,
  );
  const restore = async () => void (await reg.store.commitUpload(id, digest));
  try {
    await withStoredBlobs(reg, [digest], restore, async (trx) => {
      await linkBlob(trx, session.repository_id, digest, size, reg.now());
      await deleteUpload(trx, id);
    });
  } catch (error) {
    // The verified file stays in the store, unrecorded, for GC; the session cannot be completed again.
    if (isFatalToSession(error)) await discard(reg, id);
    throw error;
  }
  await reg.store.abortUpload(id);
  return { digest, size };
}

/** Pushes a whole blob in one call (POST with `?digest=`), `declared` bytes long when known. */
export async function uploadBlob(
  reg: Registry,
  name: string,
  digest: string,
  body: ByteSource,
  declared?: number,
  owner = INTERNAL_OWNER,
): Promise<{ digest: string; size: number }> {
  checkDigest(digest);
  // Refused before a session (or a file) exists when it cannot fit.
  await withinQuota(reg, name, [], { declared, digest });
  const { id } = await startUpload(reg, name, owner);
  try {
    return await completeUpload(reg, name, id, digest, body, declared);
  } catch (error) {
    await discard(reg, id);
    throw error;
  }
}

/** Cancels a session and removes its bytes; throws BLOB_UPLOAD_UNKNOWN. Audited as `upload.cancelled`. */
export async function cancelUpload(reg: Registry, name: string, id: string, by: AuditContext): Promise<void> {
  const session = await findUpload(reg.db, name, id);
  if (!session) fail("BLOB_UPLOAD_UNKNOWN", "upload unknown to registry", { id });
  const size = await reg.store.uploadSize(id);
  await deleteUpload(reg.db, id);
  await reg.store.abortUpload(id);
  reg.audit.record({ ...by, event: "upload.cancelled", outcome: "success", repository: name, detail: { id, size } });
}

/** Sessions idle this long are abandoned: the default for `sweepStaleUploads`. */
export const STALE_UPLOAD_MS = 24 * 60 * 60 * 1000;

/**
 * Removes sessions (rows and bytes) idle for `maxIdleMs` (each re-checked
 * as it goes), or older than `maxUploadSessionAgeMs` however active;
 * returns how many went.
 */
export async function sweepStaleUploads(reg: Registry, maxIdleMs = STALE_UPLOAD_MS): Promise<number> {
  let removed = 0;
  for (;;) {
    const idle = await reclaimIdleUploads(reg, undefined, maxIdleMs, 500);
    removed += idle;
    if (idle < 500) break;
  }
  for (;;) {
    const ids = await expiredUploadIds(reg.db, reg.now() - reg.limits.maxUploadSessionAgeMs, 500);
    for (const id of ids) {
      await deleteUpload(reg.db, id);
      await reg.store.abortUpload(id);
    }
    removed += ids.length;
    if (ids.length < 500) break;
  }
  return removed;
}
