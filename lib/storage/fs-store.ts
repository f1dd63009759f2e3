/**
 * @module The blob store on a local file system. Uploads are files that
 * are hashed as they are written; a commit fsyncs, verifies the digest and
 * hard-links the file into the content-addressed tree, so a blob path only
 * ever holds complete, verified bytes. The upload keeps its name until it
 * is dropped, so a blob that GC removed before the commit was recorded can
 * be put back from it.
 */
import { ptr } from "bun:ffi";
import { constants, mkdirSync } from "node:fs";
import { link, mkdir, open, readdir, stat, truncate, unlink, utimes, type FileHandle } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fail } from "../errors.ts";
import type { BlobStore, ByteRange, ByteSource, StoredBlob, StoredUpload, UploadCheckpoint } from "./blob-store.ts";
import { storageError } from "./fs-errors.ts";
import { FsLayout } from "./fs-layout.ts";
import { newSha256, restoreSha256, type Sha256 } from "./sha256-state.ts";

interface UploadState {
  hasher: Sha256;
  size: number;
  busy: boolean;
  /** The digest the bytes were verified as; the file is then also that blob and must not change. */
  committed: string | null;
  /** Bytes up to which a background flush has been started. */
  flushed: number;
  /** The background flushes, in order; a commit waits for them. */
  flushing: Promise<void>;
  /** Why a background flush failed: the commit fails with it. */
  flushError: unknown;
}

/**
 * Bytes per write through the page cache. Body chunks arrive at about
 * 64 KiB; gathered into 256 KiB pieces they cost far fewer trips to the I/O
 * threads, and the kernel copies 256 KiB pieces into the page cache faster
 * per byte than 1 MiB ones.
 */
const WRITE_BYTES = 256 * 1024;
/**
 * Bytes per write with O_DIRECT, which skips the page cache: the kernel
 * copies nothing, and on the test machine 1 GiB hashed and written this way
 * took 0.1 s of system time instead of 1.6 s, at three times the rate.
 */
const DIRECT_BYTES = 1024 * 1024;
/** What O_DIRECT needs aligned (memory, file offset and length): the page size covers every common disk. */
const ALIGN = 4096;
/**
 * An upload's bytes are flushed to disk in the background every this many,
 * so the disk writes while the body is still arriving and a commit's
 * fdatasync waits for the last few MiB rather than the whole blob.
 */
const FLUSH_EVERY = 64 * 1024 * 1024;

function newState(hasher: Sha256, size: number): UploadState {
  return { hasher, size, busy: false, committed: null, flushed: size, flushing: Promise.resolve(), flushError: null };
}

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
    this.states.delete(id);
    await unlinkIfPresent(this.layout.upload(id));
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

/**
 * Writes the stream at the end of the file while hashing it. Chunks are
 * gathered into pieces, each written while the next is gathered and
 * hashed, so hashing and disk I/O overlap; two reused pieces (allocated
 * only once a body fills one) are all the memory it takes.
 *
 * With `refuseDirect` given, whole pieces at aligned offsets are written
 * through a second descriptor opened with O_DIRECT (one short piece first
 * brings an unaligned upload to a boundary); when the file system refuses
 * it, `refuseDirect` is called and the page cache is used from then on.
 * What is left at the end, all of a small blob, is written through the
 * page cache as it came, also when the body fails: bytes that arrived are
 * kept. Every FLUSH_EVERY bytes a background flush starts.
 */
async function writeHashed(
  handle: FileHandle,
  body: ByteSource,
  state: UploadState,
  path: string,
  refuseDirect: (() => void) | null,
): Promise<number> {
  let position = state.size;
  const pieceBytes = refuseDirect ? DIRECT_BYTES : WRITE_BYTES;
  const pieces: Uint8Array[] = [];
  let current = 0;
  let gathered: Uint8Array[] = [];
  let filled = 0;
  let direct: DirectFile | null = null;
  let pending: Promise<void> = Promise.resolve();
  // An unaligned upload first takes a short piece up to the next boundary.
  let want = refuseDirect ? (ALIGN - (position % ALIGN)) % ALIGN || pieceBytes : pieceBytes;
  try {
    for await (const chunk of body) {
      if (chunk.byteLength === 0) continue;
      state.hasher.update(chunk);
      gathered.push(chunk);
      filled += chunk.byteLength;
      while (filled >= want) {
        // The piece written before the last is done (awaited below), so this one is free to fill.
        const piece = (pieces[current] ??= takePiece(refuseDirect !== null)).subarray(0, want);
        gathered = moveInto(piece, gathered);
        filled -= want;
        await pending;
        if (refuseDirect && want === pieceBytes && direct === null) {
          direct = await DirectFile.open(path);
          if (!direct.usable) refuseDirect();
        }
        pending = direct?.usable ? direct.write(piece, position, handle, refuseDirect!) : writeAll(handle, piece, position);
        position += want;
        collectNow(want);
        want = pieceBytes;
        current ^= 1;
        if (position - state.flushed >= FLUSH_EVERY) flushInBackground(state, path, position);
      }
    }
  } catch (error) {
    // The caller closes the file next: no write may still be running on it.
    const written = await pending.then(
      () => true,
      () => false,
    );
    await direct?.close();
    try {
      // The body failed (the client went away, or sent too much): the bytes that arrived are kept, so it can resume after them.
      if (written) await writeRest(handle, gathered, filled, position, pieces[current]).catch(() => {});
    } finally {
      givePieces(pieces, refuseDirect !== null);
    }
    throw error;
  }
  try {
    await pending;
    return await writeRest(handle, gathered, filled, position, pieces[current]);
  } finally {
    await direct?.close();
    givePieces(pieces, refuseDirect !== null);
  }
}

