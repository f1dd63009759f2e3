/**
 * @module `backup.json`, the manifest a backup ends with: what was copied,
 * with checksums, so a restore can refuse an incomplete or altered backup.
 * A backup directory is laid out like a data directory, so it can also be
 * served as it is (`mcr serve --data BACKUP`, on a copy).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fail } from "../errors.ts";

/** The manifest's format name and version. */
export const BACKUP_FORMAT = "mcr-backup/1";
/** Its file name inside the backup directory; written last. */
export const BACKUP_MANIFEST = "backup.json";

/** What `backup.json` holds. */
export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  createdAt: string;
  /** Version of the mcr that wrote it. */
  mcrVersion: string;
  schemaVersion: number;
  /** The data directory it was taken from. */
  source: string;
  database: { file: string; size: number; sha256: string };
  signingKey: { file: string; sha256: string } | null;
  /** Every blob the database snapshot records and the backup holds. */
  blobs: { digest: string; size: number }[];
  /** Blobs the snapshot recorded whose files were gone when copied (deleted meanwhile, or lost before). */
  missing: string[];
}

/** Reads and checks the manifest of the backup in `dir`; throws INVALID_ARGUMENT when there is none or it is not one. */
export function readBackupManifest(dir: string): BackupManifest {
  let text: string;
  try {
    text = readFileSync(join(dir, BACKUP_MANIFEST), "utf8");
  } catch {
    fail("INVALID_ARGUMENT", `${dir} holds no ${BACKUP_MANIFEST}: not a complete mcr backup`);
  }
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(text) as BackupManifest;
  } catch {
    fail("INVALID_ARGUMENT", `${join(dir, BACKUP_MANIFEST)} is not valid JSON`);
  }
  if (manifest.format !== BACKUP_FORMAT || !Array.isArray(manifest.blobs) || typeof manifest.database?.sha256 !== "string") {
    fail("INVALID_ARGUMENT", `${join(dir, BACKUP_MANIFEST)} is not an ${BACKUP_FORMAT} manifest`);
  }
  return manifest;
}
