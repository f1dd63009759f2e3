/**
 * @module The blob store on an S3-compatible bucket. Uploads are S3
 * multipart uploads fed in PART_BYTES parts; the bytes of a chunk that do
 * not fill a part wait in a staged tail object, since OCI chunks are any
 * size and S3 parts must be at least 5 MiB (but the last). The SHA-256
 * state is saved in the upload's record (s3-upload-record.ts) after each
 * chunk, so the next chunk may land on another replica, or after a
 * restart. A commit verifies the digest first, then completes the
 * multipart upload to the upload's own `data` key and copies that to the
 * blob's key: a blob key only ever holds verified bytes, and the upload
 * keeps them to put the blob back should GC remove it before the commit
 * is recorded. Small blobs take shorter ways (most pushes are small, and
 * each request to the bucket costs a round trip): an upload that is all in
 * its tail is copied from there straight to the blob's key, and one that
 * arrives whole with its commit (POST, then a PUT carrying the bytes) is
 * held in memory and written once, to the blob's key, after its digest is
 * checked; the process keeps those bytes to put the blob back until the
 * upload is dropped. Reads and simple calls go through Bun.S3Client.
 */
import { fail } from "../errors.ts";
import { carriesBytes, type BlobStore, type ByteRange, type ByteSource, type StoredBlob, type StoredUpload, type UploadCheckpoint } from "./blob-store.ts";
import { abortMultipart, completeMultipart, copyInParts, copyObject, createMultipart, listMultipart, putIfAbsent, uploadPart } from "./s3-multipart.ts";
import type { S3Location } from "./s3-signed.ts";
import { emptyRecord, parseRecord, rollBackTo, S3Keys, type UploadRecord } from "./s3-upload-record.ts";
import { appendToUpload, PART_BYTES, readWholeIfSmall } from "./s3-upload-write.ts";
import { newSha256, restoreSha256, type Sha256 } from "./sha256-state.ts";

/** How to reach the bucket. */
export interface S3StoreOptions extends S3Location {
  /** Key prefix of everything the store writes (e.g. `mcr/`), or "". */
  prefix: string;
  /** Blob GETs are answered by a redirect to a presigned URL (see `redirectUrl`). */
  redirect?: boolean;
  /** Lifetime of presigned blob URLs in seconds (redirect mode). */
  presignSeconds?: number;
  /** Blobs larger than this are copied to their key in ranges of this size (UploadPartCopy); default 5 GiB, S3's CopyObject limit. */
  copyPartBytes?: number;
}

/** S3's limit for one CopyObject, and the default range of UploadPartCopy beyond it. */
const COPY_MAX_BYTES = 5 * 1024 * 1024 * 1024;

/**
 * Committed uploads whose bytes this process holds (to put their blob
 * back) at most: the caller drops one as soon as the blob is recorded,
 * but one whose recording failed may never be dropped (its session is
 * dead), so the oldest go past this many (up to 8 MiB each).
 */
const HELD_COMMITTED_MAX = 32;

/** An upload this process is working on. */
export interface S3Upload {
  record: UploadRecord;
  hasher: Sha256;
  busy: boolean;
  /**
   * The bytes of an upload that arrived whole with its commit, kept here
   * instead of in the bucket, and the record (as JSON) the bucket holds
   * meanwhile: this state stands only while the bucket's record still says that.
   */
  held?: { bytes: Uint8Array; base: string };
  /** Committed by this process: its objects are exactly those its record names (see `abortUpload`). */
  done?: boolean;
}

/** A BlobStore keeping blobs and uploads in one S3 bucket. */
export class S3BlobStore implements BlobStore {
  readonly keys: S3Keys;
  readonly client: Bun.S3Client;
  private readonly uploads = new Map<string, S3Upload>();
  /** Ids of committed uploads holding bytes, oldest first (see HELD_COMMITTED_MAX). */
  private readonly heldCommitted = new Set<string>();

