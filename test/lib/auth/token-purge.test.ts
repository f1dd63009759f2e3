/**
 * @module Purging ended access tokens: sessions and refresh tokens a day
 * after they were revoked or expired, personal tokens after 30 days (with
 * what was made from them); live rows are never touched, however old.
 */
import { describe, expect, test } from "bun:test";
import { createDerivedToken } from "../../../lib/auth/derived-tokens.ts";
import type { UserIdentity } from "../../../lib/auth/identity.ts";
import { purgeEndedTokens } from "../../../lib/auth/token-purge.ts";
import { createToken, listTokens, revokeToken } from "../../../lib/auth/tokens.ts";
import { addUser } from "../../../lib/auth/users.ts";
import { findUserByName } from "../../../lib/db/queries/users.ts";
import { openRegistry } from "../../../lib/registry/registry.ts";
import { tempDir } from "../../support/temp.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe("purgeEndedTokens", () => {
  test("deletes ended rows past their keep time, keeps live and recently ended ones", async () => {
    const reg = await openRegistry(tempDir());
    let clock = Date.parse("2026-11-01T00:00:00Z");
    reg.now = () => clock;
    await addUser(reg, { name: "alice", password: "alice-password" }, "t");
    const user = (await findUserByName(reg.db, "alice"))!;
    const viaPassword: UserIdentity = { kind: "user", userId: user.id, name: "alice", role: "user", userKind: "human", via: "password", tokenId: null, passwordVersion: 0 };
    const viaToken = (tokenId: string): UserIdentity => ({ ...viaPassword, via: "token", tokenId, passwordVersion: undefined });
    const session = (identity: UserIdentity, ttlMs = 12 * HOUR) => createDerivedToken(reg, identity, { kind: "session", label: "s", ttlMs });

    // 40 days ago: a personal token, revoked then, with a refresh token made from it.
    const oldPat = await createToken(reg, { user: "alice", label: "old" }, "t");
    const oldChild = await createDerivedToken(reg, viaToken(oldPat.id), { kind: "refresh", label: "r", ttlMs: 30 * DAY });
    await revokeToken(reg, oldPat.id, "t");
    clock += 30 * DAY;
    // 10 days ago: a live personal token (never expires), and one revoked then.
    const livePat = await createToken(reg, { user: "alice", label: "live" }, "t");
    const recentPat = await createToken(reg, { user: "alice", label: "recent" }, "t");
    await revokeToken(reg, recentPat.id, "t");
    clock += 8 * DAY;
    // 2 days ago: a session that expired an hour later, one revoked, and a live refresh token.
    const expired = await session(viaPassword, HOUR);
    const revoked = await session(viaPassword);
    await revokeToken(reg, revoked.id, "t");
    const liveRefresh = await createDerivedToken(reg, viaPassword, { kind: "refresh", label: "r", ttlMs: 30 * DAY });
    clock += 2 * DAY - 2 * HOUR;
    // 2 hours ago: a session revoked then (kept: not yet a day), and a live session from the live token.
    const justRevoked = await session(viaPassword);
    await revokeToken(reg, justRevoked.id, "t");
    clock += 2 * HOUR;
    const liveSession = await session(viaToken(livePat.id));

    expect(await purgeEndedTokens(reg)).toBe(4);
    const left = (await listTokens(reg, undefined, "all")).map((t) => t.id).sort();
    expect(left).toEqual([livePat.id, recentPat.id, liveRefresh.id, justRevoked.id, liveSession.id].sort());
    for (const gone of [oldPat.id, oldChild.id, expired.id, revoked.id]) expect(left).not.toContain(gone);
    expect(await purgeEndedTokens(reg)).toBe(0);
    await reg.close();
  });

  test("many ended rows go in several batches", async () => {
    const reg = await openRegistry(tempDir(), { limits: { maxSessionsPerAccount: 2000 } });
    let clock = Date.parse("2026-11-01T00:00:00Z");
    reg.now = () => clock;
    await addUser(reg, { name: "bob", password: "bob-password" }, "t");
    const user = (await findUserByName(reg.db, "bob"))!;
    const identity: UserIdentity = { kind: "user", userId: user.id, name: "bob", role: "user", userKind: "human", via: "password", tokenId: null, passwordVersion: 0 };
    for (let i = 0; i < 1200; i++) await createDerivedToken(reg, identity, { kind: "session", label: "s", ttlMs: HOUR });
    const live = await createDerivedToken(reg, identity, { kind: "session", label: "s", ttlMs: 30 * DAY });
    clock += 2 * DAY;
    expect(await purgeEndedTokens(reg)).toBe(1200);
    expect((await listTokens(reg, "bob", "all")).map((t) => t.id)).toEqual([live.id]);
    await reg.close();
  });
});
