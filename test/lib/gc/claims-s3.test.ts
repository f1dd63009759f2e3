/**
 * @module GC claims with blobs in S3 (a real Ceph RADOS Gateway): a delete
 * that races an upload of the same digest must end with the blob present.
 * The fs scenario of claims.test.ts (GC mid-sweep holds the claim, deletes
 * the object, the waiting upload puts its own bytes back), a dead GC's
 * claim with the object gone, and the real race: `runGc` on one registry
 * instance (as `mcr gc` in another process) collects a blob while another
 * instance commits an upload of the same digest, many times at varied
 * offsets; every time the blob ends served, with its bytes, in the bucket.
 */
import { describe, expect, test } from "bun:test";
import { deleteClaims } from "../../../lib/db/queries/gc-claims.ts";
import { acquireGcLock, releaseGcLock } from "../../../lib/gc/lock.ts";
import { runGc } from "../../../lib/gc/run.ts";
import { sha256Digest } from "../../../lib/oci/digest.ts";
import { statBlob } from "../../../lib/registry/blobs.ts";
import { openRegistry } from "../../../lib/registry/registry.ts";
import { appendUpload, completeUpload, startUpload, uploadBlob } from "../../../lib/registry/uploads.ts";
import { S3BlobStore, type S3StoreOptions } from "../../../lib/storage/s3-store.ts";
import { freshBucket, rgwUnavailable } from "../../support/ceph-rgw.ts";
import { collecting, pendingAfter } from "../../support/gc-fixtures.ts";
import { tempDir } from "../../support/temp.ts";

const unavailable = rgwUnavailable();
const enc = new TextEncoder();
const HOUR = 3_600_000;

/** The object's bytes as text, read from the bucket itself. */
async function objectText(options: S3StoreOptions, digest: string): Promise<string | null> {
  const store = new S3BlobStore(options);
  return (await store.stat(digest)) ? store.client.file(store.keys.blob(digest)).text() : null;
}

async function uploadKeys(options: S3StoreOptions): Promise<string[]> {
  const store = new S3BlobStore(options);
  return ((await store.client.list({ prefix: store.keys.uploads })).contents ?? []).map((o) => o.key);
}

describe.skipIf(unavailable !== null)("writers and GC claims on S3", () => {
  // Both ways a small blob reaches its key: copied from the upload's tail (PATCH, then an empty PUT),
  // or written from the bytes the process holds (a PUT carrying them).
  for (const way of ["PATCH, then an empty PUT", "a PUT carrying the bytes"] as const) {
    test(`an upload finishing while GC removes the same digest waits, then puts its own bytes back (${way})`, async () => {
      const options = await freshBucket("c/");
      const reg = await openRegistry(tempDir(), { s3: options });
      const content = "shared layer bytes";
      const digest = sha256Digest(content);
      await uploadBlob(reg, "old", digest, [enc.encode(content)]);
      const { runId } = await acquireGcLock(reg, "test", {});
      await collecting(reg, digest, runId);

      const session = await startUpload(reg, "app");
      let finishing: Promise<{ digest: string; size: number }>;
      if (way === "a PUT carrying the bytes") finishing = completeUpload(reg, "app", session.id, digest, [enc.encode(content)]);
      else {
        await appendUpload(reg, "app", session.id, [enc.encode(content)]);
        finishing = completeUpload(reg, "app", session.id, digest);
      }
      expect(await pendingAfter(finishing, 150)).toBe(true);

      // GC deletes the object, then releases its claim.
      expect(await reg.store.delete(digest)).toBe(true);
      expect(await objectText(options, digest)).toBeNull();
      await deleteClaims(reg.db, [digest]);
      await releaseGcLock(reg, runId);
      expect(await finishing).toEqual({ digest, size: content.length });

      expect(await objectText(options, digest)).toBe(content);
      expect(await statBlob(reg, "app", digest)).toEqual({ size: content.length });
      expect(await uploadKeys(options)).toEqual([]);
      await reg.close();
    }, 60_000);
  }

  test("a claim left by a GC that died is cleared, and a missing object restored", async () => {
    const options = await freshBucket("d/");
    const reg = await openRegistry(tempDir(), { s3: options });
    const content = "orphaned claim";
    const digest = sha256Digest(content);
    await uploadBlob(reg, "old", digest, [enc.encode(content)]);
    await collecting(reg, digest, 4242);
    await reg.store.delete(digest);

    const session = await startUpload(reg, "app");
    await appendUpload(reg, "app", session.id, [enc.encode(content)]);
    expect(await completeUpload(reg, "app", session.id, digest)).toEqual({ digest, size: content.length });
    expect(await objectText(options, digest)).toBe(content);
    expect(await reg.db.selectFrom("gc_claims").selectAll().execute()).toEqual([]);
    await reg.close();
  }, 60_000);

  test("the real GC collecting a blob while another instance commits an upload of it: the blob always ends present", async () => {
    const options = await freshBucket("r/");
    const dataDir = tempDir();
    const writer = await openRegistry(dataDir, { s3: options });
    const collector = await openRegistry(dataDir, { s3: options });
    const now = writer.now;
    let collected = 0;
    try {
      for (let i = 0; i < 16; i++) {
        const content = `layer ${i} ${crypto.randomUUID()}`.repeat(1 + (i % 4) * 1000);
        const digest = sha256Digest(content);
        // Pushed three hours ago and referenced by nothing: garbage for a GC with the default grace.
        writer.now = () => now() - 3 * HOUR;
        await uploadBlob(writer, "old", digest, [enc.encode(content)]);
        writer.now = now;
        const session = await startUpload(writer, "app");
        await appendUpload(writer, "app", session.id, [enc.encode(content)]);

        const gc = runGc(collector, { actor: "test" });
        const upload = Bun.sleep((i * 7) % 40).then(() => completeUpload(writer, "app", session.id, digest));
        const [report, done] = await Promise.all([gc, upload]);
        collected += report.blobsRemoved;
        expect(done).toEqual({ digest, size: content.length });
        expect(await statBlob(writer, "app", digest)).toEqual({ size: content.length });
        expect(await objectText(options, digest)).toBe(content);
      }
      // Otherwise the race was never run: GC must have removed some before the commit put them back.
      expect(collected).toBeGreaterThan(0);
      const final = await runGc(collector, { actor: "test", graceMs: HOUR });
      expect(final.missing).toEqual([]);
    } finally {
      await writer.close();
      await collector.close();
    }
  }, 180_000);
});

if (unavailable) test.skip(unavailable, () => {});