  constructor(readonly options: S3StoreOptions) {
    this.keys = new S3Keys(options.prefix);
    this.client = new Bun.S3Client({
      endpoint: options.endpoint,
      region: options.region,
      bucket: options.bucket,
      accessKeyId: options.accessKeyId,
      secretAccessKey: options.secretAccessKey,
      virtualHostedStyle: !options.forcePathStyle,
    });
  }

  async stat(digest: string): Promise<{ size: number } | null> {
    try {
      return { size: (await this.client.stat(this.keys.blob(digest))).size };
    } catch (error) {
      if (isNoSuchKey(error)) return null;
      throw error;
    }
  }

  async open(digest: string, range?: ByteRange): Promise<Blob | null> {
    if (!(await this.stat(digest))) return null;
    const file = this.client.file(this.keys.blob(digest));
    return range ? file.slice(range.start, range.end + 1) : file;
  }

  /** In redirect mode, a presigned GET URL of the blob (clients send their Range header there too); else null. */
  redirectUrl(digest: string): string | null {
    if (!this.options.redirect) return null;
    return this.client.presign(this.keys.blob(digest), { method: "GET", expiresIn: this.options.presignSeconds ?? 300 });
  }

  async beginUpload(id: string): Promise<void> {
    const hasher = newSha256();
    const record = emptyRecord(hasher.save());
    if (!(await putIfAbsent(this.options, this.keys.record(id), JSON.stringify(record)))) fail("CONFLICT", "upload id already in use", { id });
    this.uploads.set(id, { record, hasher, busy: false });
  }

  /** The saved hash state of an upload as this process last left it (for a session checkpoint). */
  savedHashState(id: string): string | null {
    return this.uploads.get(id)?.hasher.save() ?? null;
  }

  async uploadSize(id: string): Promise<number | null> {
    // From the bucket: another process may have added to it since. (Probe keys below start with a dot: no upload id can.)
    return (await this.readRecord(id))?.size ?? null;
  }

  async appendUpload(id: string, body: ByteSource, at?: number, from?: UploadCheckpoint | null, final = false): Promise<number> {
    const upload = await this.claim(id, from);
    try {
      if (upload.record.committed !== null) {
        if (await carriesBytes(body)) fail("BLOB_UPLOAD_UNKNOWN", "upload already completed", { id });
        return upload.record.size;
      }
      if (at !== undefined && at !== upload.record.size) {
        fail("CHUNK_OUT_OF_ORDER", `chunk starts at ${at} but the upload holds ${upload.record.size} bytes`, { size: upload.record.size });
      }
      const { record } = upload;
      if (final && record.size === 0 && record.multipart === null && !upload.held) {
        // Nothing to resume after: a body under a part waits in memory for the commit that follows.
        const whole = await readWholeIfSmall(body, PART_BYTES);
        if (whole.bytes) return this.hold(upload, whole.bytes);
        body = whole.body;
      }
      return await appendToUpload(this.options, this.keys, id, upload, body, this.client);
    } catch (error) {
      // What this process holds may now disagree with the record: read it again next time.
      this.uploads.delete(id);
      throw error;
    } finally {
      upload.busy = false;
    }
  }

  /** Counts committed upload `id` among those holding bytes, forgetting the oldest past HELD_COMMITTED_MAX. */
  private keepHeld(id: string): void {
    this.heldCommitted.delete(id);
    this.heldCommitted.add(id);
    for (const old of this.heldCommitted) {
      if (this.heldCommitted.size <= HELD_COMMITTED_MAX) break;
      this.heldCommitted.delete(old);
      const upload = this.uploads.get(old);
      if (upload?.held && !upload.busy) this.uploads.delete(old);
    }
  }

  /** How many committed uploads this process holds bytes of (bounded by HELD_COMMITTED_MAX). */
  get heldCommittedCount(): number {
    return this.heldCommitted.size;
  }

