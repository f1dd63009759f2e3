/**
 * @module Reads and pushes record a use (`last_seen_at`) on blobs and
 * manifests, at most once a minute: what GC's grace period measures from.
 */
import { TEST_BY } from "../../support/audit-context.ts";
import { describe, expect, test } from "bun:test";
import { sha256Digest } from "../../../lib/oci/digest.ts";
import { statBlob, TOUCH_INTERVAL_MS } from "../../../lib/registry/blobs.ts";
import { getManifest, putManifest } from "../../../lib/registry/manifests.ts";
import { openRegistry, type Registry } from "../../../lib/registry/registry.ts";
import { uploadBlob } from "../../../lib/registry/uploads.ts";
import { tempDir } from "../../support/temp.ts";

const enc = new TextEncoder();

async function lastSeen(reg: Registry, table: "blobs" | "manifests", digest: string): Promise<number> {
  const row = await reg.db.selectFrom(table).select("last_seen_at").where("digest", "=", digest).executeTakeFirstOrThrow();
  return row.last_seen_at;
}

async function withClock(): Promise<{ reg: Registry; advance(ms: number): number }> {
  const reg = await openRegistry(tempDir());
  let clock = 1_000_000_000;
  reg.now = () => clock;
  return { reg, advance: (ms) => (clock += ms) };
}

describe("last seen", () => {
  test("a blob HEAD/GET refreshes it, but not more than once per interval", async () => {
    const { reg, advance } = await withClock();
    const digest = sha256Digest("layer");
    await uploadBlob(reg, "app", digest, [enc.encode("layer")]);
    const pushed = await lastSeen(reg, "blobs", digest);
    advance(TOUCH_INTERVAL_MS / 2);
    await statBlob(reg, "app", digest);
    expect(await lastSeen(reg, "blobs", digest)).toBe(pushed);
    const later = advance(TOUCH_INTERVAL_MS);
    await statBlob(reg, "app", digest);
    expect(await lastSeen(reg, "blobs", digest)).toBe(later);
    await reg.close();
  });

  test("a blob no longer linked is unknown, and its row is not touched", async () => {
    const { reg, advance } = await withClock();
    const digest = sha256Digest("gone");
    await uploadBlob(reg, "app", digest, [enc.encode("gone")]);
    const pushed = await lastSeen(reg, "blobs", digest);
    await reg.db.deleteFrom("repository_blobs").execute();
    advance(2 * TOUCH_INTERVAL_MS);
    await expect(statBlob(reg, "app", digest)).rejects.toMatchObject({ code: "BLOB_UNKNOWN" });
    expect(await lastSeen(reg, "blobs", digest)).toBe(pushed);
    await reg.close();
  });

  test("a manifest read or pushed again refreshes it", async () => {
    const { reg, advance } = await withClock();
    const config = sha256Digest("{}");
    await uploadBlob(reg, "app", config, [enc.encode("{}")]);
    const bytes = enc.encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: config, size: 2 },
        layers: [],
      }),
    );
    const { digest } = await putManifest(reg, "app", "v1", null, bytes, TEST_BY);
    const pushed = await lastSeen(reg, "manifests", digest);
    const read = advance(2 * TOUCH_INTERVAL_MS);
    await getManifest(reg, "app", digest);
    expect(await lastSeen(reg, "manifests", digest)).toBe(read);
    expect(read).toBeGreaterThan(pushed);
    const repushed = advance(10);
    await putManifest(reg, "app", digest, null, bytes, TEST_BY);
    expect(await lastSeen(reg, "manifests", digest)).toBe(repushed);
    await reg.close();
  });
});
