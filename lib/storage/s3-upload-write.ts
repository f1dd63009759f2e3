/**
 * @module Writing a chunk of an S3 upload: the bytes are hashed as they
 * arrive and gathered, behind the staged tail of the chunks before, into
 * parts of PART_BYTES sent as they fill; what is left (less than a part)
 * becomes the new tail object. The record is written last, so a chunk
 * that fails halfway leaves the upload as the previous record says.
 */
import type { ByteSource } from "./blob-store.ts";
import { createMultipart, uploadPart } from "./s3-multipart.ts";
import type { S3Location } from "./s3-signed.ts";
import type { S3Keys } from "./s3-upload-record.ts";
import type { S3Upload } from "./s3-store.ts";

/**
 * Bytes per multipart part. S3 wants at least 5 MiB (but the last part)
 * and at most 10,000 parts, so 8 MiB parts cap a blob at 78 GiB; an upload
 * streaming into this process holds at most one part in memory.
 */
export const PART_BYTES = 8 * 1024 * 1024;

/** Appends `body` to the upload; returns its new size. Throws what S3 or the body threw, the record then unchanged unless bytes had arrived. */
export async function appendToUpload(loc: S3Location, keys: S3Keys, id: string, upload: S3Upload, body: ByteSource, client: Bun.S3Client): Promise<number> {
  const before = upload.record;
  const record = { ...before, parts: [...before.parts], tail: { ...before.tail } };
  const pending: Uint8Array[] = [];
  let pendingBytes = 0;
  if (before.tail.bytes > 0) {
    const staged = new Uint8Array(await client.file(keys.tail(id, before.tail.n)).arrayBuffer());
    pending.push(staged);
    pendingBytes = staged.byteLength;
  }
  const sendPart = async () => {
    const piece = take(pending, PART_BYTES);
    pendingBytes -= PART_BYTES;
    record.multipart ??= await createMultipart(loc, keys.data(id));
    const n = record.parts.length + 1;
    record.parts.push({ n, etag: await uploadPart(loc, keys.data(id), record.multipart, n, piece), size: piece.byteLength });
  };
  let bodyError: unknown = null;
  let received = 0;
  try {
    for await (const chunk of body) {
      if (chunk.byteLength === 0) continue;
      upload.hasher.update(chunk);
      pending.push(chunk);
      pendingBytes += chunk.byteLength;
      received += chunk.byteLength;
      record.size += chunk.byteLength;
      while (pendingBytes >= PART_BYTES) await sendPart();
    }
  } catch (error) {
    // The body failed (the client went away): the bytes that arrived are kept, to resume after them.
    // A part S3 refused is not: the caller drops this process's state and the record stands.
    if (received === 0 || isS3Failure(error)) throw error;
    bodyError = error;
  }
  if (received > 0) {
    if (pendingBytes > 0) {
      const n = crypto.randomUUID();
      await client.write(keys.tail(id, n), concat(pending, pendingBytes));
      record.tail = { n, bytes: pendingBytes };
    } else {
      record.tail = { n: before.tail.n, bytes: 0 };
    }
    record.hash = upload.hasher.save();
    record.prev = { size: before.size, hash: before.hash, parts: before.parts.length, tail: before.tail };
    await client.write(keys.record(id), JSON.stringify(record));
    upload.record = record;
    // The tail before the previous one is in a part or a newer tail now; the previous one is kept for `prev`.
    const stale = before.prev?.tail;
    if (stale && stale.bytes > 0 && stale.n !== before.tail.n) await client.delete(keys.tail(id, stale.n)).catch(() => {});
  }
  if (bodyError) throw bodyError;
  return upload.record.size;
}

/**
 * Reads `body` whole when it ends before `limit` bytes; otherwise gives
 * back a body that yields what was read and then the rest, to be written
 * as usual. A body that fails while read here fails this call.
 */
export async function readWholeIfSmall(body: ByteSource, limit: number): Promise<{ bytes: Uint8Array; body?: undefined } | { bytes?: undefined; body: ByteSource }> {
  const it = Symbol.asyncIterator in body ? body[Symbol.asyncIterator]() : body[Symbol.iterator]();
  const read: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const next = await it.next();
    if (next.done) return { bytes: concat(read, bytes) };
    read.push(next.value);
    bytes += next.value.byteLength;
    if (bytes >= limit) {
      const rest = async function* () {
        yield* read;
        for (let more = await it.next(); !more.done; more = await it.next()) yield more.value;
      };
      return { body: rest() };
    }
  }
}

function isS3Failure(error: unknown): boolean {
  return (error as { message?: string } | null)?.message?.startsWith("S3 ") ?? false;
}

/** The first `bytes` bytes of `chunks` as one array, removed from `chunks`. */
function take(chunks: Uint8Array[], bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let at = 0;
  while (at < bytes) {
    const chunk = chunks[0]!;
    const n = Math.min(chunk.byteLength, bytes - at);
    out.set(chunk.subarray(0, n), at);
    at += n;
    if (n === chunk.byteLength) chunks.shift();
    else chunks[0] = chunk.subarray(n);
  }
  return out;
}

function concat(chunks: Uint8Array[], bytes: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(bytes);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}
