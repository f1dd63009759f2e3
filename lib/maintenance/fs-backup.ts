/**
 * @module `mcr backup`: a consistent copy of a data directory while the
 * server runs. The database is copied with VACUUM INTO (one read
 * transaction: a snapshot), then exactly the blobs that snapshot records
 * are hard-linked (or copied) beside it, then `backup.json` is written
 * last, so a backup without it is known to be incomplete.
 */
import { existsSync, mkdirSync, rmdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fail } from "../errors.ts";
import { openReadonlyDatabase } from "../db/connection.ts";
import { schemaVersion } from "../db/migrate.ts";
import { blobRowsAfter, vacuumInto } from "../db/queries/maintenance.ts";
import type { Registry } from "../registry/registry.ts";
import { isAbsentOrEmptyDir, placeFile, sha256File, syncFile, writeFileDurably } from "../storage/fs-copy.ts";
import { FsLayout } from "../storage/fs-layout.ts";
import { FsBlobStore } from "../storage/fs-store.ts";
import { BACKUP_FORMAT, BACKUP_MANIFEST, type BackupManifest } from "./backup-manifest.ts";

/** How to back up. */
export interface BackupOptions {
  /** Hard-link blobs when the backup is on the same file system (default true); copy otherwise. */
  link?: boolean;
  /** Recorded in the manifest. */
  mcrVersion: string;
}

/** What a backup did. */
export interface BackupReport {
  dir: string;
  blobs: number;
  bytes: number;
  linked: number;
  copied: number;
  databaseBytes: number;
  /** Recorded blobs whose files were gone (deleted by GC meanwhile, or lost: run mcr fsck). */
  missing: string[];
  /** Recorded blobs whose file has another size than recorded (run mcr fsck). */
  sizeMismatches: string[];
}

const PAGE = 1000;

/** Backs up the registry's data directory into `dest`, which must not exist or be empty. */
export async function backupDataDir(reg: Registry, dest: string, options: BackupOptions): Promise<BackupReport> {
  const dir = resolve(dest);
  const source = new FsLayout(reg.dataDir);
  const target = new FsLayout(dir);
  if (resolve(reg.dataDir) === dir) fail("INVALID_ARGUMENT", "the backup directory is the data directory");
  // Blobs in a bucket are not in the data directory: a backup of it would look complete and hold no blob.
  if (!(reg.store instanceof FsBlobStore)) {
    fail("UNSUPPORTED", "mcr backup copies the data directory, but blobs are in S3 ([storage.s3]): back up the bucket with S3's own tools (versioning, replication) and the database with sqlite3 .backup", {});
  }
  if (!isAbsentOrEmptyDir(dir)) fail("ALREADY_EXISTS", `${dir} exists and is not empty; back up into a new directory`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (existsSync(target.database)) fail("ALREADY_EXISTS", `${target.database} exists`);
  // An empty directory left by a failed VACUUM INTO is removed again, so the next try can use the name.
  try {
    await vacuumInto(reg.db, target.database);
  } catch (error) {
    if (isAbsentOrEmptyDir(dir)) rmdirSync(dir);
    throw error;
  }
  syncFile(target.database);

  const report: BackupReport = { dir, blobs: 0, bytes: 0, linked: 0, copied: 0, databaseBytes: statSync(target.database).size, missing: [], sizeMismatches: [] };
  const listed: { digest: string; size: number }[] = [];
  const snapshot = openReadonlyDatabase(target.database);
  let version: number;
  try {
    version = await schemaVersion(snapshot.db);
    for (let after = ""; ; ) {
      const rows = await blobRowsAfter(snapshot.db, after, PAGE);
      for (const row of rows) {
        const from = source.blob(row.digest);
        let size: number;
        try {
          size = statSync(from).size;
        } catch {
          report.missing.push(row.digest);
          continue;
        }
        if (size !== row.size) report.sizeMismatches.push(row.digest);
        const how = placeFile(from, target.blob(row.digest), options.link ?? true);
        report[how]++;
        report.blobs++;
        report.bytes += size;
        listed.push({ digest: row.digest, size });
      }
      if (rows.length < PAGE) break;
      after = rows[rows.length - 1]!.digest;
    }
  } finally {
    await snapshot.close();
  }

  let signingKey: BackupManifest["signingKey"] = null;
  if (existsSync(source.signingKey)) {
    placeFile(source.signingKey, target.signingKey, false);
    signingKey = { file: "signing-key.pem", sha256: await sha256File(target.signingKey) };
  }
  const manifest: BackupManifest = {
    format: BACKUP_FORMAT,
    createdAt: new Date(reg.now()).toISOString(),
    mcrVersion: options.mcrVersion,
    schemaVersion: version,
    source: resolve(reg.dataDir),
    database: { file: "mcr.db", size: report.databaseBytes, sha256: await sha256File(target.database) },
    signingKey,
    blobs: listed,
    missing: report.missing,
  };
  writeFileDurably(join(dir, BACKUP_MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`);
  return report;
}
