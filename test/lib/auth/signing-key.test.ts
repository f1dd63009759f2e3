/**
 * @module The token signing key on disk: created once with mode 0600,
 * reused by every later load, and never left half-written by a crash.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadSigningKey } from "../../../lib/auth/signing-key.ts";
import { tempDir } from "../../support/temp.ts";

describe("loadSigningKey", () => {
  test("creates the key with mode 0600, leaves no temporary file, and loads the same key again", () => {
    const dir = tempDir();
    const path = join(dir, "signing-key.pem");
    const first = loadSigningKey(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(["signing-key.pem"]);
    expect(loadSigningKey(path).kid).toBe(first.kid);
  });

  test("an empty key file, left by a crash in the middle of writing it, is replaced by a working key", () => {
    const dir = tempDir();
    const path = join(dir, "signing-key.pem");
    writeFileSync(path, "", { mode: 0o600 });
    const key = loadSigningKey(path);
    expect(statSync(path).size).toBeGreaterThan(0);
    expect(loadSigningKey(path).kid).toBe(key.kid);
    expect(readdirSync(dir)).toEqual(["signing-key.pem"]);
  });

  test("a damaged key that is not empty is an error, not silently replaced (tokens were signed with it)", () => {
    const path = join(tempDir(), "signing-key.pem");
    writeFileSync(path, "-----BEGIN PRIVATE KEY-----\nnot a key\n", { mode: 0o600 });
    expect(() => loadSigningKey(path)).toThrow();
  });

  test("processes starting together agree on one key", async () => {
    const dir = tempDir();
    const script = `import { loadSigningKey } from ${JSON.stringify(join(import.meta.dir, "../../../lib/auth/signing-key.ts"))}; console.log(loadSigningKey(${JSON.stringify(join(dir, "signing-key.pem"))}).kid);`;
    const runs = Array.from({ length: 4 }, () => Bun.spawn([process.execPath, "-e", script], { stdout: "pipe" }));
    const kids = await Promise.all(runs.map((p) => new Response(p.stdout).text()));
    expect(new Set(kids.map((k) => k.trim())).size).toBe(1);
    expect(readdirSync(dir)).toEqual(["signing-key.pem"]);
  }, 30_000);
});
