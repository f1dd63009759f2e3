/**
 * @module The data directory is private to the account running mcr: every
 * file it creates is mode 0600 and every directory 0700, whether the
 * server, an admin command or the library created it, and whatever the
 * umask of whoever started it.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { sha256Digest } from "../../lib/oci/digest.ts";
import { openRegistry } from "../../lib/registry/registry.ts";
import { startUpload, uploadBlob } from "../../lib/registry/uploads.ts";
import { runCli } from "../support/cli.ts";
import { startServerProcess } from "../support/server-process.ts";
import { tempDir } from "../support/temp.ts";

/** Every path under `dir` (itself included) whose mode is not private, as `path mode`. */
function tooOpen(dir: string): string[] {
  const out: string[] = [];
  const visit = (path: string) => {
    const info = statSync(path);
    const mode = info.mode & 0o777;
    if (info.isDirectory()) {
      if (mode !== 0o700) out.push(`${path} ${mode.toString(8)}`);
      for (const entry of readdirSync(path)) visit(join(path, entry));
    } else if (mode !== 0o600) {
      out.push(`${path} ${mode.toString(8)}`);
    }
  };
  visit(dir);
  return out;
}

function fileCount(dir: string): number {
  return readdirSync(dir, { recursive: true }).length;
}

describe("file modes", () => {
  test("mcr serve: database, WAL, key, blobs and uploads", async () => {
    const dataDir = join(tempDir(), "data");
    const server = await startServerProcess({ dataDir });
    const auth = { Authorization: server.authHeader };
    const blob = "private bytes";
    expect((await fetch(`${server.url}/v2/modes/app/blobs/uploads/?digest=${sha256Digest(blob)}`, { method: "POST", body: blob, headers: auth })).status).toBe(201);
    expect((await fetch(`${server.url}/v2/modes/app/blobs/uploads/`, { method: "POST", headers: auth })).status).toBe(202);
    expect(readdirSync(dataDir)).toEqual(expect.arrayContaining(["mcr.db", "mcr.db-wal", "mcr.db-shm", "signing-key.pem", "blobs", "uploads"]));
    expect(tooOpen(dataDir)).toEqual([]);
    await server.stop();
    expect(tooOpen(dataDir)).toEqual([]);
  });

  test("an admin command creating the data directory", async () => {
    const dataDir = join(tempDir(), "data");
    const r = await runCli(["user", "add", "carol", "--password-stdin", "--data", dataDir], { stdin: "carol-password-1\n" });
    expect(r.code).toBe(0);
    expect(fileCount(dataDir)).toBeGreaterThan(2);
    expect(tooOpen(dataDir)).toEqual([]);
  });

  test("the library under a permissive umask", async () => {
    const previous = process.umask(0o022);
    try {
      const dataDir = join(tempDir(), "data");
      const reg = await openRegistry(dataDir);
      await uploadBlob(reg, "modes/lib", sha256Digest("lib bytes"), [new TextEncoder().encode("lib bytes")]);
      await startUpload(reg, "modes/lib");
      expect(tooOpen(dataDir)).toEqual([]);
      await reg.close();
    } finally {
      process.umask(previous);
    }
  });
});
