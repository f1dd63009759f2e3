/**
 * @module Where a fuzzed server runs, and the checks that it wrote nothing
 * where it should not: a snapshot of every file around the data directory,
 * and the data directory's own layout (lib/storage/fs-layout.ts).
 */
import { mkdirSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { tempDir } from "../support/temp.ts";

/** A sandbox: the server's working directory and data directory, side by side in one temp dir. */
export interface Sandbox {
  root: string;
  cwd: string;
  data: string;
}

/** A fresh sandbox. */
export function sandbox(): Sandbox {
  const root = tempDir("fuzz-");
  const cwd = join(root, "cwd");
  const data = join(root, "data");
  mkdirSync(cwd);
  return { root, cwd, data };
}

/** Every path under `dir` (relative, directories with a trailing slash) with its size, skipping `exclude`. */
export function snapshot(dir: string, exclude: readonly string[] = []): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (path: string) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (exclude.includes(full)) continue;
      const rel = relative(dir, full);
      if (entry.isDirectory()) {
        out.set(`${rel}/`, 0);
        walk(full);
      } else {
        out.set(rel, statSync(full, { throwIfNoEntry: false })?.size ?? -1);
      }
    }
  };
  walk(dir);
  return out;
}

/** Paths of `after` that are new or changed since `before`, and paths gone. */
export function changes(before: Map<string, number>, after: Map<string, number>): string[] {
  const out: string[] = [];
  for (const [path, size] of after) if (before.get(path) !== size) out.push(`${before.has(path) ? "changed" : "new"}: ${path}`);
  for (const path of before.keys()) if (!after.has(path)) out.push(`gone: ${path}`);
  return out;
}

const LAYOUT = [
  /^mcr\.db(-wal|-shm|-journal)?$/,
  /^signing-key\.pem$/,
  /^blobs\/$/,
  /^blobs\/sha256\/$/,
  /^blobs\/sha256\/[0-9a-f]{2}\/$/,
  /^blobs\/sha256\/[0-9a-f]{2}\/[0-9a-f]{64}$/,
  /^uploads\/$/,
  /^uploads\/[0-9a-f-]{36}$/,
];

/** Paths in the data directory that its documented layout does not allow. */
export function layoutViolations(data: string): string[] {
  return [...snapshot(data).keys()].filter((path) => !LAYOUT.some((re) => re.test(path)));
}
