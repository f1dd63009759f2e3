/**
 * @module Upload sessions at the registry layer: the stale-session sweep
 * and cross-repository mounts.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { sha256Digest } from "../../../lib/oci/digest.ts";
import { statBlob } from "../../../lib/registry/blobs.ts";
import { mountBlob } from "../../../lib/registry/mount.ts";
import { openRegistry } from "../../../lib/registry/registry.ts";
import { appendUpload, completeUpload, startUpload, sweepStaleUploads, uploadBlob, uploadStatus } from "../../../lib/registry/uploads.ts";
import { FsLayout } from "../../../lib/storage/fs-layout.ts";
import { tempDir } from "../../support/temp.ts";

const enc = new TextEncoder();

describe("sweepStaleUploads", () => {
  test("removes sessions idle past the limit, rows and bytes, and keeps active ones", async () => {
    const dataDir = tempDir();
    const reg = await openRegistry(dataDir);
    let clock = 1_000_000;
    reg.now = () => clock;
    const old = await startUpload(reg, "app");
    await appendUpload(reg, "app", old.id, [enc.encode("abandoned")]);
    clock += 10_000;
    const fresh = await startUpload(reg, "app");
    clock += 5_000;
    expect(await sweepStaleUploads(reg, 12_000)).toBe(1);
    await expect(uploadStatus(reg, "app", old.id)).rejects.toMatchObject({ code: "BLOB_UPLOAD_UNKNOWN" });
    expect((await uploadStatus(reg, "app", fresh.id)).size).toBe(0);
    expect(readdirSync(new FsLayout(dataDir).uploadsDir)).toEqual([fresh.id]);
    await reg.close();
  });
});

describe("maxUploadSessionAgeMs", () => {
  test("a session older than the limit is refused however active, and its bytes removed", async () => {
    const dataDir = tempDir();
    const reg = await openRegistry(dataDir, { limits: { maxUploadSessionAgeMs: 60_000 } });
    let clock = 1_000_000;
    reg.now = () => clock;
    const session = await startUpload(reg, "app");
    for (let i = 0; i < 6; i++) {
      clock += 9_000;
      await appendUpload(reg, "app", session.id, [enc.encode("chunk ")]);
    }
    clock += 7_000;
    await expect(appendUpload(reg, "app", session.id, [enc.encode("late")])).rejects.toMatchObject({
      code: "BLOB_UPLOAD_UNKNOWN",
      message: expect.stringContaining("expired"),
    });
    expect(readdirSync(new FsLayout(dataDir).uploadsDir)).toEqual([]);
    await expect(uploadStatus(reg, "app", session.id)).rejects.toMatchObject({ code: "BLOB_UPLOAD_UNKNOWN" });
    await reg.close();
  });

  test("completing an expired session is refused too", async () => {
    const reg = await openRegistry(tempDir(), { limits: { maxUploadSessionAgeMs: 60_000 } });
    let clock = 1_000_000;
    reg.now = () => clock;
    const session = await startUpload(reg, "app");
    clock += 61_000;
    await expect(completeUpload(reg, "app", session.id, sha256Digest(""))).rejects.toMatchObject({ code: "BLOB_UPLOAD_UNKNOWN" });
    await reg.close();
  });

  test("the sweep removes sessions past the age limit even when they were just used", async () => {
    const dataDir = tempDir();
    const reg = await openRegistry(dataDir, { limits: { maxUploadSessionAgeMs: 60_000 } });
    let clock = 1_000_000;
    reg.now = () => clock;
    const old = await startUpload(reg, "app");
    clock += 50_000;
    const young = await startUpload(reg, "app");
    clock += 5_000;
    await appendUpload(reg, "app", old.id, [enc.encode("busy")]);
    clock += 6_000;
    expect(await sweepStaleUploads(reg, 24 * 3_600_000)).toBe(1);
    expect(readdirSync(new FsLayout(dataDir).uploadsDir)).toEqual([young.id]);
    await reg.close();
  });
});

describe("mountBlob", () => {
  test("links a blob from a repository that holds it, and only then", async () => {
    const reg = await openRegistry(tempDir());
    const digest = sha256Digest("shared layer");
    await uploadBlob(reg, "source", digest, [enc.encode("shared layer")]);
    expect(await mountBlob(reg, "target", digest, "nowhere", () => true)).toBe(false);
    expect(await mountBlob(reg, "target", digest, "source", () => false)).toBe(false);
    await expect(statBlob(reg, "target", digest)).rejects.toMatchObject({ code: "BLOB_UNKNOWN" });
    expect(await mountBlob(reg, "target", digest, "source", () => true)).toBe(true);
    expect(await statBlob(reg, "target", digest)).toEqual({ size: 12 });
    await reg.close();
  });

  test("without `from`, mounts from any readable repository holding the blob", async () => {
    const reg = await openRegistry(tempDir());
    const digest = sha256Digest("anywhere");
    await uploadBlob(reg, "private", digest, [enc.encode("anywhere")]);
    expect(await mountBlob(reg, "mine", digest, null, (name) => name !== "private")).toBe(false);
    expect(await mountBlob(reg, "mine", digest, null, () => true)).toBe(true);
    expect(await mountBlob(reg, "other", sha256Digest("absent"), null, () => true)).toBe(false);
    await reg.close();
  });
});