  /** Keeps `bytes` (the whole upload) in memory for the commit that follows; returns the size. */
  private hold(upload: S3Upload, bytes: Uint8Array): number {
    if (bytes.byteLength === 0) return 0;
    upload.held = { bytes, base: bytesState(upload.record) };
    upload.hasher.update(bytes);
    upload.record = { ...upload.record, size: bytes.byteLength, hash: upload.hasher.save() };
    return bytes.byteLength;
  }

  async commitUpload(id: string, digest: string, from?: UploadCheckpoint | null): Promise<{ size: number }> {
    const upload = await this.claim(id, from);
    try {
      const { record } = upload;
      if (record.committed !== digest) {
        const actual = record.committed ?? `sha256:${upload.hasher.digest("hex")}`;
        if (actual !== digest) {
          upload.busy = false;
          await this.abortUpload(id);
          fail("DIGEST_INVALID", "uploaded content does not match the digest", { expected: digest, actual });
        }
      }
      const target = this.keys.blob(digest);
      // A blob already stored is not written again (content addressed: the bytes are the same).
      if (!(await this.client.exists(target))) {
        if (upload.held) await this.client.write(target, upload.held.bytes);
        else if (record.size === 0 && !record.finished) await this.client.write(target, new Uint8Array(0));
        // All in the tail: one copy, straight to the blob's key.
        else if (record.multipart === null && !record.finished) await copyObject(this.options, this.keys.tail(id, record.tail.n), target);
        else {
          await this.finish(id, record);
          await this.copyKey(this.keys.data(id), target, record.size);
        }
      }
      if (record.committed !== digest) {
        record.committed = digest;
        // Parts cannot be read back to hash again: once completed, the bucket's record says the digest.
        // A tail (or the bytes held here) can be, from a saved hash state: this process alone knows.
        if (record.finished) await this.writeRecord(id, record);
      }
      upload.done = true;
      if (upload.held) this.keepHeld(id);
      return { size: record.size };
    } catch (error) {
      // Bytes held for a commit that failed are not kept: the bucket's record still says the upload is
      // empty, so the client's retry of its PUT starts it again.
      if (upload.held && !upload.done) this.uploads.delete(id);
      throw error;
    } finally {
      upload.busy = false;
    }
  }

  /** Copies object `from` (`size` bytes) to `to` in the bucket: one CopyObject, or ranges past its 5 GiB limit. */
  async copyKey(from: string, to: string, size: number): Promise<void> {
    const partBytes = this.options.copyPartBytes ?? COPY_MAX_BYTES;
    if (size <= partBytes) await copyObject(this.options, from, to);
    else await copyInParts(this.options, from, to, size, partBytes);
  }

  /** Puts the upload's bytes together at its `data` key (completing the multipart upload) unless done. */
  private async finish(id: string, record: UploadRecord): Promise<void> {
    if (record.finished || record.size === 0) return;
    const tail = record.tail.bytes > 0 ? this.keys.tail(id, record.tail.n) : null;
    if (record.multipart === null) {
      await copyObject(this.options, tail!, this.keys.data(id));
    } else {
      const parts = [...record.parts];
      if (tail) {
        const bytes = new Uint8Array(await this.client.file(tail).arrayBuffer());
        parts.push({ n: parts.length + 1, etag: await uploadPart(this.options, this.keys.data(id), record.multipart, parts.length + 1, bytes), size: bytes.byteLength });
      }
      await completeMultipart(this.options, this.keys.data(id), record.multipart, parts);
    }
    record.finished = true;
    await this.writeRecord(id, record);
  }

  async abortUpload(id: string): Promise<void> {
    const mine = this.uploads.get(id);
    this.uploads.delete(id);
    this.heldCommitted.delete(id);
    if (mine?.done) {
      // Just committed here: the objects are those the record names (a leftover of a failed chunk,
      // named by no record, is found by listUploads and swept).
      await Promise.all(this.namedKeys(id, mine).map((key) => this.deleteKey(key)));
      return;
    }
    const record = mine?.record ?? (await this.readRecord(id));
    if (record?.multipart && !record.finished) await abortMultipart(this.options, this.keys.data(id), record.multipart);
    await this.deleteUnder(`${this.keys.uploads}${id}/`);
  }

