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
 * is recorded. Reads and simple calls go through Bun.S3Client.
 */
import { fail } from "../errors.ts";
import type { BlobStore, ByteRange, ByteSource, StoredBlob, StoredUpload, UploadCheckpoint } from "./blob-store.ts";
import { abortMultipart, completeMultipart, copyInParts, copyObject, createMultipart, listMultipart, putIfAbsent, uploadPart } from "./s3-multipart.ts";
import type { S3Location } from "./s3-signed.ts";
import { emptyRecord, parseRecord, rollBackTo, S3Keys, type UploadRecord } from "./s3-upload-record.ts";
import { appendToUpload, carriesBytes } from "./s3-upload-write.ts";
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

/** An upload this process is working on. */
export interface S3Upload {
  record: UploadRecord;
  hasher: Sha256;
  busy: boolean;
}

/** A BlobStore keeping blobs and uploads in one S3 bucket. */
export class S3BlobStore implements BlobStore {
  readonly keys: S3Keys;
  readonly client: Bun.S3Client;
  private readonly uploads = new Map<string, S3Upload>();

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

  async appendUpload(id: string, body: ByteSource, at?: number, from?: UploadCheckpoint | null): Promise<number> {
    const upload = await this.claim(id, from);
    try {
      if (upload.record.committed !== null) {
        if (await carriesBytes(body)) fail("BLOB_UPLOAD_UNKNOWN", "upload already completed", { id });
        return upload.record.size;
      }
      if (at !== undefined && at !== upload.record.size) {
        fail("CHUNK_OUT_OF_ORDER", `chunk starts at ${at} but the upload holds ${upload.record.size} bytes`, { size: upload.record.size });
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
        await this.finish(id, record);
        if (record.size === 0 && !record.finished) await this.client.write(target, new Uint8Array(0));
        // One CopyObject, or ranges past its 5 GiB limit.
        else if (record.size <= (this.options.copyPartBytes ?? COPY_MAX_BYTES)) await copyObject(this.options, this.keys.data(id), target);
        else await copyInParts(this.options, this.keys.data(id), target, record.size, this.options.copyPartBytes ?? COPY_MAX_BYTES);
      }
      if (record.committed !== digest) {
        record.committed = digest;
        await this.writeRecord(id, record);
      }
      return { size: record.size };
    } finally {
      upload.busy = false;
    }
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
    const record = this.uploads.get(id)?.record ?? (await this.readRecord(id));
    this.uploads.delete(id);
    if (record?.multipart && !record.finished) await abortMultipart(this.options, this.keys.data(id), record.multipart);
    await this.deleteUnder(`${this.keys.uploads}${id}/`);
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
   * Every upload: those with a record (size and time from it), then
   * multipart uploads under `uploads/` whose record is gone (a crash
   * between the two), so the upload sweep aborts them too.
   */
  async *listUploads(): AsyncIterable<StoredUpload> {
    const seen = new Set<string>();
    for await (const object of this.listKeys(this.keys.uploads)) {
      const id = this.keys.uploadOf(object.key);
      if (!id || !object.key.endsWith("/record")) continue;
      seen.add(id);
      yield { id, size: (await this.readRecord(id))?.size ?? 0, modifiedAt: object.modifiedAt };
    }
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
    const mine = this.uploads.get(id);
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
      if (mine && JSON.stringify(mine.record) === JSON.stringify(record)) return mine;
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
    await Promise.all(keys.map((key) => this.client.delete(key).catch((error: unknown) => (isNoSuchKey(error) ? undefined : Promise.reject(error)))));
    await this.abortOrphans(prefix.slice(this.keys.uploads.length, -1));
  }
}

/** Whether an S3 error means the key (or upload) is not there. */
export function isNoSuchKey(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === "NoSuchKey" || code === "ERR_S3_FILE_NOT_FOUND" || code === "NotFound";
}
