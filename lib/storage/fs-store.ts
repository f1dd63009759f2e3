/**
 * @module The blob store on a local file system. Uploads are files that
 * are hashed as they are written; a commit fsyncs, verifies the digest and
 * hard-links the file into the content-addressed tree, so a blob path only
 * ever holds complete, verified bytes. The upload keeps its name until it
 * is dropped, so a blob that GC removed before the commit was recorded can
 * be put back from it.
 */
import { mkdirSync } from "node:fs";
import { link, mkdir, open, readdir, stat, truncate, unlink, utimes, type FileHandle } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fail } from "../errors.ts";
import { carriesBytes, type BlobStore, type ByteRange, type ByteSource, type StoredBlob, type StoredUpload, type UploadCheckpoint } from "./blob-store.ts";
import { isNotFound, storageError } from "./fs-errors.ts";
import { FsLayout } from "./fs-layout.ts";
import { newState, writeHashed, type UploadState } from "./fs-upload-write.ts";
import { newSha256, restoreSha256 } from "./sha256-state.ts";

/** A BlobStore keeping its files under one data directory. */
export class FsBlobStore implements BlobStore {
  readonly layout: FsLayout;
  /**
   * Hash state of uploads this process has touched. Another process may
   * have added to an upload since: a caller that passes the checkpoint it
   * read from the database gets this state only when it matches.
   */
  private readonly states = new Map<string, UploadState>();
  /** Whether uploads are written with O_DIRECT: until the file system refuses it (tmpfs, some overlays). */
  private directIo: boolean;

  /** `directIo: false` writes every upload through the page cache (tests cover both ways with it). */
  constructor(root: string, options: { directIo?: boolean } = {}) {
    this.layout = new FsLayout(root);
    this.directIo = options.directIo ?? true;
    mkdirSync(this.layout.blobsDir, { recursive: true, mode: 0o700 });
    mkdirSync(this.layout.uploadsDir, { recursive: true, mode: 0o700 });
  }

