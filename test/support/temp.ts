/**
 * @module Fresh directories under the run's temporary root (see preload.ts).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A new empty directory for one test. */
export function tempDir(prefix = "t-"): string {
  return mkdtempSync(join(process.env.MCR_TEST_ROOT ?? tmpdir(), prefix));
}
