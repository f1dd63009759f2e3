/**
 * @module The writer's side of GC claims: a blob row is only ever written
 * while its file is stored and no live GC is removing it. A writer waits
 * for a live claim, clears a dead one, and puts back a file that vanished.
 */
import { TEST_BY } from "../../support/audit-context.ts";
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { deleteClaims } from "../../../lib/db/queries/gc-claims.ts";
import { withStoredBlobs } from "../../../lib/gc/claims.ts";
import { acquireGcLock, releaseGcLock } from "../../../lib/gc/lock.ts";
import { sha256Digest } from "../../../lib/oci/digest.ts";
import { statBlob } from "../../../lib/registry/blobs.ts";
import { EMPTY_JSON_DIGEST } from "../../../lib/registry/empty-blob.ts";
import { putManifest } from "../../../lib/registry/manifests.ts";
import { openRegistry } from "../../../lib/registry/registry.ts";
import { completeUpload, startUpload, appendUpload, uploadBlob } from "../../../lib/registry/uploads.ts";
import { FsLayout } from "../../../lib/storage/fs-layout.ts";
import { collecting, pendingAfter } from "../../support/gc-fixtures.ts";
import { tempDir } from "../../support/temp.ts";

const enc = new TextEncoder();

describe("writers and GC claims", () => {
  test("an upload finishing while GC removes the same digest waits, then puts its own bytes back", async () => {
    const dataDir = tempDir();
    const reg = await openRegistry(dataDir);
    const content = "shared layer bytes";
    const digest = sha256Digest(content);
    await uploadBlob(reg, "old", digest, [enc.encode(content)]);
    const { runId } = await acquireGcLock(reg, "test", {});
    await collecting(reg, digest, runId);

    const session = await startUpload(reg, "app");
    await appendUpload(reg, "app", session.id, [enc.encode(content)]);
    const finishing = completeUpload(reg, "app", session.id, digest);
    expect(await pendingAfter(finishing, 150)).toBe(true);

    // GC unlinks the file, then releases its claim.
    expect(await reg.store.delete(digest)).toBe(true);
    await deleteClaims(reg.db, [digest]);
    await releaseGcLock(reg, runId);
    expect(await finishing).toEqual({ digest, size: content.length });

    expect(readFileSync(new FsLayout(dataDir).blob(digest), "utf8")).toBe(content);
    expect(await statBlob(reg, "app", digest)).toEqual({ size: content.length });
    expect(readdirSync(new FsLayout(dataDir).uploadsDir)).toEqual([]);
    await reg.close();
  });

  test("a claim left by a GC that died is cleared, and a missing file restored", async () => {
    const dataDir = tempDir();
    const reg = await openRegistry(dataDir);
    const content = "orphaned claim";
    const digest = sha256Digest(content);
    await uploadBlob(reg, "old", digest, [enc.encode(content)]);
    // Run 4242 holds no lock: whoever claimed this is gone, maybe after unlinking.
    await collecting(reg, digest, 4242);
    await reg.store.delete(digest);

    const session = await startUpload(reg, "app");
    await appendUpload(reg, "app", session.id, [enc.encode(content)]);
    expect(await completeUpload(reg, "app", session.id, digest)).toEqual({ digest, size: content.length });
    expect(readFileSync(new FsLayout(dataDir).blob(digest), "utf8")).toBe(content);
    expect(await reg.db.selectFrom("gc_claims").selectAll().execute()).toEqual([]);
    await reg.close();
  });

  test("the body runs only once every file is there; restore is asked for the missing ones", async () => {
    const reg = await openRegistry(tempDir());
    const digest = sha256Digest("restored");
    await uploadBlob(reg, "app", digest, [enc.encode("restored")]);
    await reg.store.delete(digest);
    const restored: string[] = [];
    const restore = async (d: string) => {
      restored.push(d);
      await uploadBlob(reg, "app", d, [enc.encode("restored")]);
    };
    const seen = await withStoredBlobs(reg, [digest], restore, async () => (await reg.store.stat(digest))?.size);
    expect(seen).toBe(8);
    expect(restored).toEqual([digest]);
    await reg.close();
  });

  test("an artifact push naming the empty config waits for GC to finish removing it, then provides it", async () => {
    const reg = await openRegistry(tempDir());
    const artifact = (n: number) =>
      enc.encode(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          artifactType: "application/x-test",
          config: { mediaType: "application/vnd.oci.empty.v1+json", digest: EMPTY_JSON_DIGEST, size: 2 },
          layers: [{ mediaType: "application/vnd.oci.empty.v1+json", digest: EMPTY_JSON_DIGEST, size: 2 }],
          annotations: { n: String(n) },
        }),
      );
    await putManifest(reg, "art", "one", null, artifact(1), TEST_BY);
    await reg.db.deleteFrom("manifests").execute();
    const { runId } = await acquireGcLock(reg, "test", {});
    await collecting(reg, EMPTY_JSON_DIGEST, runId);
    const pushing = putManifest(reg, "art", "two", null, artifact(2), TEST_BY);
    expect(await pendingAfter(pushing, 150)).toBe(true);
    await reg.store.delete(EMPTY_JSON_DIGEST);
    await deleteClaims(reg.db, [EMPTY_JSON_DIGEST]);
    await releaseGcLock(reg, runId);
    await pushing;
    expect(await statBlob(reg, "art", EMPTY_JSON_DIGEST)).toEqual({ size: 2 });
    expect(await reg.store.stat(EMPTY_JSON_DIGEST)).toEqual({ size: 2 });
    await reg.close();
  });
});
