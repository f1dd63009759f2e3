/**
 * @module The limits module: defaults, checked overrides, and that the
 * registry and the HTTP API use what they are given.
 */
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
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
  test("the database waits as long as databaseBusyTimeoutMs says, then answers UNAVAILABLE", async () => {
    const dir = tempDir();
    const reg = await openRegistry(dir, { limits: { databaseBusyTimeoutMs: 300 } });
    // Another process's writer, as `mcr gc` would be: it holds the write lock for a second.
    const other = new Database(join(dir, "mcr.db"));
    other.exec("begin immediate");
    const release = setTimeout(() => other.exec("commit"), 1000);
    const started = performance.now();
    const write = sql`create table waited (x)`.execute(reg.db);
    await expect(write).rejects.toMatchObject({ code: "UNAVAILABLE" });
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(280);
    expect(waited).toBeLessThan(1000);
    clearTimeout(release);
    other.exec("commit");
    other.close();
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
