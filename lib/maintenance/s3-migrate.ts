/**
 * @module `mcr storage migrate --to s3`: copies the blobs of a file-system
 * store into an S3 bucket so that the operator can then switch the
 * configuration. Each blob is sent to a staging key, streamed back and
 * hashed there, and only when that SHA-256 is its digest copied (server
 * side) to its blob key: a blob key in the bucket only ever holds
 * verified bytes, as when mcr itself commits an upload. A re-run is
 * therefore resumable and safe: a blob whose key already exists with its
 * size is skipped without reading it again; a crash mid-blob leaves at
 * most a staging key, overwritten by the next run and removed at its end.
 * The database is not touched (it stays in the data directory); uploads
 * in progress are not copied (clients start them again).
 */
import { fail } from "../errors.ts";
import { sha256OfBlob } from "../oci/digest.ts";
import type { BlobStore } from "../storage/blob-store.ts";
import type { S3BlobStore } from "../storage/s3-store.ts";

/** What happened to one blob. */
export interface MigratedBlob {
  digest: string;
  size: number;
  outcome: "copied" | "present" | "corrupt" | "failed";
  /** For corrupt: the SHA-256 the bytes read back from the bucket have; for failed: why. */
  detail?: string;
}

/** What a migration did: counts, bytes and every blob's outcome. */
export interface MigrateReport {
  blobs: number;
  copied: number;
  present: number;
  corrupt: number;
  failed: number;
  bytesCopied: number;
  seconds: number;
  items: MigratedBlob[];
}

/** How a migration runs. */
export interface MigrateOptions {
  /** Blobs sent at once (default 4): small blobs are bound by round trips, not bandwidth. */
  concurrency?: number;
}

/** The staging key of a blob being migrated, under the store's prefix. */
export function stagingKey(target: S3BlobStore, digest: string): string {
  return `${target.keys.prefix}migrate/${digest.slice("sha256:".length)}`;
}

/** Migrates one blob: staged, verified from the bucket, then copied to its key. */
async function migrateBlob(source: BlobStore, target: S3BlobStore, digest: string, size: number): Promise<MigratedBlob> {
  const key = target.keys.blob(digest);
  // Only verified bytes ever reach a blob key, so one there with the right size is done.
  if ((await target.stat(digest))?.size === size) return { digest, size, outcome: "present" };
  const bytes = await source.open(digest);
  if (!bytes) return { digest, size, outcome: "failed", detail: "the blob's file vanished (deleted by GC meanwhile?)" };
  const staging = stagingKey(target, digest);
  await target.client.write(staging, bytes);
  // Read back from the bucket, streamed.
  const back = await sha256OfBlob(target.client.file(staging));
  if (back.digest !== digest || back.size !== size) {
    await target.client.delete(staging);
    return { digest, size, outcome: "corrupt", detail: `the bytes sent hash to ${back.digest} (${back.size} bytes); run mcr fsck on the file-system store` };
  }
  await target.copyKey(staging, key, size);
  await target.client.delete(staging);
  return { digest, size, outcome: "copied" };
}

/**
 * Copies every blob of `source` (a file-system store) into `target`,
 * verified, skipping those already there. Errors of one blob are reported
 * for it and the rest go on; the caller re-runs to retry them.
 */
export async function migrateBlobs(source: BlobStore, target: S3BlobStore, options: MigrateOptions = {}): Promise<MigrateReport> {
  const started = performance.now();
  await target.probe().catch((error: Error) => fail("UNAVAILABLE", `cannot write to the bucket ${target.options.bucket}: ${error.message}`));
  const report: MigrateReport = { blobs: 0, copied: 0, present: 0, corrupt: 0, failed: 0, bytesCopied: 0, seconds: 0, items: [] };
  const listing = source.list()[Symbol.asyncIterator]();
  const worker = async () => {
    for (;;) {
      const next = await listing.next();
      if (next.done) return;
      const { digest, size } = next.value;
      const item = await migrateBlob(source, target, digest, size).catch(
        (error: Error): MigratedBlob => ({ digest, size, outcome: "failed", detail: error.message }),
      );
      report.blobs++;
      report[item.outcome]++;
      if (item.outcome === "copied") report.bytesCopied += size;
      report.items.push(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
  report.items.sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
  report.seconds = (performance.now() - started) / 1000;
  return report;
}
