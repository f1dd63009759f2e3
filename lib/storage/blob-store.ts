/**
 * @module The blob store interface: content-addressed bytes and the
 * uploads that become them. It knows nothing of HTTP, repositories, tags or
 * SQL; the file-system implementation is the only one that knows paths.
 */

/** An inclusive byte range, as HTTP's Range header counts. */
export interface ByteRange {
  start: number;
  end: number;
}

/** Bytes arriving in chunks: a request body, or chunks already in memory. */
export type ByteSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/** Whether a body has any byte (reading it up to the first one). */
export async function carriesBytes(body: ByteSource): Promise<boolean> {
  for await (const chunk of body) if (chunk.byteLength > 0) return true;
  return false;
}

/** A stored blob as listed for reconciliation. */
export interface StoredBlob {
  digest: string;
  size: number;
  modifiedAt: number;
}

/** An upload's bytes as listed for reconciliation. */
export interface StoredUpload {
  id: string;
  size: number;
  modifiedAt: number;
}

/**
 * Where an upload stands as the database last recorded it, after the last
 * acknowledged chunk: its size and its hash state saved as text (null when
 * none was saved: the bytes are then hashed again).
 */
export interface UploadCheckpoint {
  size: number;
  hashState: string | null;
}

/** Where bytes live: committed blobs by digest, uploads by id. */
export interface BlobStore {
  /** Size of a committed blob, or null when it is not stored. */
  stat(digest: string): Promise<{ size: number } | null>;
  /** The blob's bytes (or a range of them) as a Blob the server can send without copying; null when absent. */
  open(digest: string, range?: ByteRange): Promise<Blob | null>;
  /** Creates an empty upload. */
  beginUpload(id: string): Promise<void>;
  /** Bytes received so far by an upload, or null when there is no such upload. */
  uploadSize(id: string): Promise<number | null>;
  /**
   * Appends a stream to an upload, hashing as it writes. `at` is where the
   * caller believes the upload ends; a mismatch throws CHUNK_OUT_OF_ORDER.
   * `from`, when given, is the upload's checkpoint from the database (null:
   * unknown), which wins over what this process remembers, since another
   * process may have written since. `final` says the caller commits the
   * upload next, in this same request (a PUT carrying the last bytes): the
   * store may then hold a small upload's bytes in memory until that commit
   * instead of staging them, since nobody resumes after them. Returns the
   * new size.
   */
  appendUpload(id: string, body: ByteSource, at?: number, from?: UploadCheckpoint | null, final?: boolean): Promise<number>;
  /** The hash state of upload `id` as this process last left it, to save with the session; null when there is none to save. */
  savedHashState(id: string): string | null;
  /**
   * Makes an upload the blob `digest`: flushes it to disk, verifies the hash
   * and puts a copy in place (or, when the blob is already stored, marks it
   * as just used). On mismatch the upload is discarded and DIGEST_INVALID is
   * thrown. The upload keeps its bytes, refuses further appends, and can be
   * committed again (to put the blob back should it vanish before the
   * caller recorded it) until `abortUpload` drops it. `from` is as for
   * `appendUpload`. Returns the size.
   */
  commitUpload(id: string, digest: string, from?: UploadCheckpoint | null): Promise<{ size: number }>;
  /** Discards an upload and its bytes; absent uploads are ignored. */
  abortUpload(id: string): Promise<void>;
  /** Removes a committed blob; returns whether it was there. */
  delete(digest: string): Promise<boolean>;
  /** Every committed blob. */
  list(): AsyncIterable<StoredBlob>;
  /** Resolves when the store accepts a write now (readiness); throws why not. */
  probe(): Promise<void>;
  /** Every upload's bytes, whether or not a session still owns them. */
  listUploads(): AsyncIterable<StoredUpload>;
  /**
   * Where a client may fetch the blob itself (a presigned S3 URL, short
   * lived) instead of through the server; absent or null: serve the bytes.
   */
  redirectUrl?(digest: string): string | null;
}
