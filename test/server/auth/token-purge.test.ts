/**
 * @module The server purges ended access tokens by itself, at start (then
 * hourly): a session revoked days ago goes, a live one stays.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { createDerivedToken } from "../../../lib/auth/derived-tokens.ts";
import { listTokens, revokeToken } from "../../../lib/auth/tokens.ts";
import { addUser } from "../../../lib/auth/users.ts";
import { findUserByName } from "../../../lib/db/queries/users.ts";
import { openRegistry } from "../../../lib/registry/registry.ts";
import { createLogger } from "../../../server/observability/logger.ts";
import { startServer } from "../../../server/serve.ts";
import { TEST_ADMIN } from "../../support/credentials.ts";
import { tempDir } from "../../support/temp.ts";

// Starts a server; a loaded machine needs more than 5 s.
setDefaultTimeout(60_000);

test("mcr serve purges sessions and refresh tokens that ended over a day ago when it starts", async () => {
  const dataDir = tempDir();
  const reg = await openRegistry(dataDir);
  await addUser(reg, { name: "alice", password: "alice-password" }, "t");
  const user = (await findUserByName(reg.db, "alice"))!;
  const identity = { kind: "user", userId: user.id, name: "alice", role: "user", userKind: "human", via: "password", tokenId: null, passwordVersion: 0 } as const;
  reg.now = () => Date.now() - 3 * 86_400_000;
  const old = await createDerivedToken(reg, identity, { kind: "session", label: "s", ttlMs: 3_600_000 });
  const revoked = await createDerivedToken(reg, identity, { kind: "refresh", label: "r", ttlMs: 30 * 86_400_000 });
  await revokeToken(reg, revoked.id, "t");
  reg.now = Date.now;
  const live = await createDerivedToken(reg, identity, { kind: "refresh", label: "r", ttlMs: 30 * 86_400_000 });
  await reg.close();

  const lines: string[] = [];
  const server = await startServer({ hostname: "127.0.0.1", port: 0, dataDir, adminPassword: TEST_ADMIN.password, logger: createLogger({ write: (l) => lines.push(l) }) });
  try {
    const deadline = Date.now() + 5000;
    while (!lines.some((l) => l.includes("purged")) && Date.now() < deadline) await Bun.sleep(10);
    expect(lines.some((l) => l.includes("purged 2 ended token(s)"))).toBe(true);
  } finally {
    await server.stop();
  }
  const after = await openRegistry(dataDir);
  const ids = (await listTokens(after, "alice", "all")).map((t) => t.id);
  expect(ids).toEqual([live.id]);
  expect(ids).not.toContain(old.id);
  await after.close();
});
