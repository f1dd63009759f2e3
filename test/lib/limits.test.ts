/**
 * @module The limits module: defaults, checked overrides, and that the
 * registry and the HTTP API use what they are given.
 */
import { describe, expect, test } from "bun:test";
import { sql } from "kysely";
import { DEFAULT_LIMITS, resolveLimits } from "../../lib/limits.ts";
import { openRegistry } from "../../lib/registry/registry.ts";
import { testApp } from "../support/app.ts";
import { pushImage, pushManifest } from "../support/blobs.ts";
import { tempDir } from "../support/temp.ts";

describe("resolveLimits", () => {
  test("fills every limit from the defaults", () => {
    expect(resolveLimits()).toEqual({ ...DEFAULT_LIMITS });
    expect(DEFAULT_LIMITS.maxManifestBytes).toBe(4 * 1024 * 1024);
    expect(DEFAULT_LIMITS.repositoryQuotaBytes).toBeNull();
  });

  test("takes overrides, including a quota and its removal", () => {
    expect(resolveLimits({ maxConcurrentUploads: 3, repositoryQuotaBytes: 1000 })).toMatchObject({ maxConcurrentUploads: 3, repositoryQuotaBytes: 1000 });
    expect(resolveLimits({ repositoryQuotaBytes: null }).repositoryQuotaBytes).toBeNull();
  });

  test("refuses unknown names and values that are not positive integers", () => {
    for (const bad of [{ maxHeaderBytes: 0 }, { maxHeaderBytes: -1 }, { maxHeaderBytes: 1.5 }, { maxHeaderBytes: Number.NaN }, { maxManifestBytes: null }]) {
      expect(() => resolveLimits(bad as never)).toThrow(/must be a positive integer/);
    }
    expect(() => resolveLimits({ nonsense: 1 } as never)).toThrow(/unknown limit nonsense/);
  });
});

describe("limits in use", () => {
  test("the database waits as long as databaseBusyTimeoutMs says", async () => {
    const reg = await openRegistry(tempDir(), { limits: { databaseBusyTimeoutMs: 1234 } });
    const { rows } = await sql<{ timeout: number }>`pragma busy_timeout`.execute(reg.db);
    expect(Object.values(rows[0]!)[0]).toBe(1234);
    await reg.close();
  });

  test("a manifest over maxManifestBytes answers 413 MANIFEST_INVALID, one under it is stored", async () => {
    const t = await testApp({ limits: { maxManifestBytes: 2048 } });
    const image = await pushImage(t, "limits/small", "v1");
    expect(image.bytes.byteLength).toBeLessThan(2048);
    const padded = { ...image.manifest, annotations: { pad: "x".repeat(4096) } };
    const res = await pushManifest(t, "limits/small", "v2", padded);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe("MANIFEST_INVALID");
    await t.close();
  });
});
