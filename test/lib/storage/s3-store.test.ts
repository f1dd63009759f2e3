/**
 * @module What only the S3 store has (the shared contract is in
 * blob-store.suite.ts): aborting an upload aborts its multipart upload,
 * a multipart upload left without a record (a crash between the two) is
 * listed and aborted too, a body that fails keeps the bytes that arrived
 * for another instance to continue, every key stays under the prefix, and
 * two live instances take turns on one upload; mcr gc's sweeps clean the
 * bucket.
 */
import { describe, expect, test } from "bun:test";
import { runGc } from "../../../lib/gc/run.ts";
import { sha256Digest } from "../../../lib/oci/digest.ts";
import { createMultipart, listMultipart } from "../../../lib/storage/s3-multipart.ts";
import { S3BlobStore } from "../../../lib/storage/s3-store.ts";
import { PART_BYTES } from "../../../lib/storage/s3-upload-write.ts";
import { testApp } from "../../support/app.ts";
import { freshBucket, rgwUnavailable } from "../../support/ceph-rgw.ts";

const unavailable = rgwUnavailable();

async function openMultiparts(store: S3BlobStore): Promise<string[]> {
  const keys: string[] = [];
  for await (const open of listMultipart(store.options, "")) keys.push(open.key);
  return keys;
}

async function allKeys(store: S3BlobStore): Promise<string[]> {
  const page = await store.client.list({ maxKeys: 1000 });
  return (page.contents ?? []).map((o) => o.key).sort();
}

describe.skipIf(unavailable !== null)("S3BlobStore", () => {
  test("aborting an upload with parts aborts its multipart upload and deletes its keys", async () => {
    const store = new S3BlobStore(await freshBucket("p/"));
    await store.beginUpload("big");
    await store.appendUpload("big", [new Uint8Array(PART_BYTES + 5).fill(3)]);
    expect(await openMultiparts(store)).toEqual(["p/uploads/big/data"]);
    expect((await allKeys(store)).every((key) => key.startsWith("p/uploads/big/"))).toBe(true);
    await new S3BlobStore(store.options).abortUpload("big");
    expect(await openMultiparts(store)).toEqual([]);
    expect(await allKeys(store)).toEqual([]);
  }, 60_000);

  test("a multipart upload without a record is listed as an upload and aborted with it", async () => {
    const store = new S3BlobStore(await freshBucket(""));
    await createMultipart(store.options, store.keys.data("orphan"));
    const listed: string[] = [];
    for await (const upload of store.listUploads()) listed.push(upload.id);
    expect(listed).toEqual(["orphan"]);
    await store.abortUpload("orphan");
    expect(await openMultiparts(store)).toEqual([]);
  }, 60_000);

  test("a body that fails keeps the bytes that arrived; another instance continues and commits", async () => {
    const options = await freshBucket("f/");
    const store = new S3BlobStore(options);
    const first = new Uint8Array(PART_BYTES + 1000).map((_, i) => i & 255);
    async function* failing(): AsyncIterable<Uint8Array> {
      yield first.subarray(0, PART_BYTES / 2);
      yield first.subarray(PART_BYTES / 2);
      throw new Error("client went away");
    }
    await store.beginUpload("cut");
    await expect(store.appendUpload("cut", failing())).rejects.toThrow("client went away");
    const other = new S3BlobStore(options);
    expect(await other.uploadSize("cut")).toBe(first.byteLength);
    const rest = new TextEncoder().encode("and the rest");
    expect(await other.appendUpload("cut", [rest], first.byteLength)).toBe(first.byteLength + rest.byteLength);
    const whole = new Uint8Array([...first, ...rest]);
    expect(await other.commitUpload("cut", sha256Digest(whole))).toEqual({ size: whole.byteLength });
    expect(sha256Digest(new Uint8Array(await (await store.open(sha256Digest(whole)))!.arrayBuffer()))).toBe(sha256Digest(whole));
    const keys = await allKeys(store);
    expect(keys.every((key) => key.startsWith("f/"))).toBe(true);
    expect(keys).toContain(`f/blobs/sha256/${sha256Digest(whole).slice(7)}`);
  }, 60_000);
});

