/**
 * @module Killing `mcr serve` while it starts: the moments a first start
 * creates the database, runs migrations, creates the admin account and
 * writes the signing key, which a crash must never leave half done.
 */
import { join } from "node:path";
import { TEST_ADMIN } from "../support/credentials.ts";

const ROOT = join(import.meta.dir, "..", "..");

/** Starts `mcr serve` on `dataDir` and SIGKILLs it `afterMs` later, whether or not it got as far as listening. */
export async function killDuringStartup(dataDir: string, afterMs: number): Promise<void> {
  const proc = Bun.spawn([process.execPath, join(ROOT, "cli", "main.ts"), "serve", "--listen", "127.0.0.1:0", "--data", dataDir], {
    cwd: ROOT,
    env: { ...process.env, MCR_ADMIN_PASSWORD: TEST_ADMIN.password },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "ignore",
  });
  await Bun.sleep(afterMs);
  proc.kill("SIGKILL");
  await proc.exited;
}
