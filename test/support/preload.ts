/**
 * @module Test preload: every run works in its own temporary directory,
 * so tests never read or write a developer's ./mcr-data or config.
 *
 * (Not the test timeout: Bun 1.4.5 ignores bunfig's [test] timeout, and a
 * setDefaultTimeout here applies to the first test file only. `npm test`
 * passes --timeout; slow files also call setDefaultTimeout themselves.)
 */
import { afterAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stopPostgres } from "./postgres.ts";

const root = mkdtempSync(join(tmpdir(), "mcr-test-"));
process.env.MCR_TEST_ROOT = root;
delete process.env.MCR_DATA_DIR;
delete process.env.MCR_LISTEN;
delete process.env.MCR_CONFIG;
delete process.env.MCR_ADMIN_PASSWORD;
delete process.env.MCR_SERVER;
delete process.env.MCR_TOKEN;
// Never a developer's database (tests that want PostgreSQL start their own: test/support/postgres.ts).
delete process.env.MCR_DATABASE;
delete process.env.MCR_DATABASE_PASSWORD_FILE;
delete process.env.PGPASSWORD;
// `mcr login` saves tokens under XDG_CONFIG_HOME: never the developer's.
process.env.XDG_CONFIG_HOME = join(root, "config-home");

afterAll(() => {
  stopPostgres();
  if (!process.env.MCR_KEEP_TEST_DIR) rmSync(root, { recursive: true, force: true });
  // Hundreds of MiB of uploads and container storage: more than 5 s on a busy disk.
}, 120_000);
