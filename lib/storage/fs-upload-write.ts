/**
 * @module Writing an upload's bytes: hashed as they arrive, gathered into
 * pieces written while the next is gathered (with O_DIRECT where the file
 * system takes it), flushed to disk in the background as the upload grows.
 * The rest of the store (fs-store.ts) claims, commits and drops uploads.
 */
import { ptr } from "bun:ffi";
import { constants } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import type { ByteSource } from "./blob-store.ts";
import { isNotFound } from "./fs-errors.ts";
import type { Sha256 } from "./sha256-state.ts";

/** What the store knows of an upload this process is writing. */
export interface UploadState {
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

/** The state of an upload holding `size` bytes hashed into `hasher`. */
export function newState(hasher: Sha256, size: number): UploadState {
  return { hasher, size, busy: false, committed: null, flushed: size, flushing: Promise.resolve(), flushError: null };
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
export async function writeHashed(
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
  let pending: Write = Promise.resolve(null);
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
        await finished(pending);
        if (refuseDirect && want === pieceBytes && direct === null) {
          direct = await DirectFile.open(path);
          if (!direct.usable) refuseDirect();
        }
        pending = started(direct?.usable ? direct.write(piece, position, handle, refuseDirect!) : writeAll(handle, piece, position));
        position += want;
        collectNow(want);
        want = pieceBytes;
        current ^= 1;
        if (position - state.flushed >= FLUSH_EVERY) flushInBackground(state, path, position);
      }
    }
  } catch (error) {
    // The caller closes the file next: no write may still be running on it.
    const written = (await pending) === null;
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
    await finished(pending);
    return await writeRest(handle, gathered, filled, position, pieces[current]);
  } finally {
    await direct?.close();
    givePieces(pieces, refuseDirect !== null);
  }
}

/**
 * A write under way that never rejects: it resolves to what the write
 * failed with, or null. A write fails (a full disk) while the loop awaits
 * the body's next chunk, when nothing awaits it yet: as a plain promise its
 * rejection would be unhandled, which ends a Bun process (or the test).
 */
type Write = Promise<{ error: unknown } | null>;

function started(write: Promise<void>): Write {
  return write.then(
    () => null,
    (error: unknown) => ({ error }),
  );
}

/** Waits for a write under way; throws what it failed with. */
async function finished(write: Write): Promise<void> {
  const failed = await write;
  if (failed) throw failed.error;
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
