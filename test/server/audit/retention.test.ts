/**
 * @module The server prunes the audit log by itself: at start (then
 * hourly), with the retention it was given.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { recentAuditEvents } from "../../../lib/db/queries/audit.ts";
import { openRegistry } from "../../../lib/registry/registry.ts";
import { createLogger } from "../../../server/observability/logger.ts";
import { startServer } from "../../../server/serve.ts";
import { TEST_ADMIN } from "../../support/credentials.ts";
import { tempDir } from "../../support/temp.ts";

// These tests start processes or build large fixtures; a loaded machine needs more than 5 s (bunfig.toml's timeout is not applied).
setDefaultTimeout(60_000);

test("mcr serve prunes events past retention when it starts", async () => {
  const dataDir = tempDir();
  const reg = await openRegistry(dataDir);
  const old = Date.now() - 40 * 86_400_000;
  reg.now = () => old;
  for (let i = 0; i < 5; i++) reg.audit.record({ event: "login", actor: "user:old", outcome: "success" });
  reg.now = Date.now;
  reg.audit.record({ event: "login", actor: "user:new", outcome: "success" });
  await reg.close();

  const lines: string[] = [];
  const server = await startServer({ hostname: "127.0.0.1", port: 0, dataDir, adminPassword: TEST_ADMIN.password, auditRetention: { days: 30, noiseRows: 1000 }, logger: createLogger({ write: (l) => lines.push(l) }) });
  try {
    const deadline = Date.now() + 5000;
    while (!lines.some((l) => l.includes("audit event")) && Date.now() < deadline) await Bun.sleep(10);
    expect(lines.some((l) => l.includes("pruned 5 audit event(s) past retention"))).toBe(true);
  } finally {
    await server.stop();
  }
  const after = await openRegistry(dataDir);
  expect((await recentAuditEvents(after.db, 100)).map((e) => e.actor)).not.toContain("user:old");
  expect((await recentAuditEvents(after.db, 100)).map((e) => e.actor)).toContain("user:new");
  await after.close();
});
