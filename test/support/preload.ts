/**
 * @module Test preload: every run works in its own temporary directory,
 * so tests never read or write a developer's ./mcr-data or config.
 */
import { afterAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = mkdtempSync(join(tmpdir(), "mcr-test-"));
process.env.MCR_TEST_ROOT = root;
delete process.env.MCR_DATA_DIR;
delete process.env.MCR_LISTEN;
delete process.env.MCR_CONFIG;
delete process.env.MCR_ADMIN_PASSWORD;

afterAll(() => {
  if (!process.env.MCR_KEEP_TEST_DIR) rmSync(root, { recursive: true, force: true });
});
