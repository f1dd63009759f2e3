/**
 * @module An S3 upload's record: a small JSON object beside its bytes that
 * says everything needed to continue it anywhere (another replica, or
 * after a restart): its size, its SHA-256 state after the last
 * acknowledged chunk, its multipart upload id and parts, and which staged
 * tail object holds the bytes not yet in a part. It is rewritten after
 * every chunk, last: objects it does not name yet (a part beyond its list,
 * a newer tail) are leftovers of a chunk that failed, ignored and
 * overwritten by the next one.
 *
 * Keys under the store's prefix: `blobs/sha256/<hex>` (complete, verified
 * blobs), `uploads/<id>/record`, `uploads/<id>/tail-<random>`, `uploads/<id>/data`
 * (the finished upload, completed from its parts before the copy).
 */
import type { UploadedPart } from "./s3-multipart.ts";

/** The record of one upload. */
export interface UploadRecord {
  size: number;
  /** The hash state after `size` bytes (sha256-state.ts), null when it could not be saved. */
  hash: string | null;
  /** The multipart upload's id, once a part was uploaded. */
  multipart: string | null;
  parts: UploadedPart[];
  /**
   * The tail object's name (random, so two writers racing on one upload
   * never overwrite each other's tail: the record that wins names its own)
   * and size; bytes = 0 means none. A part another writer overwrote
   * meanwhile is caught at completion, where S3 checks each part's ETag.
   */
  tail: { n: string; bytes: number };
  /** The digest the upload was verified as; it takes no more bytes. */
  committed: string | null;
  /** Whether `uploads/<id>/data` holds the finished bytes. */
  finished: boolean;
  /**
   * Where the upload stood before its last chunk (that chunk's tail is kept
   * until the next): a writer that died after writing this record but
   * before the database recorded its chunk left the record one chunk ahead
   * of the session's checkpoint, and the next writer goes back to this.
   */
  prev?: { size: number; hash: string | null; parts: number; tail: { n: string; bytes: number } } | null;
}

/**
 * The record as it stood at the database's checkpoint `from`, when it is
 * one chunk behind this record (see `prev`); null when the two agree or
 * the record cannot go back that far.
 */
export function rollBackTo(record: UploadRecord, from: { size: number; hashState: string | null } | null | undefined): UploadRecord | null {
  const prev = record.prev;
  if (!from || from.size >= record.size || record.committed !== null || !prev || prev.size !== from.size) return null;
  return { ...record, size: prev.size, hash: prev.hash, parts: record.parts.slice(0, prev.parts), tail: prev.tail, prev: null };
}

/** The record of a new, empty upload. */
export function emptyRecord(hash: string | null): UploadRecord {
  return { size: 0, hash, multipart: null, parts: [], tail: { n: "", bytes: 0 }, committed: null, finished: false };
}

/** The record read back from its JSON, or null when it is not one of ours. */
export function parseRecord(text: string): UploadRecord | null {
  try {
    const value = JSON.parse(text) as UploadRecord;
    if (typeof value.size !== "number" || !Array.isArray(value.parts) || typeof value.tail?.n !== "string") return null;
    return value;
  } catch {
    return null;
  }
}

/** The keys of an upload and of blobs, under a prefix. */
export class S3Keys {
  constructor(readonly prefix: string) {}

  blob(digest: string): string {
    return `${this.prefix}blobs/sha256/${digest.slice("sha256:".length)}`;
  }

  get blobs(): string {
    return `${this.prefix}blobs/sha256/`;
  }

  get uploads(): string {
    return `${this.prefix}uploads/`;
  }

  record(id: string): string {
    return `${this.prefix}uploads/${id}/record`;
  }

  tail(id: string, n: string): string {
    return `${this.prefix}uploads/${id}/tail-${n}`;
  }

  data(id: string): string {
    return `${this.prefix}uploads/${id}/data`;
  }

  /** The upload id a key under `uploads/` belongs to, or null. */
  uploadOf(key: string): string | null {
    const match = /^uploads\/([A-Za-z0-9-]{1,64})\//.exec(key.slice(this.prefix.length));
    return key.startsWith(this.prefix) && match ? match[1]! : null;
  }
}