describe.skipIf(unavailable !== null)("S3BlobStore commits", () => {
  test("a blob already stored is not written again by a second upload of it", async () => {
    const store = new S3BlobStore(await freshBucket(""));
    const digest = sha256Digest("twice");
    for (const id of ["one", "two"]) {
      await store.beginUpload(id);
      await store.appendUpload(id, [new TextEncoder().encode("twice")]);
    }
    await store.commitUpload("one", digest);
    const before = await store.client.stat(store.keys.blob(digest));
    await Bun.sleep(1100);
    await store.commitUpload("two", digest);
    expect((await store.client.stat(store.keys.blob(digest))).lastModified).toEqual(before.lastModified);
    // Nor finished: the second upload's bytes were never put together.
    expect(await store.client.exists(store.keys.data("two"))).toBe(false);
  }, 60_000);
});

describe.skipIf(unavailable !== null)("S3BlobStore small blobs take the short way", () => {
  const bytes = new TextEncoder().encode("a small layer");
  const digest = sha256Digest(bytes);

  test("a blob arriving whole with its commit is written once, to its own key: the upload stages nothing", async () => {
    const store = new S3BlobStore(await freshBucket(""));
    await store.beginUpload("whole");
    expect(await store.appendUpload("whole", [bytes.subarray(0, 5), bytes.subarray(5)], undefined, undefined, true)).toBe(bytes.byteLength);
    expect(await allKeys(store)).toEqual(["uploads/whole/record"]);
    expect(await store.commitUpload("whole", digest)).toEqual({ size: bytes.byteLength });
    expect(await allKeys(store)).toEqual([store.keys.blob(digest), "uploads/whole/record"].sort());
    expect(await (await store.open(digest))!.text()).toBe("a small layer");
    // Should GC remove the blob before the commit is recorded, committing again puts it back from memory.
    await store.delete(digest);
    expect(await store.commitUpload("whole", digest)).toEqual({ size: bytes.byteLength });
    expect(await (await store.open(digest))!.text()).toBe("a small layer");
    await store.abortUpload("whole");
    expect(await allKeys(store)).toEqual([store.keys.blob(digest)]);
  }, 60_000);

  test("a process keeps the bytes of at most 32 committed uploads that were never dropped, the oldest going first", async () => {
    const store = new S3BlobStore(await freshBucket(""));
    const contents = Array.from({ length: 34 }, (_, i) => new TextEncoder().encode(`held ${i}`));
    for (const [i, bytes] of contents.entries()) {
      await store.beginUpload(`h${i}`);
      await store.appendUpload(`h${i}`, [bytes], undefined, undefined, true);
      await store.commitUpload(`h${i}`, sha256Digest(bytes));
    }
    expect(store.heldCommittedCount).toBe(32);
    // The newest can still put its blob back; the oldest cannot, and says so rather than write wrong bytes.
    await store.delete(sha256Digest(contents[33]!));
    await store.commitUpload("h33", sha256Digest(contents[33]!));
    expect(await (await store.open(sha256Digest(contents[33]!)))!.text()).toBe("held 33");
    await store.delete(sha256Digest(contents[0]!));
    await expect(store.commitUpload("h0", sha256Digest(contents[0]!))).rejects.toMatchObject({ code: "DIGEST_INVALID" });
    expect(await store.stat(sha256Digest(contents[0]!))).toBeNull();
    await store.abortUpload("h33");
    expect(store.heldCommittedCount).toBe(31);
  }, 60_000);

  test("bytes held for a commit that never came are gone for the next request: it continues from the bucket", async () => {
    const store = new S3BlobStore(await freshBucket(""));
    const empty = { size: 0, hashState: null };
    await store.beginUpload("cut");
    await store.appendUpload("cut", [bytes], undefined, empty, true);
    // The request failed before its commit; the next one brings the database's checkpoint (unknown here).
    const more = new TextEncoder().encode(" and more");
    expect(await store.appendUpload("cut", [more], undefined, null)).toBe(more.byteLength);
    await expect(store.commitUpload("cut", sha256Digest(new Uint8Array([...bytes, ...more])), null)).rejects.toMatchObject({ code: "DIGEST_INVALID" });
    expect(await store.stat(sha256Digest(new Uint8Array([...bytes, ...more])))).toBeNull();
    // Nor can a later commit alone make a blob of bytes only the failed request had.
    await store.beginUpload("late");
    await store.appendUpload("late", [bytes], undefined, empty, true);
    await expect(store.commitUpload("late", digest, null)).rejects.toMatchObject({ code: "DIGEST_INVALID" });
    expect(await store.stat(digest)).toBeNull();
  }, 60_000);

  test("a whole blob under the wrong digest is refused and leaves nothing", async () => {
    const store = new S3BlobStore(await freshBucket(""));
    await store.beginUpload("wrong");
    await store.appendUpload("wrong", [bytes], undefined, undefined, true);
    await expect(store.commitUpload("wrong", sha256Digest("something else"))).rejects.toMatchObject({ code: "DIGEST_INVALID" });
    expect(await allKeys(store)).toEqual([]);
  }, 60_000);

  test("held bytes stand only while the bucket's record is unchanged: another process's chunk wins", async () => {
    const options = await freshBucket("");
    const [a, b] = [new S3BlobStore(options), new S3BlobStore(options)];
    await a.beginUpload("raced");
    await a.appendUpload("raced", [bytes], undefined, undefined, true);
    const other = new TextEncoder().encode("written elsewhere");
    await b.appendUpload("raced", [other], 0);
    await expect(a.commitUpload("raced", digest)).rejects.toMatchObject({ code: "DIGEST_INVALID" });
    expect(await a.stat(digest)).toBeNull();
  }, 60_000);

  test("a final body of more than a part is written in parts as any other", async () => {
    const store = new S3BlobStore(await freshBucket(""));
    const chunks = [PART_BYTES - 1, 2, 10].map((n, i) => new Uint8Array(n).fill(i + 7));
    const whole = new Uint8Array(PART_BYTES + 11);
    whole.set(chunks[0]!, 0);
    whole.set(chunks[1]!, PART_BYTES - 1);
    whole.set(chunks[2]!, PART_BYTES + 1);
    await store.beginUpload("large");
    expect(await store.appendUpload("large", chunks, undefined, undefined, true)).toBe(whole.byteLength);
    expect(await openMultiparts(store)).toEqual(["uploads/large/data"]);
    expect(await store.commitUpload("large", sha256Digest(whole))).toEqual({ size: whole.byteLength });
    expect(sha256Digest(new Uint8Array(await (await store.open(sha256Digest(whole)))!.arrayBuffer()))).toBe(sha256Digest(whole));
    await store.abortUpload("large");
    expect(await allKeys(store)).toEqual([store.keys.blob(sha256Digest(whole))]);
  }, 60_000);

  test("an upload all in its tail is copied from there to the blob's key, put back from there, and removed whole", async () => {
    const store = new S3BlobStore(await freshBucket(""));
    await store.beginUpload("tail");
    await store.appendUpload("tail", [bytes]);
    expect(await store.commitUpload("tail", digest)).toEqual({ size: bytes.byteLength });
    expect(await store.client.exists(store.keys.data("tail"))).toBe(false);
    await store.delete(digest);
    await store.commitUpload("tail", digest);
    expect(await (await store.open(digest))!.text()).toBe("a small layer");
    await store.abortUpload("tail");
    expect(await allKeys(store)).toEqual([store.keys.blob(digest)]);
  }, 60_000);

  test("objects of an upload that lost its record (a chunk that failed, a removal cut short) are listed and removed", async () => {
    const store = new S3BlobStore(await freshBucket(""));
    await store.client.write(store.keys.tail("lost", "x"), new Uint8Array(42));
    const listed: { id: string; size: number }[] = [];
    for await (const upload of store.listUploads()) listed.push({ id: upload.id, size: upload.size });
    expect(listed).toEqual([{ id: "lost", size: 42 }]);
    await store.abortUpload("lost");
    expect(await allKeys(store)).toEqual([]);
  }, 60_000);
});

