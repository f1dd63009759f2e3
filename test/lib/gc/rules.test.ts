/**
 * @module Every garbage rule, one registry state at a time: what goes, what
 * stays, and why. Real SQLite and files; the clock is the registry's.
 */
import { TEST_BY } from "../../support/audit-context.ts";
import { describe, expect, test } from "bun:test";
import { runGc } from "../../../lib/gc/run.ts";
import type { GcOptions } from "../../../lib/gc/options.ts";
import { sha256Digest } from "../../../lib/oci/digest.ts";
import { statBlob, TOUCH_INTERVAL_MS } from "../../../lib/registry/blobs.ts";
import { deleteManifest, getManifest } from "../../../lib/registry/manifests.ts";
import type { Registry } from "../../../lib/registry/registry.ts";
import { blobState, clockedRegistry, HOUR, manifestDigests, MINUTE, pushBlob, pushImage, pushIndex } from "../../support/gc-fixtures.ts";

const gc = (reg: Registry, options: Partial<GcOptions> = {}) => runGc(reg, { actor: "test", ...options });

describe("blobs", () => {
  test("an unreferenced blob goes once idle past the grace period: row, links and file", async () => {
    const { reg, layout, advance } = await clockedRegistry();
    const blob = await pushBlob(reg, "app", "lonely layer");
    advance(30 * MINUTE);
    expect((await gc(reg)).blobsRemoved).toBe(0);
    expect(await blobState(reg, layout, blob.digest)).toEqual({ row: true, repositories: ["app"], file: true });
    advance(2 * HOUR);
    const report = await gc(reg);
    expect(report).toMatchObject({ blobsRemoved: 1, bytesFreed: blob.size, missing: [] });
    expect(await blobState(reg, layout, blob.digest)).toEqual({ row: false, repositories: [], file: false });
    await reg.close();
  });

  test("a blob a manifest references stays, however old, even with no grace at all", async () => {
    const { reg, layout, advance } = await clockedRegistry();
    const image = await pushImage(reg, "app", "v1", ["base", "top"]);
    advance(100 * 24 * HOUR);
    expect(await gc(reg, { graceMs: 0 })).toMatchObject({ blobsRemoved: 0, membershipsRemoved: 0, bytesFreed: 0 });
    for (const digest of image.blobs) expect(await blobState(reg, layout, digest)).toEqual({ row: true, repositories: ["app"], file: true });
    await reg.close();
  });

  test("a blob shared across repositories stays while one uses it; a repository that does not loses its link", async () => {
    const { reg, layout, advance } = await clockedRegistry();
    const image = await pushImage(reg, "team/a", "v1", ["shared base"]);
    const shared = image.blobs[1]!;
    await pushBlob(reg, "team/b", "shared base");
    advance(2 * HOUR);
    expect(await gc(reg)).toMatchObject({ blobsRemoved: 0, membershipsRemoved: 1 });
    expect(await blobState(reg, layout, shared)).toEqual({ row: true, repositories: ["team/a"], file: true });
    await expect(statBlob(reg, "team/b", shared)).rejects.toMatchObject({ code: "BLOB_UNKNOWN" });
    expect(await statBlob(reg, "team/a", shared)).toEqual({ size: 11 });

    await deleteManifest(reg, "team/a", image.digest, TEST_BY);
    advance(2 * HOUR);
    expect(await gc(reg)).toMatchObject({ blobsRemoved: 2, membershipsRemoved: 0 });
    expect(await blobState(reg, layout, shared)).toEqual({ row: false, repositories: [], file: false });
    await reg.close();
  });

  test("a blob used in two repositories stays until the last manifest using it is gone", async () => {
    const { reg, layout, advance } = await clockedRegistry();
    const a = await pushImage(reg, "a", "v1", ["common"]);
    const b = await pushImage(reg, "b", "v1", ["common"]);
    const common = sha256Digest("common");
    await deleteManifest(reg, "a", a.digest, TEST_BY);
    advance(2 * HOUR);
    await gc(reg);
    expect(await blobState(reg, layout, common)).toEqual({ row: true, repositories: ["b"], file: true });
    await deleteManifest(reg, "b", b.digest, TEST_BY);
    advance(2 * HOUR);
    await gc(reg);
    expect(await blobState(reg, layout, common)).toEqual({ row: false, repositories: [], file: false });
    await reg.close();
  });

  test("a HEAD within the grace period keeps an unreferenced blob (the client will reference it next)", async () => {
    const { reg, layout, advance } = await clockedRegistry();
    const blob = await pushBlob(reg, "app", "checked layer");
    advance(2 * HOUR);
    await statBlob(reg, "app", blob.digest);
    advance(50 * MINUTE);
    expect((await gc(reg)).blobsRemoved).toBe(0);
    expect(await blobState(reg, layout, blob.digest)).toEqual({ row: true, repositories: ["app"], file: true });
    advance(2 * HOUR);
    expect((await gc(reg)).blobsRemoved).toBe(1);
    await reg.close();
  });

  test("a read too soon after the last one to be recorded still protects: GC adds the touch interval", async () => {
    const { reg, layout, advance } = await clockedRegistry();
    const blob = await pushBlob(reg, "app", "read twice");
    advance(TOUCH_INTERVAL_MS - 10_000);
    await statBlob(reg, "app", blob.digest); // not written: the push was less than a touch interval ago
    advance(10 * MINUTE - 20_000); // the read was 9m40s ago, inside a 10m grace
    expect((await gc(reg, { graceMs: 10 * MINUTE })).blobsRemoved).toBe(0);
    expect((await blobState(reg, layout, blob.digest)).file).toBe(true);
    await reg.close();
  });

  test("--grace 0 keeps only what manifests reference", async () => {
    const { reg, layout, advance } = await clockedRegistry();
    const image = await pushImage(reg, "app", "v1", ["used"]);
    const unused = await pushBlob(reg, "app", "just pushed");
    advance(1);
    expect((await gc(reg, { graceMs: 0 })).blobsRemoved).toBe(1);
    expect((await blobState(reg, layout, unused.digest)).row).toBe(false);
    expect((await blobState(reg, layout, image.blobs[1]!)).row).toBe(true);
    await reg.close();
  });
});

