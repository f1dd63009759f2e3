/**
 * @module The contract every BlobStore keeps (STYLE rule 10), run against
 * each implementation by its own test file: commits verify, mismatches
 * leave nothing, duplicates and concurrent commits store one blob, chunks
 * of any size (around S3's 5 MiB part minimum) add up, an upload resumes
 * in a new store instance (another process, a restart), ranges read the
 * right bytes, and uploads and blobs go away when told.
 */
import { describe, expect, test } from "bun:test";
import { RegistryError } from "../../../lib/errors.ts";
import { sha256Digest } from "../../../lib/oci/digest.ts";
import type { BlobStore } from "../../../lib/storage/blob-store.ts";

/** A store under test; `reopen` gives another instance on the same storage, as a new process would have. */
export interface StoreUnderTest {
  store: BlobStore;
  reopen(): BlobStore;
}

const MiB = 1024 * 1024;
const enc = new TextEncoder();

/** `n` bytes that differ with `seed` and position (cheap, and not all one value). */
function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 131 + seed * 17 + (i >> 12)) & 255;
  return out;
}

/** A body of `data` in pieces of at most 64 KiB, as a request body arrives. */
async function* body(data: Uint8Array): AsyncIterable<Uint8Array> {
  for (let at = 0; at < data.byteLength; at += 64 * 1024) yield data.subarray(at, Math.min(at + 64 * 1024, data.byteLength));
}

/** The code of the RegistryError `promise` rejects with, or "no error". */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RegistryError) return error.code;
    throw error;
  }
  return "no error";
}

async function listed(store: BlobStore): Promise<string[]> {
  const digests: string[] = [];
  for await (const blob of store.list()) digests.push(blob.digest);
  return digests.sort();
}