describe.skipIf(unavailable !== null)("S3BlobStore across processes", () => {
  test("chunks alternating between two live instances (replicas) continue from the bucket's record, not a stale memory", async () => {
    const options = await freshBucket("x/");
    const [a, b] = [new S3BlobStore(options), new S3BlobStore(options)];
    const chunks = [PART_BYTES - 1, 2, PART_BYTES + 3, 5].map((n, i) => new Uint8Array(n).fill(i + 1));
    await a.beginUpload("alt");
    let size = 0;
    for (const [i, chunk] of chunks.entries()) size = await (i % 2 === 0 ? a : b).appendUpload("alt", [chunk], size);
    expect(await a.uploadSize("alt")).toBe(size);
    const whole = new Uint8Array(size);
    let at = 0;
    for (const chunk of chunks) {
      whole.set(chunk, at);
      at += chunk.byteLength;
    }
    expect(await a.commitUpload("alt", sha256Digest(whole))).toEqual({ size });
    expect(sha256Digest(new Uint8Array(await (await b.open(sha256Digest(whole)))!.arrayBuffer()))).toBe(sha256Digest(whole));
  }, 60_000);
});

describe.skipIf(unavailable !== null)("S3BlobStore and the database checkpoint", () => {
  test("a writer that died after its record but before the checkpoint: the next writer goes back one chunk to the checkpoint", async () => {
    const options = await freshBucket("");
    const dead = new S3BlobStore(options);
    const first = new Uint8Array(PART_BYTES + 7).fill(1);
    await dead.beginUpload("rb");
    await dead.appendUpload("rb", [first]);
    const checkpoint = { size: first.byteLength, hashState: dead.savedHashState("rb") };
    // This chunk reached the record; the database never heard of it (the process was killed).
    await dead.appendUpload("rb", [new Uint8Array(PART_BYTES).fill(2)], first.byteLength, checkpoint);
    const next = new S3BlobStore(options);
    const second = new TextEncoder().encode("the client's retry");
    expect(await next.appendUpload("rb", [second], first.byteLength, checkpoint)).toBe(first.byteLength + second.byteLength);
    const whole = new Uint8Array([...first, ...second]);
    expect(await next.commitUpload("rb", sha256Digest(whole))).toEqual({ size: whole.byteLength });
    expect(sha256Digest(new Uint8Array(await (await next.open(sha256Digest(whole)))!.arrayBuffer()))).toBe(sha256Digest(whole));
  }, 60_000);
});