  async stat(digest: string): Promise<{ size: number } | null> {
    try {
      return { size: (await stat(this.layout.blob(digest))).size };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async open(digest: string, range?: ByteRange): Promise<Blob | null> {
    const file = Bun.file(this.layout.blob(digest));
    if (!(await file.exists())) return null;
    return range ? file.slice(range.start, range.end + 1) : file;
  }

  async beginUpload(id: string): Promise<void> {
    const handle = await open(this.layout.upload(id), "wx", 0o600).catch((error: unknown) => {
      throw storageError(error);
    });
    await handle.close();
    this.states.set(id, newState(newSha256(), 0));
  }

  savedHashState(id: string): string | null {
    return this.states.get(id)?.hasher.save() ?? null;
  }

  async uploadSize(id: string): Promise<number | null> {
    const state = this.states.get(id);
    if (state) return state.size;
    try {
      return (await stat(this.layout.upload(id))).size;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async appendUpload(id: string, body: ByteSource, at?: number, from?: UploadCheckpoint | null): Promise<number> {
    const state = await this.claim(id, from);
    try {
      // Committed (here, or by a process that died before the blob was recorded): the file is a
      // blob now. A retried final PUT with no bytes may go on to record it; bytes may not be added.
      if (state.committed !== null || (await linkedElsewhere(this.layout.upload(id)))) {
        if (await carriesBytes(body)) fail("BLOB_UPLOAD_UNKNOWN", "upload already completed", { id });
        state.busy = false;
        return state.size;
      }
      if (at !== undefined && at !== state.size) {
        fail("CHUNK_OUT_OF_ORDER", `chunk starts at ${at} but the upload holds ${state.size} bytes`, { size: state.size });
      }
      const handle = await openUpload(this.layout.upload(id), "r+", id);
      try {
        // A second name means a commit linked it into the blob tree (maybe in a process since gone): never write into a blob.
        if ((await handle.stat()).nlink > 1) fail("BLOB_UPLOAD_UNKNOWN", "upload already completed", { id });
        state.size = await writeHashed(handle, body, state, this.layout.upload(id), this.directIo ? () => (this.directIo = false) : null);
      } finally {
        await handle.close();
      }
      state.busy = false;
      return state.size;
    } catch (error) {
      // A flush still running holds the file open (and, once the file is dropped, its space): the
      // caller answers, and may drop the file, only when nothing is left writing it.
      await state.flushing;
      // The hash may now disagree with the file; recompute it next time.
      this.states.delete(id);
      throw storageError(error);
    }
  }

  async commitUpload(id: string, digest: string, from?: UploadCheckpoint | null): Promise<{ size: number }> {
    const target = this.layout.blob(digest);
    // Claimed while it is checked and linked: a racing append is refused, never written into the blob.
    const state = await this.claim(id, from);
    const source = this.layout.upload(id);
    try {
      if (state.committed !== digest) {
        const actual = state.committed ?? `sha256:${state.hasher.digest("hex")}`;
        if (actual !== digest) {
          this.states.delete(id);
          await unlinkIfPresent(source);
          await state.flushing;
          fail("DIGEST_INVALID", "uploaded content does not match the digest", { expected: digest, actual });
        }
        await state.flushing;
        if (state.flushError) throw state.flushError;
        const handle = await openUpload(source, "r", id);
        try {
          await handle.datasync();
        } finally {
          await handle.close();
        }
        state.committed = digest;
      }
      await placeBlob(source, target, id);
      return { size: state.size };
    } catch (error) {
      throw storageError(error);
    } finally {
      // The hash is finished: without a verified digest, a retry recomputes it from the file.
      if (state.committed === null) this.states.delete(id);
      state.busy = false;
    }
  }

  async abortUpload(id: string): Promise<void> {
    const state = this.states.get(id);
    this.states.delete(id);
    await unlinkIfPresent(this.layout.upload(id));
    // The space comes back only once a flush still running lets go of the file.
    await state?.flushing;
  }

  async delete(digest: string): Promise<boolean> {
    return unlinkIfPresent(this.layout.blob(digest));
  }

  async *list(): AsyncIterable<StoredBlob> {
    for (const fan of await readdirIfPresent(this.layout.blobsDir)) {
      const dir = join(this.layout.blobsDir, fan);
      for (const hex of await readdirIfPresent(dir)) {
        if (!/^[a-f0-9]{64}$/.test(hex)) continue;
        const info = await stat(join(dir, hex)).catch(() => null);
        if (info?.isFile()) yield { digest: `sha256:${hex}`, size: info.size, modifiedAt: info.mtimeMs };
      }
    }
  }

  async probe(): Promise<void> {
    // A hidden name no upload id can take (ids never start with a dot).
    const path = join(this.layout.uploadsDir, `.probe-${process.pid}`);
    const handle = await open(path, "w", 0o600);
    try {
      await handle.write(new Uint8Array([1]));
      await handle.datasync();
    } finally {
      await handle.close();
      await unlinkIfPresent(path);
    }
  }

  async *listUploads(): AsyncIterable<StoredUpload> {
    for (const id of await readdirIfPresent(this.layout.uploadsDir)) {
      if (!/^[A-Za-z0-9-]{1,64}$/.test(id)) continue;
      const info = await stat(join(this.layout.uploadsDir, id)).catch(() => null);
      if (info?.isFile()) yield { id, size: info.size, modifiedAt: info.mtimeMs };
    }
  }

  /**
   * Takes an upload for one writer. Its hash state is this process's own
   * when `from` (the database's checkpoint, when the caller has one) agrees
   * with it, else the checkpoint's saved state, else recomputed from the
   * file. Bytes past that state were never acknowledged (a writer died
   * mid-chunk): they are cut off, so the file holds exactly what was hashed.
   */
  private async claim(id: string, from?: UploadCheckpoint | null): Promise<UploadState> {
    const path = this.layout.upload(id);
    let state = this.states.get(id);
    if (state && !state.busy && from !== undefined && (from === null || from.size !== state.size)) {
      this.states.delete(id);
      state = undefined;
    }
    if (!state) {
      const info = await stat(path).catch((error: unknown) => {
        if (isNotFound(error)) fail("BLOB_UPLOAD_UNKNOWN", "upload not found", { id });
        throw error;
      });
      const restored = from ? restoreSha256(from.hashState) : null;
      const fresh = restored && info.size >= from!.size ? newState(restored, from!.size) : await rehash(path, id);
      state = this.states.get(id) ?? fresh;
      this.states.set(id, state);
    }
    if (state.busy) fail("CHUNK_OUT_OF_ORDER", "another request is writing this upload", { size: state.size });
    state.busy = true;
    try {
      await cutTo(path, state.size);
    } catch (error) {
      state.busy = false;
      throw error;
    }
    return state;
  }
}

/** The state of an upload's file hashed from its first byte. */
async function rehash(path: string, id: string): Promise<UploadState> {
  const file = Bun.file(path);
  if (!(await file.exists())) fail("BLOB_UPLOAD_UNKNOWN", "upload not found", { id });
  const hasher = newSha256();
  let size = 0;
  for await (const chunk of file.stream()) {
    hasher.update(chunk);
    size += chunk.byteLength;
  }
  return newState(hasher, size);
}

/** Truncates an upload's file to `size` bytes when it is longer, unless it is also a blob (linked), which never changes. */
async function cutTo(path: string, size: number): Promise<void> {
  const info = await stat(path).catch((error: unknown) => {
    if (isNotFound(error)) return null;
    throw error;
  });
  if (info && info.nlink === 1 && info.size > size) await truncate(path, size);
}


/** Whether an upload's file also has a name in the blob tree (a commit linked it). */
async function linkedElsewhere(path: string): Promise<boolean> {
  try {
    return (await stat(path)).nlink > 1;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/** Opens an upload's file; one that vanished (completed or cancelled meanwhile) is an unknown upload. */
async function openUpload(path: string, flags: string, id: string): Promise<FileHandle> {
  try {
    return await open(path, flags);
  } catch (error) {
    if (isNotFound(error)) fail("BLOB_UPLOAD_UNKNOWN", "upload not found", { id });
    throw error;
  }
}

/**
 * Gives the verified upload at `source` the blob name `target` (a hard
 * link, so the upload keeps its bytes), or, when the blob is already there,
 * refreshes its modification time: GC leaves recent files without a row
 * alone, and this one is about to get its row.
 */
async function placeBlob(source: string, target: string, id: string): Promise<void> {
  await mkdir(dirname(target), { recursive: true, mode: 0o700 });
  for (;;) {
    let linked = false;
    try {
      await link(source, target);
      linked = true;
    } catch (error) {
      if (isNotFound(error)) fail("BLOB_UPLOAD_UNKNOWN", "upload not found", { id });
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    try {
      const now = new Date();
      await utimes(target, now, now);
      if (linked) await fsyncDirectory(dirname(target));
      return;
    } catch (error) {
      // Removed meanwhile (GC took it): link ours again.
      if (!isNotFound(error)) throw error;
    }
  }
}

async function fsyncDirectory(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function unlinkIfPresent(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (error) {
    if (!isNotFound(error)) throw error;
    return false;
  }
}

async function readdirIfPresent(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
}