/** Runs the contract against the stores `make` gives (a fresh, empty one per call). */
export function runBlobStoreSuite(name: string, make: () => Promise<StoreUnderTest>, timeoutMs = 60_000): void {
  describe(`${name}: the blob store contract`, () => {
    test("commit verifies the digest, stores the bytes, keeps the upload until it is dropped", async () => {
      const { store } = await make();
      await store.beginUpload("u1");
      await store.appendUpload("u1", [enc.encode("hello "), enc.encode("world")]);
      const digest = sha256Digest("hello world");
      expect(await store.commitUpload("u1", digest)).toEqual({ size: 11 });
      expect(await store.stat(digest)).toEqual({ size: 11 });
      expect(await (await store.open(digest))!.text()).toBe("hello world");
      expect(await (await store.open(digest, { start: 6, end: 10 }))!.text()).toBe("world");
      expect(await store.uploadSize("u1")).toBe(11);
      expect(await codeOf(store.appendUpload("u1", [enc.encode("!")]))).toBe("BLOB_UPLOAD_UNKNOWN");
      // Committed again (GC removed the blob before it was recorded): put back from the upload.
      expect(await store.delete(digest)).toBe(true);
      expect(await store.commitUpload("u1", digest)).toEqual({ size: 11 });
      expect(await (await store.open(digest))!.text()).toBe("hello world");
      await store.abortUpload("u1");
      expect(await store.uploadSize("u1")).toBeNull();
      expect(await store.stat(digest)).toEqual({ size: 11 });
    }, timeoutMs);

    test("a digest mismatch discards the upload and stores nothing", async () => {
      const { store } = await make();
      await store.beginUpload("bad");
      await store.appendUpload("bad", [enc.encode("these bytes")]);
      const wrong = sha256Digest("other bytes");
      expect(await codeOf(store.commitUpload("bad", wrong))).toBe("DIGEST_INVALID");
      expect(await store.stat(wrong)).toBeNull();
      expect(await store.open(wrong)).toBeNull();
      expect(await store.uploadSize("bad")).toBeNull();
      expect(await listed(store)).toEqual([]);
    }, timeoutMs);

    test("a blob already stored is committed again from another upload, and from two at once, as one blob", async () => {
      const { store } = await make();
      const digest = sha256Digest("same");
      for (const id of ["a", "b", "c", "d"]) {
        await store.beginUpload(id);
        await store.appendUpload(id, [enc.encode("same")]);
      }
      await store.commitUpload("a", digest);
      expect(await store.commitUpload("b", digest)).toEqual({ size: 4 });
      const both = await Promise.all([store.commitUpload("c", digest), store.commitUpload("d", digest)]);
      expect(both).toEqual([{ size: 4 }, { size: 4 }]);
      expect(await listed(store)).toEqual([digest]);
      expect(await (await store.open(digest))!.text()).toBe("same");
    }, timeoutMs);

    test("a chunk must start where the upload ends; an unknown upload is refused", async () => {
      const { store } = await make();
      await store.beginUpload("o");
      expect(await store.appendUpload("o", [enc.encode("abc")], 0)).toBe(3);
      expect(await codeOf(store.appendUpload("o", [enc.encode("x")], 1))).toBe("CHUNK_OUT_OF_ORDER");
      expect(await store.appendUpload("o", [enc.encode("def")], 3)).toBe(6);
      expect(await codeOf(store.appendUpload("nope", [enc.encode("x")]))).toBe("BLOB_UPLOAD_UNKNOWN");
      expect(await store.uploadSize("nope")).toBeNull();
    }, timeoutMs);

    test("chunks of 1 B, 4 MiB, 5 MiB - 1, 5 MiB, 5 MiB + 1 and 17 MiB, each on a new store instance, make one blob", async () => {
      const { store, reopen } = await make();
      const sizes = [1, 4 * MiB, 5 * MiB - 1, 5 * MiB, 5 * MiB + 1, 17 * MiB];
      const chunks = sizes.map((n, i) => bytes(n, i + 1));
      const whole = new Uint8Array(sizes.reduce((a, b) => a + b, 0));
      let at = 0;
      for (const chunk of chunks) {
        whole.set(chunk, at);
        at += chunk.byteLength;
      }
      const digest = sha256Digest(whole);
      await store.beginUpload("odd");
      let size = 0;
      for (const [i, chunk] of chunks.entries()) {
        // Each chunk lands on a store that never saw this upload (another replica, or after a restart).
        const writer = i === 0 ? store : reopen();
        size = await writer.appendUpload("odd", body(chunk), size);
        expect(size).toBe(chunks.slice(0, i + 1).reduce((a, c) => a + c.byteLength, 0));
        expect(await reopen().uploadSize("odd")).toBe(size);
      }
      expect(await reopen().commitUpload("odd", digest)).toEqual({ size: whole.byteLength });
      const reader = reopen();
      const back = new Uint8Array(await (await reader.open(digest))!.arrayBuffer());
      expect(sha256Digest(back)).toBe(digest);
      // A range across the 8 MiB and 16 MiB marks, and the last bytes.
      const start = 8 * MiB - 3;
      const end = 16 * MiB + 2;
      expect(Buffer.from(await (await reader.open(digest, { start, end }))!.arrayBuffer()).equals(Buffer.from(whole.subarray(start, end + 1)))).toBe(true);
      const last = whole.byteLength - 1;
      expect([...new Uint8Array(await (await reader.open(digest, { start: last, end: last }))!.arrayBuffer())]).toEqual([whole[last]!]);
      await reopen().abortUpload("odd");
    }, Math.max(timeoutMs, 120_000));

    test("an empty upload commits as the empty blob", async () => {
      const { store } = await make();
      const digest = sha256Digest("");
      await store.beginUpload("e");
      expect(await store.appendUpload("e", [])).toBe(0);
      expect(await store.commitUpload("e", digest)).toEqual({ size: 0 });
      expect(await store.stat(digest)).toEqual({ size: 0 });
      expect(await (await store.open(digest))!.text()).toBe("");
    }, timeoutMs);

    test("an upload lists until aborted; delete removes a blob; both ignore absent ones", async () => {
      const { store, reopen } = await make();
      await store.beginUpload("l1");
      await store.appendUpload("l1", [enc.encode("listed")]);
      const uploads: { id: string; size: number }[] = [];
      for await (const u of reopen().listUploads()) uploads.push({ id: u.id, size: u.size });
      expect(uploads).toEqual([{ id: "l1", size: 6 }]);
      await reopen().abortUpload("l1");
      await store.abortUpload("l1");
      expect(await store.uploadSize("l1")).toBeNull();
      for await (const u of store.listUploads()) throw new Error(`upload ${u.id} still listed`);
      expect(await store.delete(sha256Digest("never"))).toBe(false);
      await store.probe();
    }, timeoutMs);
  });
}