  /** The objects of an upload its record names: itself, its tail and the one before, its finished data. */
  private namedKeys(id: string, upload: S3Upload): string[] {
    const { record } = upload;
    const keys = [this.keys.record(id)];
    for (const tail of [record.tail, record.prev?.tail]) if (tail && tail.bytes > 0) keys.push(this.keys.tail(id, tail.n));
    if (record.finished) keys.push(this.keys.data(id));
    return [...new Set(keys)];
  }

  private async deleteKey(key: string): Promise<void> {
    await this.client.delete(key).catch((error: unknown) => (isNoSuchKey(error) ? undefined : Promise.reject(error)));
  }

  async delete(digest: string): Promise<boolean> {
    if (!(await this.client.exists(this.keys.blob(digest)))) return false;
    await this.client.delete(this.keys.blob(digest));
    return true;
  }

  async *list(): AsyncIterable<StoredBlob> {
    for await (const object of this.listKeys(this.keys.blobs)) {
      const hex = object.key.slice(this.keys.blobs.length);
      if (/^[a-f0-9]{64}$/.test(hex)) yield { digest: `sha256:${hex}`, size: object.size, modifiedAt: object.modifiedAt };
    }
  }

  async probe(): Promise<void> {
    const key = `${this.keys.uploads}.probe-${process.pid}`;
    await this.client.write(key, new Uint8Array([1]));
    await this.client.delete(key);
  }

  /**
   * Every upload: those with a record (size and time from it), then those
   * with objects but no record (a chunk that failed, or a removal that
   * stopped halfway, left them: sized and timed by those objects), then
   * multipart uploads under `uploads/` whose record is gone (a crash
   * between the two), so the upload sweep removes them all.
   */
  async *listUploads(): AsyncIterable<StoredUpload> {
    const seen = new Set<string>();
    // Keys come in order, so one upload's objects are listed together.
    let group = null as { id: string; record: boolean; size: number; modifiedAt: number; recordAt: number } | null;
    const ended = async (): Promise<StoredUpload | null> => {
      if (!group) return null;
      const { id, record, size, modifiedAt, recordAt } = group;
      return record ? { id, size: (await this.readRecord(id))?.size ?? 0, modifiedAt: recordAt } : { id, size, modifiedAt };
    };
    for await (const object of this.listKeys(this.keys.uploads)) {
      const id = this.keys.uploadOf(object.key);
      if (!id) continue;
      if (group?.id !== id) {
        const upload = await ended();
        if (upload) yield upload;
        seen.add(id);
        group = { id, record: false, size: 0, modifiedAt: 0, recordAt: 0 };
      }
      if (object.key.endsWith("/record")) {
        group.record = true;
        group.recordAt = object.modifiedAt;
      } else {
        group.size += object.size;
        group.modifiedAt = Math.max(group.modifiedAt, object.modifiedAt);
      }
    }
    const last = await ended();
    if (last) yield last;
    for await (const open of listMultipart(this.options, this.keys.uploads)) {
      const id = this.keys.uploadOf(open.key);
      if (id && !seen.has(id)) {
        seen.add(id);
        yield { id, size: 0, modifiedAt: open.initiated };
      }
    }
  }

  /** Aborts the open multipart uploads of `id` that no record names (see listUploads). */
  private async abortOrphans(id: string): Promise<void> {
    for await (const open of listMultipart(this.options, `${this.keys.uploads}${id}/`)) await abortMultipart(this.options, open.key, open.uploadId);
  }

