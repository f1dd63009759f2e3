/**
 * @module `mcr restore`: turns a backup into a data directory. Everything
 * is verified first (the manifest, the database checksum, every blob's
 * presence and size), then built in a temporary sibling directory and
 * renamed into place, so a failed restore leaves nothing half-made.
 * The target must not exist or be empty: the server is not running on it.
 */
import { existsSync, mkdirSync, renameSync, rmdirSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fail } from "../errors.ts";
import { openRegistry } from "../registry/registry.ts";
import { schemaVersion } from "../db/migrate.ts";
import { allUploadIds, deleteUploadRows } from "../db/queries/maintenance.ts";
import { isAbsentOrEmptyDir, placeFile, sha256File, syncFile } from "../storage/fs-copy.ts";
import { FsLayout } from "../storage/fs-layout.ts";
import { readBackupManifest } from "./backup-manifest.ts";

/** What a restore did. */
export interface RestoreReport {
  dataDir: string;
  blobs: number;
  bytes: number;
  linked: number;
  copied: number;
  /** The schema version of the backup, and of the data directory after migrations ran. */
  schemaVersion: { backup: number; now: number };
}

/** Restores the backup in `backupDir` into `dataDir`; `link` hard-links blobs instead of copying them. */
export async function restoreDataDir(backupDir: string, dataDir: string, options: { link?: boolean } = {}): Promise<RestoreReport> {
  const from = new FsLayout(resolve(backupDir));
  const target = resolve(dataDir);
  const manifest = readBackupManifest(from.root);
  if (!isAbsentOrEmptyDir(target)) fail("ALREADY_EXISTS", `${target} exists and is not empty; restore into a new or empty directory (stop the server and move the old one aside)`);

  // Verify before writing anything.
  if ((await sha256File(from.database).catch(() => "")) !== manifest.database.sha256) {
    fail("DIGEST_INVALID", `${from.database} does not match its checksum in backup.json: the backup is damaged`);
  }
  const problems: string[] = [];
  for (const blob of manifest.blobs) {
    const size = statSync(from.blob(blob.digest), { throwIfNoEntry: false })?.size;
    if (size !== blob.size) problems.push(`${blob.digest}: ${size === undefined ? "missing" : `${size} bytes, expected ${blob.size}`}`);
    if (problems.length >= 20) break;
  }
  if (problems.length > 0) fail("DIGEST_INVALID", `the backup is damaged; blobs missing or of the wrong size:\n  ${problems.join("\n  ")}`);
  if (manifest.signingKey && (await sha256File(from.signingKey).catch(() => "")) !== manifest.signingKey.sha256) {
    fail("DIGEST_INVALID", `${from.signingKey} does not match its checksum in backup.json`);
  }

  const staging = join(dirname(target), `.${basename(target)}.restoring-${process.pid}`);
  const to = new FsLayout(staging);
  mkdirSync(staging, { recursive: true, mode: 0o700 });
  const report: RestoreReport = { dataDir: target, blobs: 0, bytes: 0, linked: 0, copied: 0, schemaVersion: { backup: manifest.schemaVersion, now: 0 } };
  try {
    placeFile(from.database, to.database, false);
    if (manifest.signingKey) placeFile(from.signingKey, to.signingKey, false);
    for (const blob of manifest.blobs) {
      report[placeFile(from.blob(blob.digest), to.blob(blob.digest), options.link ?? false)]++;
      report.blobs++;
      report.bytes += blob.size;
    }
    // Opening runs any newer migrations; upload sessions had no bytes backed up, so they go.
    const reg = await openRegistry(staging);
    try {
      await deleteUploadRows(reg.db, await allUploadIds(reg.db));
      report.schemaVersion.now = await schemaVersion(reg.db);
    } finally {
      await reg.close();
    }
    if (existsSync(target)) rmdirSync(target);
    renameSync(staging, target);
    syncFile(dirname(target));
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  return report;
}