/**
 * Writes the `filled` bytes still gathered (less than a piece) at `position`,
 * as they came, or gathered into `spare` (a free piece) when they came in
 * several chunks; returns the new end.
 */
async function writeRest(handle: FileHandle, gathered: Uint8Array[], filled: number, position: number, spare: Uint8Array | undefined): Promise<number> {
  if (filled === 0) return position;
  let rest = gathered[0]!;
  if (gathered.length > 1) moveInto((rest = spare ? spare.subarray(0, filled) : new Uint8Array(filled)), gathered);
  await writeAll(handle, rest, position);
  return position + filled;
}

/**
 * Pieces no upload is using, by kind (aligned for O_DIRECT, or not), kept
 * for the next request: a chunked push allocated two new pieces per PATCH,
 * and memory churned that fast is slow to go back to the system.
 */
const sparePieces = { direct: [] as Uint8Array[], cached: [] as Uint8Array[] };
const MAX_SPARE_PIECES = 8;

function takePiece(direct: boolean): Uint8Array {
  return (direct ? sparePieces.direct : sparePieces.cached).pop() ?? (direct ? alignedBuffer(DIRECT_BYTES) : new Uint8Array(WRITE_BYTES));
}

/** Returns pieces no write uses any more to the spares. */
function givePieces(pieces: readonly (Uint8Array | undefined)[], direct: boolean): void {
  const spares = direct ? sparePieces.direct : sparePieces.cached;
  for (const piece of pieces) if (piece && spares.length < MAX_SPARE_PIECES) spares.push(piece);
}

/** A second handle of an upload, opened with O_DIRECT; unusable where the file system refuses it. */
class DirectFile {
  private constructor(private handle: FileHandle | null) {}

  static async open(path: string): Promise<DirectFile> {
    try {
      return new DirectFile(await open(path, constants.O_WRONLY | constants.O_DIRECT));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EINVAL") return new DirectFile(null);
      throw error;
    }
  }

  get usable(): boolean {
    return this.handle !== null;
  }

  /** Writes an aligned piece; should the file system refuse it after all, writes it through `fallback` instead. */
  async write(piece: Uint8Array, position: number, fallback: FileHandle, refused: () => void): Promise<void> {
    try {
      await writeAll(this.handle!, piece, position);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EINVAL") throw error;
      await this.close();
      refused();
      await writeAll(fallback, piece, position);
    }
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    await handle?.close();
  }
}

/** `size` bytes whose memory starts on an ALIGN boundary, as O_DIRECT needs. */
function alignedBuffer(size: number): Uint8Array {
  const raw = new Uint8Array(size + ALIGN);
  const offset = (ALIGN - (Number(ptr(raw)) % ALIGN)) % ALIGN;
  return raw.subarray(offset, offset + size);
}

/** Fills `piece` from the front of `chunks`; returns the chunks (and part of one) left over. */
function moveInto(piece: Uint8Array, chunks: Uint8Array[]): Uint8Array[] {
  let at = 0;
  for (let i = 0; i < chunks.length; i++) {
    const chunk = chunks[i]!;
    const n = Math.min(chunk.byteLength, piece.byteLength - at);
    piece.set(n === chunk.byteLength ? chunk : chunk.subarray(0, n), at);
    at += n;
    if (n < chunk.byteLength) return [chunk.subarray(n), ...chunks.slice(i + 1)];
    if (at === piece.byteLength) return chunks.slice(i + 1);
  }
  return [];
}

/**
 * Upload bytes between full garbage collections. A request body arrives as
 * fresh ~64 KiB buffers that the collector frees late and the allocator
 * gives back to the system later still: two 1 GiB pushes took the server
 * to 140-156 MiB resident. A full collection every 256 MiB received (~10
 * ms each) keeps it near 130 MiB for a few percent of the push's speed.
 */
const COLLECT_EVERY = 256 * 1024 * 1024;
let receivedSinceCollection = 0;

function collectNow(bytes: number): void {
  receivedSinceCollection += bytes;
  if (receivedSinceCollection < COLLECT_EVERY) return;
  receivedSinceCollection = 0;
  Bun.gc(true);
}

/** Starts an fdatasync of the upload, after those already started, without waiting for it. */
function flushInBackground(state: UploadState, path: string, upTo: number): void {
  state.flushed = upTo;
  state.flushing = state.flushing.then(async () => {
    try {
      const handle = await open(path, "r");
      try {
        await handle.datasync();
      } finally {
        await handle.close();
      }
    } catch (error) {
      // Gone (completed or cancelled meanwhile) needs no flush; anything else fails the commit.
      if (!isNotFound(error)) state.flushError ??= error;
    }
  });
}

async function writeAll(handle: FileHandle, chunk: Uint8Array, position: number): Promise<void> {
  let offset = 0;
  while (offset < chunk.byteLength) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.byteLength - offset, position + offset);
    offset += bytesWritten;
  }
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

/** Whether a body has any byte (reading it up to the first one). */
async function carriesBytes(body: ByteSource): Promise<boolean> {
  for await (const chunk of body) if (chunk.byteLength > 0) return true;
  return false;
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

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === "ENOENT";
}
