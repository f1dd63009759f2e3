/**
 * @module Test preload: every run works in its own temporary directory,
 * so tests never read or write a developer's ./mcr-data or config.
 */
import { afterAll, setDefaultTimeout } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// bunfig.toml's [test] timeout is not applied by this Bun (1.4.5): every test would get 5 s.
// End-to-end tests start servers and real clients, so give them what bunfig says.
setDefaultTimeout(120_000);

const root = mkdtempSync(join(tmpdir(), "mcr-test-"));
process.env.MCR_TEST_ROOT = root;
delete process.env.MCR_DATA_DIR;
delete process.env.MCR_LISTEN;
delete process.env.MCR_CONFIG;
delete process.env.MCR_ADMIN_PASSWORD;
delete process.env.MCR_SERVER;
delete process.env.MCR_TOKEN;
// `mcr login` saves tokens under XDG_CONFIG_HOME: never the developer's.
process.env.XDG_CONFIG_HOME = join(root, "config-home");

afterAll(() => {
  if (!process.env.MCR_KEEP_TEST_DIR) rmSync(root, { recursive: true, force: true });
});
