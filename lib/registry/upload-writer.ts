/**
 * @module One writer per upload session, in any process: a request that
 * writes a chunk (or completes the session) first takes the session's
 * lease in the database, reads the checkpoint the last chunk left (size
 * and saved hash state), hands it to the blob store, and on success
 * records the new checkpoint as it lets go. So the next chunk continues
 * on whichever worker or replica receives it, without re-reading the
 * upload. A lease is renewed while bytes flow (with the session's
 * activity time); one left by a process that died lapses after LEASE_MS,
 * or at once when that process ran on this host (a restarted server, or a
 * worker the supervisor replaced), so a client resumes its upload at once.
 */
import { fail, RegistryError } from "../errors.ts";
import { hostname } from "node:os";
import { claimUploadWriter, findUploadCheckpoint, findUploadWriter, releaseUploadWriter, renewUploadWriter, takeOverUploadWriter } from "../db/queries/upload-writers.ts";
import type { UploadCheckpoint } from "../storage/blob-store.ts";
import { SESSION_TOUCH_MS } from "./upload-sessions.ts";
import type { Registry } from "./registry.ts";

/** This process among all that ever ran on this host with its pid (a restarted container's server may get the same pid). */
const PROCESS_TOKEN = crypto.randomUUID();

/** How long a writer's lease lasts without renewal: what a crashed writer on another host blocks its session for. */
export const WRITER_LEASE_MS = 60_000;

/** Renewed this often: well within the lease, and within the idle time after which a session is reclaimed. */
function renewEvery(reg: Registry): number {
  return Math.max(1, Math.min(SESSION_TOUCH_MS, WRITER_LEASE_MS / 3, Math.floor(reg.limits.uploadSessionReclaimIdleMs / 3)));
}

/**
 * Runs `fn` as the only writer of session `id`, giving it the session's
 * checkpoint (null when unknown); `sizeOf` tells the size `fn` left, which
 * is recorded with the store's hash state. Throws CHUNK_OUT_OF_ORDER when
 * another request (here or in another process) is writing the session.
 */
export async function asUploadWriter<T>(
  reg: Registry,
  id: string,
  fn: (from: UploadCheckpoint | null) => Promise<T>,
  sizeOf: (result: T) => number,
): Promise<T> {
  const writer = `${hostname()}|${process.pid}|${PROCESS_TOKEN}|${crypto.randomUUID()}`;
  const lease = () => reg.now() + WRITER_LEASE_MS;
  let claimed = await claimUploadWriter(reg.db, id, writer, reg.now(), lease());
  if (!claimed) {
    const holder = await findUploadWriter(reg.db, id);
    if (holder && writerDied(holder)) claimed = await takeOverUploadWriter(reg.db, id, holder, writer, reg.now(), lease());
  }
  const row = await findUploadCheckpoint(reg.db, id);
  if (!row) fail("BLOB_UPLOAD_UNKNOWN", "upload unknown to registry", { id });
  if (!claimed) fail("CHUNK_OUT_OF_ORDER", "another request is writing this upload", { size: row.hashed_size ?? (await reg.store.uploadSize(id)) ?? 0 });
  const from = row.hashed_size !== null ? { size: row.hashed_size, hashState: row.hash_state } : null;
  const timer = setInterval(() => void renewUploadWriter(reg.db, id, writer, reg.now(), lease()).catch(() => {}), renewEvery(reg));
  timer.unref();
  let result: T;
  try {
    result = await fn(from);
  } catch (error) {
    clearInterval(timer);
    // Refused before a byte was written: the checkpoint stands. Otherwise the bytes that arrived are
    // kept and the next writer hashes the file again (a failed chunk is rare; a re-read is safe).
    const untouched = error instanceof RegistryError && error.code === "CHUNK_OUT_OF_ORDER";
    const left = untouched && from ? from : { size: null, hashState: null };
    await releaseUploadWriter(reg.db, id, writer, left, reg.now()).catch(() => {});
    throw error;
  }
  clearInterval(timer);
  const checkpoint = { size: sizeOf(result), hashState: reg.store.savedHashState(id) };
  if (!(await releaseUploadWriter(reg.db, id, writer, checkpoint, reg.now()))) {
    // Cancelled (or swept) meanwhile: the session is gone, bytes and all.
    if (!(await findUploadCheckpoint(reg.db, id))) fail("BLOB_UPLOAD_UNKNOWN", "upload was cancelled while this chunk was written", { id });
    // Only after a stall past the lease: another writer may have cut or extended the file meanwhile.
    fail("CHUNK_OUT_OF_ORDER", "this request's hold on the upload lapsed and another took it over; check the upload's status", { size: 0 });
  }
  return result;
}


/**
 * Whether the process behind lease holder `holder` is known to be gone: it
 * ran on this host and is this process's pid in an earlier life, or its pid
 * is no longer running. A holder on another host is alive until its lease lapses.
 */
export function writerDied(holder: string): boolean {
  const [host, pidText, token] = holder.split("|");
  const pid = Number(pidText);
  if (host !== hostname() || !Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return token !== PROCESS_TOKEN;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    // EPERM: the pid exists but belongs to someone else (reused): not our writer any more.
    return (error as NodeJS.ErrnoException).code === "ESRCH" || (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
