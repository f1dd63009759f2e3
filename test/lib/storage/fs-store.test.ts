/**
 * @module The file-system blob store: uploads hash as they write, commits
 * verify and link atomically (keeping the upload's bytes until it is
 * dropped), mismatches leave nothing behind.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { sha256Digest } from "../../../lib/oci/digest.ts";
import { FsBlobStore } from "../../../lib/storage/fs-store.ts";
import { tempDir } from "../../support/temp.ts";
import { codeOf } from "./blob-store.suite.ts";

const enc = new TextEncoder();

async function* chunks(...parts: string[]): AsyncIterable<Uint8Array> {
  for (const part of parts) yield enc.encode(part);
}

async function upload(store: FsBlobStore, id: string, ...parts: string[]): Promise<void> {
  await store.beginUpload(id);
  await store.appendUpload(id, chunks(...parts));
}

describe("FsBlobStore", () => {
  test("commit verifies the digest and stores the bytes under it", async () => {
    const store = new FsBlobStore(tempDir());
    await upload(store, "u1", "hello ", "world");
    const digest = sha256Digest("hello world");
    expect(await store.commitUpload("u1", digest)).toEqual({ size: 11 });
    expect(readFileSync(store.layout.blob(digest), "utf8")).toBe("hello world");
    expect(store.layout.blob(digest)).toContain(`/blobs/sha256/${digest.slice(7, 9)}/${digest.slice(7)}`);
    expect(await store.stat(digest)).toEqual({ size: 11 });
    expect(await (await store.open(digest))!.text()).toBe("hello world");
    expect(await (await store.open(digest, { start: 6, end: 10 }))!.text()).toBe("world");
    // The upload keeps its bytes until it is dropped, and takes no more of them.
    expect(await store.uploadSize("u1")).toBe(11);
    expect(await codeOf(store.appendUpload("u1", chunks("!")))).toBe("BLOB_UPLOAD_UNKNOWN");
    await store.abortUpload("u1");
    expect(await store.uploadSize("u1")).toBeNull();
    expect(readFileSync(store.layout.blob(digest), "utf8")).toBe("hello world");
  });

  test("committing again puts back a blob removed meanwhile, without rehashing", async () => {
    const store = new FsBlobStore(tempDir());
    const digest = sha256Digest("put back");
    await upload(store, "p", "put ", "back");
    await store.commitUpload("p", digest);
    expect(await store.delete(digest)).toBe(true);
    expect(await store.delete(digest)).toBe(false);
    expect(await store.commitUpload("p", digest)).toEqual({ size: 8 });
    expect(readFileSync(store.layout.blob(digest), "utf8")).toBe("put back");
    expect(await codeOf(store.commitUpload("p", sha256Digest("other")))).toBe("DIGEST_INVALID");
    expect(await store.uploadSize("p")).toBeNull();
    expect(readFileSync(store.layout.blob(digest), "utf8")).toBe("put back");
  });

  test("a committed upload is never appended to, even by a process that did not commit it", async () => {
    const root = tempDir();
    const first = new FsBlobStore(root);
    const digest = sha256Digest("sealed");
    await upload(first, "s", "sealed");
    await first.commitUpload("s", digest);
    const second = new FsBlobStore(root);
    expect(await codeOf(second.appendUpload("s", chunks("tail"), 6))).toBe("BLOB_UPLOAD_UNKNOWN");
    expect(readFileSync(second.layout.blob(digest), "utf8")).toBe("sealed");
    // The final PUT retried after a crash carries no bytes: it goes through, and the commit is repeated.
    expect(await second.appendUpload("s", chunks(""))).toBe(6);
    expect(await first.appendUpload("s", chunks())).toBe(6);
    expect(await second.commitUpload("s", digest)).toEqual({ size: 6 });
  });

  test("a digest mismatch discards the upload and stores nothing", async () => {
    const root = tempDir();
    const store = new FsBlobStore(root);
    await upload(store, "u1", "actual bytes");
    const claimed = sha256Digest("other bytes");
    expect(await codeOf(store.commitUpload("u1", claimed))).toBe("DIGEST_INVALID");
    expect(await store.stat(claimed)).toBeNull();
    expect(await store.stat(sha256Digest("actual bytes"))).toBeNull();
    expect(readdirSync(store.layout.uploadsDir)).toEqual([]);
    expect(readdirSync(store.layout.blobsDir)).toEqual([]);
    expect(await codeOf(store.appendUpload("u1", chunks("x")))).toBe("BLOB_UPLOAD_UNKNOWN");
  });

  test("committing a blob that already exists is idempotent", async () => {
    const store = new FsBlobStore(tempDir());
    const digest = sha256Digest("same");
    await upload(store, "a", "same");
    await store.commitUpload("a", digest);
    await upload(store, "b", "sa", "me");
    expect(await store.commitUpload("b", digest)).toEqual({ size: 4 });
    expect(readFileSync(store.layout.blob(digest), "utf8")).toBe("same");
    expect(readdirSync(store.layout.uploadsDir).sort()).toEqual(["a", "b"]);
  });

  test("concurrent commits of the same digest both succeed and leave one file", async () => {
    const store = new FsBlobStore(tempDir());
    const content = "x".repeat(100_000);
    const digest = sha256Digest(content);
    const ids = Array.from({ length: 8 }, (_, i) => `c${i}`);
    await Promise.all(ids.map((id) => upload(store, id, content.slice(0, 50_000), content.slice(50_000))));
    const results = await Promise.all(ids.map((id) => store.commitUpload(id, digest)));
    expect(results).toEqual(ids.map(() => ({ size: 100_000 })));
    const fan = digest.slice(7, 9);
    expect(readdirSync(`${store.layout.blobsDir}/${fan}`)).toEqual([digest.slice(7)]);
    expect(readFileSync(store.layout.blob(digest), "utf8")).toBe(content);
    await Promise.all(ids.map((id) => store.abortUpload(id)));
    expect(readdirSync(store.layout.uploadsDir)).toEqual([]);
  });

  test("appends must start where the upload ends", async () => {
    const store = new FsBlobStore(tempDir());
    await upload(store, "u", "abc");
    expect(await store.appendUpload("u", chunks("def"), 3)).toBe(6);
    expect(await codeOf(store.appendUpload("u", chunks("def"), 3))).toBe("CHUNK_OUT_OF_ORDER");
    expect(await codeOf(store.appendUpload("u", chunks("zzz"), 10))).toBe("CHUNK_OUT_OF_ORDER");
    expect(await store.uploadSize("u")).toBe(6);
  });

  test("an upload resumes in a new process: the hash is recomputed from the file", async () => {
    const root = tempDir();
    const first = new FsBlobStore(root);
    await upload(first, "r", "part one, ");
    const second = new FsBlobStore(root);
    expect(await second.uploadSize("r")).toBe(10);
    await second.appendUpload("r", chunks("part two"), 10);
    const digest = sha256Digest("part one, part two");
    expect(await second.commitUpload("r", digest)).toEqual({ size: 18 });
  });

  test("a failed stream keeps the bytes that arrived and a consistent hash", async () => {
    const store = new FsBlobStore(tempDir());
    await store.beginUpload("f");
    async function* broken(): AsyncIterable<Uint8Array> {
      yield enc.encode("kept");
      throw new Error("client went away");
    }
    await expect(store.appendUpload("f", broken())).rejects.toThrow("client went away");
    expect(await store.uploadSize("f")).toBe(4);
    await store.appendUpload("f", chunks("+more"), 4);
    expect(await store.commitUpload("f", sha256Digest("kept+more"))).toEqual({ size: 9 });
  });

  test.each([
    ["with O_DIRECT", true],
    ["through the page cache", false],
  ])("a stream that fails after several pieces keeps every byte that arrived (%s)", async (_how, directIo) => {
    const store = new FsBlobStore(tempDir(), { directIo });
    const arrived = crypto.getRandomValues(new Uint8Array(3 * 1024 * 1024 + 4321));
    async function* broken(): AsyncIterable<Uint8Array> {
      for (let at = 0; at < arrived.byteLength; at += 50_000) yield arrived.subarray(at, Math.min(at + 50_000, arrived.byteLength));
      throw new Error("client went away");
    }
    await store.beginUpload("f");
    await expect(store.appendUpload("f", broken())).rejects.toThrow("client went away");
    expect(await store.uploadSize("f")).toBe(arrived.byteLength);
    expect(new Uint8Array(await Bun.file(store.layout.upload("f")).arrayBuffer())).toEqual(arrived);
  });

  test.each([
    ["with O_DIRECT", true],
    ["through the page cache", false],
  ])("a large upload in odd-sized chunks, flushed in the background, keeps every byte in order (%s)", async (_how, directIo) => {
    const store = new FsBlobStore(tempDir(), { directIo });
    // 70 MiB: more than one background flush, and pieces that straddle the write size.
    const total = 70 * 1024 * 1024 + 12_345;
    const hasher = new Bun.CryptoHasher("sha256");
    async function* body(from: number, to: number): AsyncIterable<Uint8Array> {
      for (let at = from; at < to; ) {
        const part = new Uint8Array(Math.min(100_003, to - at));
        for (let i = 0; i < part.byteLength; i++) part[i] = (at + i) % 251;
        hasher.update(part);
        at += part.byteLength;
        yield part;
      }
    }
    await store.beginUpload("big");
    const half = 33 * 1024 * 1024 + 7;
    expect(await store.appendUpload("big", body(0, half))).toBe(half);
    expect(await store.appendUpload("big", body(half, total), half)).toBe(total);
    const digest = `sha256:${hasher.digest("hex")}`;
    expect(await store.commitUpload("big", digest)).toEqual({ size: total });
    const stored = new Uint8Array(await Bun.file(store.layout.blob(digest)).arrayBuffer());
    expect(stored.byteLength).toBe(total);
    for (const at of [0, 250, 251, 262_143, 262_144, half - 1, half, half + 1, total - 1]) expect(stored[at]).toBe(at % 251);
  });

  test("abort removes the upload; delete removes a blob; both ignore absent ones", async () => {
    const store = new FsBlobStore(tempDir());
    await upload(store, "x", "data");
    await store.abortUpload("x");
    await store.abortUpload("x");
    expect(await store.uploadSize("x")).toBeNull();
    const digest = sha256Digest("data");
    await upload(store, "y", "data");
    await store.commitUpload("y", digest);
    expect(await store.delete(digest)).toBe(true);
    expect(await store.delete(digest)).toBe(false);
    expect(await store.stat(digest)).toBeNull();
    expect(await store.open(digest)).toBeNull();
  });

  test("list yields every committed blob", async () => {
    const store = new FsBlobStore(tempDir());
    const digests = [];
    for (const text of ["one", "two", "three"]) {
      await upload(store, `l-${text}`, text);
      digests.push((await store.commitUpload(`l-${text}`, sha256Digest(text)), sha256Digest(text)));
    }
    const listed = [];
    for await (const blob of store.list()) listed.push(blob.digest);
    expect(listed.sort()).toEqual(digests.sort());
    const uploads = [];
    for await (const u of store.listUploads()) uploads.push(`${u.id}:${u.size}`);
    expect(uploads.sort()).toEqual(["l-one:3", "l-three:5", "l-two:3"]);
  });

  test("upload ids cannot name a path outside the uploads directory", async () => {
    const root = tempDir();
    const store = new FsBlobStore(root);
    for (const id of ["../mcr.db", "a/b", "..", "", "x".repeat(65)]) {
      expect(await codeOf(store.beginUpload(id))).toBe("BLOB_UPLOAD_UNKNOWN");
    }
    expect(existsSync(`${root}/mcr.db`)).toBe(false);
  });
});
