/**
 * @module File-system errors that are the environment's, not a bug: a
 * full disk or an exhausted quota becomes INSUFFICIENT_STORAGE, which
 * callers answer cleanly and clean up after.
 */
import { RegistryError } from "../errors.ts";

/** errno codes meaning there is no room for what was being written. */
const NO_SPACE = new Set(["ENOSPC", "EDQUOT", "EFBIG"]);

/** `error` as a RegistryError when it means the disk is full; otherwise `error` itself. */
export function storageError(error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code && NO_SPACE.has(code)) {
    return new RegistryError("INSUFFICIENT_STORAGE", "the registry is out of disk space; the upload was discarded", { errno: code });
  }
  return error;
}

/** Whether `error` says the file (or a directory on its path) is not there. */
export function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === "ENOENT";
}
