/**
 * @module GC against the store: abandoned uploads, files with no row,
 * rows with no file, claims left by a run that died, and dry runs that
 * report exactly what the real run then does.
 */
import { TEST_BY } from "../../support/audit-context.ts";
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { insertClaims } from "../../../lib/db/queries/gc-claims.ts";
import { runGc } from "../../../lib/gc/run.ts";
import type { GcOptions } from "../../../lib/gc/options.ts";
import type { GcReport } from "../../../lib/gc/report.ts";
import { sha256Digest } from "../../../lib/oci/digest.ts";
import { deleteManifest } from "../../../lib/registry/manifests.ts";
import type { Registry } from "../../../lib/registry/registry.ts";
import { appendUpload, startUpload } from "../../../lib/registry/uploads.ts";
import type { FsLayout } from "../../../lib/storage/fs-layout.ts";
import { blobState, clockedRegistry, HOUR, pushBlob, pushImage, pushIndex } from "../../support/gc-fixtures.ts";

const gc = (reg: Registry, options: Partial<GcOptions> = {}) => runGc(reg, { actor: "test", ...options });

/** Writes `text` straight into the blob tree, with no row: what a crash or a hand copy leaves. */
function strayFile(layout: FsLayout, text: string, ageMs = 0): string {
  const digest = sha256Digest(text);
  const path = layout.blob(digest);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  const when = new Date(Date.now() - ageMs);
  utimesSync(path, when, when);
  return digest;
}

/** The report without what differs between two runs. */
function counts(report: GcReport) {
  const { runId: _r, dryRun: _d, startedAt: _s, finishedAt: _f, durationMs: _t, ...rest } = report;
  return rest;
}

describe("uploads", () => {
  test("sessions idle for a day go, rows and bytes, whatever the grace period; ownerless upload files too", async () => {
    const { reg, layout, advance } = await clockedRegistry();
    const idle = await startUpload(reg, "app");
    await appendUpload(reg, "app", idle.id, [new TextEncoder().encode("half a layer")]);
    advance(2 * HOUR);
    expect((await gc(reg, { graceMs: 0 })).uploadsRemoved).toBe(0);
    const ownerless = join(layout.uploadsDir, "left-by-a-crash");
    writeFileSync(ownerless, "xyz");
    const old = new Date(Date.now() - 25 * HOUR);
    utimesSync(ownerless, old, old);
    advance(23 * HOUR);
    const active = await startUpload(reg, "app");
    expect(await gc(reg)).toMatchObject({ uploadsRemoved: 2, bytesFreed: 12 + 3 });
    expect(readdirSync(layout.uploadsDir)).toEqual([active.id]);
    expect(await reg.db.selectFrom("uploads").select("id").execute()).toEqual([{ id: active.id }]);
    await reg.close();
  });
});

describe("orphans and missing files", () => {
  test("a file with no row goes once older than the grace period, and not before", async () => {
    const { reg, layout, advance } = await clockedRegistry();
    const fresh = strayFile(layout, "fresh stray");
    const old = strayFile(layout, "old stray", 3 * HOUR);
    expect(await gc(reg)).toMatchObject({ orphansRemoved: 1, bytesFreed: 9 });
    expect(existsSync(layout.blob(old))).toBe(false);
    expect(existsSync(layout.blob(fresh))).toBe(true);
    advance(1000);
    expect((await gc(reg, { graceMs: 0 })).orphansRemoved).toBe(1);
    expect(existsSync(layout.blob(fresh))).toBe(false);
    await reg.close();
  });

  test("a used row whose file is missing is reported and kept; an unused one goes, reported", async () => {
    const { reg, layout, advance } = await clockedRegistry();
    const image = await pushImage(reg, "app", "v1", ["precious"]);
    const layer = image.blobs[1]!;
    const unused = await pushBlob(reg, "app", "unused");
    await reg.store.delete(layer);
    await reg.store.delete(unused.digest);
    advance(2 * HOUR);
    const report = await gc(reg);
    expect(report.missing).toEqual([
      { digest: unused.digest, size: 6, referenced: false, repositories: ["app"], removed: true },
      { digest: layer, size: 8, referenced: true, repositories: ["app"], removed: false },
    ]);
    expect(await blobState(reg, layout, layer)).toEqual({ row: true, repositories: ["app"], file: false });
    expect((await blobState(reg, layout, unused.digest)).row).toBe(false);
    // Still corrupt, so still reported, every run.
    expect((await gc(reg)).missing.map((m) => m.digest)).toEqual([layer]);
    // Pushing the blob again puts its file back.
    await pushBlob(reg, "app", "precious");
    expect(await blobState(reg, layout, layer)).toEqual({ row: true, repositories: ["app"], file: true });
    expect((await gc(reg)).missing).toEqual([]);
    await reg.close();
  });

  test("claims left by a run that died are finished: their files go, the claims are released", async () => {
    const { reg, layout } = await clockedRegistry();
    const digest = strayFile(layout, "claimed by the dead");
    await insertClaims(reg.db, [digest], 999, reg.now());
    expect(await gc(reg)).toMatchObject({ orphansRemoved: 1, bytesFreed: 19 });
    expect(existsSync(layout.blob(digest))).toBe(false);
    expect(await reg.db.selectFrom("gc_claims").selectAll().execute()).toEqual([]);
    await reg.close();
  });
});

describe("dry run", () => {
  test("changes nothing, and reports what the real run then does", async () => {
    const { reg, layout, advance } = await clockedRegistry();
    const kept = await pushImage(reg, "app", "v1", ["base", "kept"]);
    const dropped = await pushImage(reg, "app", "", ["base", "dropped"]);
    await pushIndex(reg, "app", "", [dropped]);
    await pushBlob(reg, "other", "base");
    await pushBlob(reg, "app", "garbage");
    const gone = await pushImage(reg, "app", "old", ["deleted image"]);
    await deleteManifest(reg, "app", gone.digest, TEST_BY);
    await reg.store.delete(sha256Digest("garbage"));
    const upload = await startUpload(reg, "app");
    await appendUpload(reg, "app", upload.id, [new TextEncoder().encode("abandoned")]);
    advance(25 * HOUR);
    strayFile(layout, "stray", 2 * HOUR);

    const snapshot = async () => ({
      files: readdirSync(layout.blobsDir, { recursive: true }).sort(),
      uploads: readdirSync(layout.uploadsDir).sort(),
      rows: await reg.db.selectFrom("blobs").select("digest").orderBy("digest").execute(),
      links: await reg.db.selectFrom("repository_blobs").select(["repository_id", "digest"]).orderBy("digest").execute(),
      manifests: await reg.db.selectFrom("manifests").select("id").orderBy("id").execute(),
    });
    const before = await snapshot();
    const dry = await gc(reg, { dryRun: true, untagged: true });
    expect(await snapshot()).toEqual(before);
    expect(dry).toMatchObject({ dryRun: true, manifestsRemoved: 2, membershipsRemoved: 1, orphansRemoved: 1, uploadsRemoved: 1 });
    const real = await gc(reg, { untagged: true });
    expect(real.dryRun).toBe(false);
    expect(counts(real)).toEqual(counts(dry));
    expect((await blobState(reg, layout, kept.blobs[1]!)).file).toBe(true);
    await reg.close();
  });
});
