/**
 * @module File operations for backup and restore of a data directory:
 * hard-linking or copying immutable blob files, hashing files, and
 * writing small files durably. Only fs-* modules know blobs are files.
 */
import { copyFileSync, existsSync, linkSync, mkdirSync, openSync, closeSync, fsyncSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** How a file reached its destination. */
export type Placement = "linked" | "copied";

/**
 * Puts `src` at `dst`: a hard link when `link` is asked and the two are on
 * one file system (blob files are never modified in place, so sharing the
 * inode is safe), a copy otherwise. Copies are fsynced.
 */
export function placeFile(src: string, dst: string, link: boolean): Placement {
  mkdirSync(dirname(dst), { recursive: true, mode: 0o700 });
  if (link) {
    try {
      linkSync(src, dst);
      return "linked";
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Another file system, or one without hard links: fall back to a copy.
      if (code !== "EXDEV" && code !== "EPERM" && code !== "ENOTSUP" && code !== "EMLINK") throw error;
    }
  }
  copyFileSync(src, dst);
  syncFile(dst);
  return "copied";
}

/** `sha256:<hex>` of a file's bytes, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(path).stream()) hasher.update(chunk);
  return `sha256:${hasher.digest("hex")}`;
}

/** Writes `text` to `path` through a temporary file and a rename, fsynced, mode 0600. */
export function writeFileDurably(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o600 });
  syncFile(tmp);
  renameSync(tmp, path);
  syncFile(dirname(path));
}

/** Flushes a file (or directory) to disk. */
export function syncFile(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Whether `path` does not exist or is an empty directory. */
export function isAbsentOrEmptyDir(path: string): boolean {
  if (!existsSync(path)) return true;
  try {
    return readdirSync(path).length === 0;
  } catch {
    return false;
  }
}