describe("manifests (--untagged)", () => {
  test("without --untagged, untagged manifests and their blobs all stay", async () => {
    const { reg, advance } = await clockedRegistry();
    const image = await pushImage(reg, "app", "", ["untagged layer"]);
    advance(10 * 24 * HOUR);
    expect(await gc(reg)).toMatchObject({ manifestsRemoved: 0, blobsRemoved: 0 });
    expect(await manifestDigests(reg, "app")).toEqual([image.digest]);
    await reg.close();
  });

  test("a tagged index keeps its untagged children; an untagged index goes with its children and their blobs", async () => {
    const { reg, layout, advance } = await clockedRegistry();
    const amd = await pushImage(reg, "multi", "", ["amd64 layer"]);
    const arm = await pushImage(reg, "multi", "", ["arm64 layer"]);
    const index = await pushIndex(reg, "multi", "latest", [amd, arm]);
    advance(2 * HOUR);
    expect((await gc(reg, { untagged: true })).manifestsRemoved).toBe(0);
    expect(await manifestDigests(reg, "multi")).toEqual([amd.digest, arm.digest, index.digest].sort());

    await deleteManifest(reg, "multi", "latest", TEST_BY);
    const report = await gc(reg, { untagged: true });
    expect(report).toMatchObject({ manifestsRemoved: 3, blobsRemoved: 4 });
    expect(await manifestDigests(reg, "multi")).toEqual([]);
    for (const digest of [...amd.blobs, ...arm.blobs]) expect((await blobState(reg, layout, digest)).file).toBe(false);
    await reg.close();
  });

  test("a child listed by a tagged index in the same group survives while its untagged sibling index goes", async () => {
    const { reg, advance } = await clockedRegistry();
    const child = await pushImage(reg, "m", "", ["child layer"]);
    const kept = await pushIndex(reg, "m", "stable", [child]);
    const dropped = await pushIndex(reg, "m", "", [child, { ...(await pushImage(reg, "m", "", ["other"])) }]);
    advance(2 * HOUR);
    expect((await gc(reg, { untagged: true })).manifestsRemoved).toBe(2);
    expect(await manifestDigests(reg, "m")).toEqual([child.digest, kept.digest].sort());
    expect(await manifestDigests(reg, "m")).not.toContain(dropped.digest);
    await reg.close();
  });

  test("referrers: kept with a kept subject, removed with a removed one; a tagged referrer keeps its subject", async () => {
    const { reg, advance } = await clockedRegistry();
    const sig = (subject: { digest: string; size: number; mediaType: string }, n: number, tag = "") =>
      pushImage(reg, "r", tag, [`signature ${n}`], { subject, artifactType: "application/vnd.dev.cosign.artifact.sig.v1+json" });
    const tagged = await pushImage(reg, "r", "v1", ["one"]);
    const sigOfTagged = await sig(tagged, 1);
    const untagged = await pushImage(reg, "r", "", ["two"]);
    const sigOfUntagged = await sig(untagged, 2);
    const signedOnly = await pushImage(reg, "r", "", ["three"]);
    const taggedSig = await sig(signedOnly, 3, `sha256-${signedOnly.digest.slice(7)}.sig`);
    advance(2 * HOUR);
    expect((await gc(reg, { untagged: true })).manifestsRemoved).toBe(2);
    expect(await manifestDigests(reg, "r")).toEqual([tagged.digest, sigOfTagged.digest, signedOnly.digest, taggedSig.digest].sort());
    expect(await manifestDigests(reg, "r")).not.toContain(sigOfUntagged.digest);
    await reg.close();
  });

  test("untagged manifests pushed or read within the grace period stay", async () => {
    const { reg, advance } = await clockedRegistry();
    const image = await pushImage(reg, "app", "", ["fresh"]);
    advance(30 * MINUTE);
    expect((await gc(reg, { untagged: true })).manifestsRemoved).toBe(0);
    advance(2 * HOUR);
    await getManifest(reg, "app", image.digest);
    advance(30 * MINUTE);
    expect((await gc(reg, { untagged: true })).manifestsRemoved).toBe(0);
    advance(2 * HOUR);
    expect((await gc(reg, { untagged: true })).manifestsRemoved).toBe(1);
    await reg.close();
  });
});
