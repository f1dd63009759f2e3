/**
 * @module A small file system of its own (tmpfs), for tests of what
 * happens when the disk fills up. Mounting needs root; without it the
 * tests that need one are skipped with a warning, or fail when CI is set.
 */
import { test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./temp.ts";

/** A mounted tmpfs of a fixed size. */
export interface SmallDisk {
  path: string;
  /** Bytes free right now. */
  free(): number;
  unmount(): Promise<void>;
}

/** Mounts a tmpfs of `bytes` bytes, or returns null after registering why the caller's tests cannot run. */
export async function smallDisk(bytes: number, testFile: string): Promise<SmallDisk | null> {
  const path = join(tempDir("disk-"), "mnt");
  mkdirSync(path);
  const mount = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", `size=${bytes},mode=0700`, "tmpfs", path], { stderr: "pipe" });
  if (mount.exitCode !== 0) {
    const why = `cannot mount a tmpfs (needs root): ${mount.stderr.toString().trim()}`;
    if (process.env.CI) {
      test(`a small tmpfs can be mounted (required when CI is set)`, () => {
        throw new Error(`${why}; CI must run ${testFile}`);
      });
    } else {
      console.warn(`skipping ${testFile}: ${why}`);
    }
    return null;
  }
  return {
    path,
    free() {
      const out = Bun.spawnSync(["df", "--output=avail", "-B1", path]).stdout.toString().trim().split("\n");
      return Number(out[out.length - 1]);
    },
    async unmount() {
      Bun.spawnSync(["umount", "-l", path]);
    },
  };
}
