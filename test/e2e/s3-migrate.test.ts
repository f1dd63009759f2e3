/**
 * @module `mcr storage migrate --to s3` on a real Ceph RADOS Gateway: a
 * registry whose images were pushed to the file-system store is migrated
 * (each blob verified from the bucket), the run is repeated (nothing sent
 * again), a blob removed from the bucket is put back by a third run, a
 * corrupt file is reported and never reaches its blob key, and after the
 * switch `mcr serve` on S3 serves every image byte-exact.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { sha256Digest } from "../../lib/oci/digest.ts";
import type { MigrateReport } from "../../lib/maintenance/s3-migrate.ts";
import { FsLayout } from "../../lib/storage/fs-layout.ts";
import { S3BlobStore, type S3StoreOptions } from "../../lib/storage/s3-store.ts";
import { freshBucket, rgwUnavailable } from "../support/ceph-rgw.ts";
import { runCli } from "../support/cli.ts";
import { pullAndVerify, pushRandomImage, type PushedImage } from "../support/http-registry.ts";
import { startServerProcess } from "../support/server-process.ts";
import { tempDir } from "../support/temp.ts";

const unavailable = rgwUnavailable();

function s3Env(o: S3StoreOptions): Record<string, string> {
  return { MCR_S3_ENDPOINT: o.endpoint, MCR_S3_PREFIX: o.prefix, MCR_S3_ACCESS_KEY_ID: o.accessKeyId, MCR_S3_SECRET_ACCESS_KEY: o.secretAccessKey };
}

async function migrate(dataDir: string, options: S3StoreOptions): Promise<{ code: number; report: MigrateReport; stderr: string }> {
  const run = await runCli(["storage", "migrate", "--to", "s3", "--bucket", options.bucket, "--data", dataDir, "--json"], { env: s3Env(options) });
  return { code: run.code, report: JSON.parse(run.stdout || "null") as MigrateReport, stderr: run.stderr };
}

describe.skipIf(unavailable !== null)("mcr storage migrate --to s3", () => {
  test("copies every blob verified, resumes, refuses a corrupt file, and mcr serve on S3 then pulls every image byte-exact", async () => {
    const dataDir = tempDir();
    const options = await freshBucket("m/");
    const fsServer = await startServerProcess({ dataDir });
    const images: PushedImage[] = [];
    let corrupt: string;
    try {
      images.push(await pushRandomImage(fsServer.url, fsServer.authHeader, "mig/app", "v1", 3, 200_000));
      images.push(await pushRandomImage(fsServer.url, fsServer.authHeader, "mig/app", "v2", 1, 9 * 1024 * 1024));
      images.push(await pushRandomImage(fsServer.url, fsServer.authHeader, "mig/other", "latest", 2, 1000));
      const lone = crypto.getRandomValues(new Uint8Array(5000));
      corrupt = sha256Digest(lone);
      const res = await fetch(`${fsServer.url}/v2/mig/lone/blobs/uploads/?digest=${corrupt}`, { method: "POST", body: lone, headers: { Authorization: fsServer.authHeader } });
      expect(res.status).toBe(201);
    } finally {
      await fsServer.stop();
    }
    const all = new Set(images.flatMap((image) => image.blobDigests));
    const file = new FsLayout(dataDir).blob(corrupt);
    const bytes = readFileSync(file);
    bytes[10]! ^= 0xff;
    writeFileSync(file, bytes);

    const first = await migrate(dataDir, options);
    expect(first.code).toBe(1);
    expect(first.report.blobs).toBe(all.size + 1);
    expect(first.report.copied).toBe(all.size);
    expect(first.report.corrupt).toBe(1);
    expect(first.report.items.find((item) => item.outcome === "corrupt")?.digest).toBe(corrupt);
    const store = new S3BlobStore(options);
    expect(await store.stat(corrupt)).toBeNull();
    expect(await store.client.list({ prefix: "m/migrate/" }).then((page) => page.contents ?? [])).toEqual([]);
    for (const digest of all) expect(await store.stat(digest)).not.toBeNull();

    // The operator fixes (here: removes) the corrupt file; a re-run sends nothing again.
    writeFileSync(file, readFileSync(file).map((b, i) => (i === 10 ? b ^ 0xff : b)));
    const second = await migrate(dataDir, options);
    expect(second.code).toBe(0);
    expect([second.report.copied, second.report.present, second.report.bytesCopied]).toEqual([1, all.size, 5000]);

    // A blob lost from the bucket (an interrupted first run) is sent by the next.
    const lost = images[1]!.blobDigests[1]!;
    await store.delete(lost);
    const third = await migrate(dataDir, options);
    expect(third.code).toBe(0);
    expect(third.report.items.filter((item) => item.outcome === "copied").map((item) => item.digest)).toEqual([lost]);
    expect(third.report.bytesCopied).toBe(9 * 1024 * 1024);

    // The switch: the same data directory (database) with [storage.s3] set.
    const s3Server = await startServerProcess({ dataDir, env: { ...s3Env(options), MCR_S3_BUCKET: options.bucket } });
    try {
      for (const image of images) expect(await pullAndVerify(s3Server.url, s3Server.authHeader, image.repository, image.tag)).toBe(image.manifestDigest);
      const blob = await fetch(`${s3Server.url}/v2/mig/lone/blobs/${corrupt}`, { headers: { Authorization: s3Server.authHeader } });
      expect(sha256Digest(new Uint8Array(await blob.arrayBuffer()))).toBe(corrupt);
    } finally {
      await s3Server.stop();
    }
  }, 180_000);

  test("without a bucket or with --to other than s3 it says what is missing and exits non-zero", async () => {
    const none = await runCli(["storage", "migrate", "--to", "s3", "--data", tempDir()], { env: { MCR_S3_BUCKET: "" } });
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain("no bucket");
    const other = await runCli(["storage", "migrate", "--to", "gcs", "--data", tempDir()]);
    expect(other.code).not.toBe(0);
    expect(other.stderr).toContain("only s3");
  }, 60_000);
});

if (unavailable) test.skip(unavailable, () => {});
