/**
 * @module Blobs through the cache. A blob not cached yet is fetched once,
 * however many clients ask at the same time, through an ordinary upload
 * session of the mirror repository, so the blob store's invariants hold:
 * bytes are hashed while written, verified against the digest and fsynced
 * before the blob is recorded; a failed, short or wrong transfer records
 * nothing and leaves no file. The client whose request started the fetch
 * reads the bytes as they arrive; the others wait and read the stored blob.
 */
import type { AuditContext } from "../audit/audit-log.ts";
import { fail, RegistryError } from "../errors.ts";
import { findLinkedBlob } from "../db/queries/blobs.ts";
import { markMirrorRepository, resolvePendingBlob } from "../db/queries/mirror.ts";
import { findRepositoryId } from "../db/queries/repositories.ts";
import { deleteUpload } from "../db/queries/uploads.ts";
import { appendUpload, completeUpload, startUpload } from "../registry/uploads.ts";
import { uploadOwner } from "../registry/upload-sessions.ts";
import { ANONYMOUS } from "../auth/identity.ts";
import type { Mirror, MirrorTarget } from "./mirror.ts";
import { Tee } from "./tee.ts";
import { UpstreamError } from "./upstream-client.ts";

/** A blob arriving for this request: its size when the upstream said it, and the bytes. */
export interface StreamingBlob {
  size: number | null;
  body: ReadableStream<Uint8Array>;
}

/**
 * Makes the cache hold blob `digest` of target `t`. With `stream`, when
 * this request starts the fetch, returns the bytes as they arrive (the
 * response ends in an error unless they verify); otherwise waits until the
 * blob is stored and returns null, and the caller serves it from the store.
 * Throws BLOB_UNKNOWN when the upstream has no such blob and UNAVAILABLE
 * when it cannot be reached.
 */
export async function prepareBlob(m: Mirror, t: MirrorTarget, digest: string, by: AuditContext, stream: boolean): Promise<StreamingBlob | null> {
  if (await findLinkedBlob(m.reg.db, t.localName, digest)) {
    m.count(t.upstream.name, "hits");
    return null;
  }
  let started: (blob: StreamingBlob) => void = () => {};
  const streaming = new Promise<StreamingBlob>((resolve) => (started = resolve));
  const flight = m.blobFlights.run(`${t.localName}\n${digest}`, () => {
    // A fetch streams bytes into the store for this account: it holds one of its upload slots (429 past the bound).
    const release = m.reg.uploadSlots.acquire(by.actor);
    return fetchBlob(m, t, digest, by, stream ? started : null).finally(release);
  });
  if (!flight.leader || !stream) {
    await flight.promise;
    return null;
  }
  // Once the bytes flow, a failure reaches the client through its stream.
  flight.promise.catch(() => {});
  return await Promise.race([streaming, flight.promise.then(() => null)]);
}

async function fetchBlob(m: Mirror, t: MirrorTarget, digest: string, by: AuditContext, onStream: ((blob: StreamingBlob) => void) | null): Promise<void> {
  // A fetch that ended just before this one began has stored it.
  if (await findLinkedBlob(m.reg.db, t.localName, digest)) return;
  const name = t.upstream.name;
  m.count(name, "misses");
  let res;
  try {
    res = await t.client.request("GET", t.remoteName, `${t.remoteName}/blobs/${digest}`);
  } catch (error) {
    throw unavailable(m, t, digest, error);
  }
  if (res.status !== 200) {
    await res.body.dump().catch(() => {});
    if (res.status === 404 || res.status === 401 || res.status === 403) {
      fail("BLOB_UNKNOWN", `blob unknown to upstream ${name}: it answered ${res.status}`, { digest, upstream: name, status: res.status });
    }
    throw unavailable(m, t, digest, new UpstreamError(`${name} answered ${res.status}`));
  }
  const length = res.headers["content-length"];
  const declared = length !== undefined && /^\d{1,15}$/.test(length) ? Number(length) : null;
  let id: string;
  try {
    // The session counts against whoever pulled first, like a push of theirs would (per-account session bound).
    ({ id } = await startUpload(m.reg, t.localName, by.actor === "anonymous" ? uploadOwner(ANONYMOUS, by.source) : by.actor));
  } catch (error) {
    res.body.destroy();
    throw error;
  }
  // Only a request that reads the bytes as they arrive gets a tee: one nobody reads would hold the store back
  // (it waits for a slow reader) until the upstream timeout dropped it.
  const tee = onStream ? new Tee(res.body as AsyncIterable<Uint8Array>, t.upstream.timeoutMs) : null;
  if (tee) onStream!({ size: declared, body: tee.client });
  try {
    const { size } = await appendUpload(m.reg, t.localName, id, tee ? tee.chunks() : (res.body as AsyncIterable<Uint8Array>), undefined, declared ?? undefined);
    if (declared !== null && size !== declared) throw new UpstreamError(`${name} sent ${size} of ${declared} bytes`);
    await completeUpload(m.reg, t.localName, id, digest);
    await m.reg.db.transaction().execute(async (trx) => {
      const repositoryId = await findRepositoryId(trx, t.localName);
      if (repositoryId === null) return;
      await markMirrorRepository(trx, repositoryId, name, m.reg.now());
      await resolvePendingBlob(trx, repositoryId, digest);
    });
    tee?.finish();
    m.count(name, "bytesFetched", size);
    m.reg.audit.record({ ...by, event: "mirror.fetched", outcome: "success", repository: t.localName, digest, detail: { upstream: name, kind: "blob", size } });
  } catch (error) {
    res.body.destroy();
    // Nothing half-written stays: the session's bytes and row go (a verified blob was already recorded).
    await m.reg.store.abortUpload(id).catch(() => {});
    await deleteUpload(m.reg.db, id).catch(() => {});
    const reported = error instanceof RegistryError && error.code === "DIGEST_INVALID"
      ? unavailable(m, t, digest, new UpstreamError(`${name} sent bytes that do not match the digest`))
      : error instanceof RegistryError ? error : unavailable(m, t, digest, error);
    tee?.fail(reported);
    throw reported;
  }
}

/** The error a client gets when the upstream failed to deliver a blob. */
function unavailable(m: Mirror, t: MirrorTarget, digest: string, error: unknown): RegistryError {
  m.count(t.upstream.name, "upstreamErrors");
  const message = error instanceof Error ? error.message : String(error);
  const retryAfter = error instanceof UpstreamError && error.retryAfter !== null ? { retryAfter: error.retryAfter } : {};
  m.onEvent({ level: "warn", message: `mirror: fetching ${t.localName}@${digest} failed: ${message}`, fields: { upstream: t.upstream.name, repository: t.localName, digest } });
  return new RegistryError("UNAVAILABLE", `cannot fetch blob ${digest} from upstream ${t.upstream.name}: ${message}`, { upstream: t.upstream.name, ...retryAfter });
}