  /**
   * Takes an upload for one writer. The record in the bucket is read every
   * time (another process may have added a chunk since this one last did)
   * and wins over what this process remembers, but goes back one chunk to
   * the database's checkpoint `from` when a writer died between the two.
   */
  private async claim(id: string, from?: UploadCheckpoint | null): Promise<S3Upload> {
    let mine = this.uploads.get(id);
    if (mine?.held && !mine.done && !mine.busy && from !== undefined) {
      // Bytes held for a commit that never came: the request that sent them failed before it (a later
      // request brings the database's checkpoint; the same request's commit does not). They were never
      // acknowledged, and appending after bytes the bucket does not have would store wrong ones.
      this.uploads.delete(id);
      mine = undefined;
    }
    if (mine?.busy) fail("CHUNK_OUT_OF_ORDER", "another request is writing this upload", { size: mine.record.size });
    if (mine) mine.busy = true;
    try {
      let record = await this.readRecord(id);
      if (!record) {
        this.uploads.delete(id);
        fail("BLOB_UPLOAD_UNKNOWN", "upload not found", { id });
      }
      const back = rollBackTo(record, from);
      if (back) await this.writeRecord(id, (record = back));
      if (mine && (mine.held?.base ?? bytesState(mine.record)) === bytesState(record)) return mine;
      const current = this.uploads.get(id);
      if (current && current !== mine && current.busy) fail("CHUNK_OUT_OF_ORDER", "another request is writing this upload", { size: current.record.size });
      const hasher = restoreSha256(record.hash) ?? (record.size === 0 ? newSha256() : await this.rehash(id, record));
      const upload = { record, hasher, busy: true };
      this.uploads.set(id, upload);
      return upload;
    } catch (error) {
      if (mine) mine.busy = false;
      throw error;
    }
  }

  /** Hashes an upload from its bytes: only possible while they are all in the tail (parts cannot be read back). */
  private async rehash(id: string, record: UploadRecord): Promise<Sha256> {
    if (record.parts.length > 0 && record.committed === null) {
      fail("BLOB_UPLOAD_INVALID", "this upload's hash state cannot be restored here (no libcrypto); start the upload again", { id });
    }
    const hasher = newSha256();
    const key = record.committed !== null && record.finished ? this.keys.data(id) : this.keys.tail(id, record.tail.n);
    if (record.size > 0) for await (const chunk of this.client.file(key).stream()) hasher.update(chunk);
    return hasher;
  }

  /** The upload's record in the bucket, or null. */
  async readRecord(id: string): Promise<UploadRecord | null> {
    try {
      return parseRecord(await this.client.file(this.keys.record(id)).text());
    } catch (error) {
      if (isNoSuchKey(error)) return null;
      throw error;
    }
  }

  async writeRecord(id: string, record: UploadRecord): Promise<void> {
    await this.client.write(this.keys.record(id), JSON.stringify(record));
  }

  private async *listKeys(prefix: string): AsyncIterable<{ key: string; size: number; modifiedAt: number }> {
    let continuationToken: string | undefined;
    for (;;) {
      const page = await this.client.list({ prefix, continuationToken, maxKeys: 1000 });
      for (const object of page.contents ?? []) yield { key: object.key, size: object.size ?? 0, modifiedAt: Date.parse(object.lastModified ?? "") || 0 };
      if (!page.isTruncated || !page.nextContinuationToken) return;
      continuationToken = page.nextContinuationToken;
    }
  }

  private async deleteUnder(prefix: string): Promise<void> {
    const keys: string[] = [];
    for await (const object of this.listKeys(prefix)) keys.push(object.key);
    await Promise.all(keys.map((key) => this.deleteKey(key)));
    await this.abortOrphans(prefix.slice(this.keys.uploads.length, -1));
  }
}

/**
 * What a record says of an upload's bytes (all of it but a commit this
 * process made and did not write down): this process's state of an upload
 * stands while the bucket's record says the same.
 */
function bytesState(record: UploadRecord): string {
  return JSON.stringify({ ...record, committed: null });
}

/** Whether an S3 error means the key (or upload) is not there. */
export function isNoSuchKey(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === "NoSuchKey" || code === "ERR_S3_FILE_NOT_FOUND" || code === "NotFound";
}