describe.skipIf(unavailable !== null)("mcr gc on S3", () => {
  test("the upload sweep aborts abandoned multipart uploads (with a record or without), and the blob sweep removes unrecorded blobs", async () => {
    const options = await freshBucket("gc/");
    const t = await testApp({ s3: options });
    try {
      const store = t.reg.store as S3BlobStore;
      await store.beginUpload("abandoned");
      await store.appendUpload("abandoned", [new Uint8Array(PART_BYTES + 1)]);
      await createMultipart(options, store.keys.data("crashed"));
      await store.beginUpload("stray");
      await store.appendUpload("stray", [new TextEncoder().encode("no row records me")]);
      await store.commitUpload("stray", sha256Digest("no row records me"));
      expect((await openMultiparts(store)).sort()).toEqual(["gc/uploads/abandoned/data", "gc/uploads/crashed/data"]);
      // A day and more later: everything above is abandoned.
      t.reg.now = () => Date.now() + 25 * 60 * 60 * 1000;
      await runGc(t.reg, { actor: "test" });
      expect(await openMultiparts(store)).toEqual([]);
      expect(await allKeys(store)).toEqual([]);
    } finally {
      await t.close();
    }
  }, 60_000);
});

// Without Ceph, the reason shows in the run's report.
if (unavailable) test.skip(unavailable, () => {});
