/**
 * @module Credentials derived from another: admin API sessions and OAuth2
 * refresh tokens, made by a login with a password or an access token.
 * None outlives its source: one made from an access token names it as
 * parent (expires no later, is revoked with it: lib/auth/tokens.ts); one
 * made from a password ends when the password changes or the account is
 * disabled. Each account holds a bounded number of each kind.
 */
import { fail } from "../errors.ts";
import { deleteTokenRows, findToken, insertToken, revokeUserTokens, userTokenRows } from "../db/queries/tokens.ts";
import { findUserById } from "../db/queries/users.ts";
import type { Registry } from "../registry/registry.ts";
import { actorOf, type UserIdentity } from "./identity.ts";
import { countKinds, newTokenSecret, tokenRowIsLive } from "./tokens.ts";

/** The kinds of derived credential. */
export type DerivedKind = "session" | "refresh";

/** A derived credential just made; `token` is shown once. */
export interface DerivedToken {
  id: string;
  token: string;
  expiresAt: number;
}

/**
 * Makes a session or refresh token for the account `identity` just proved
 * (by password or access token), living `ttlMs` or until its source ends,
 * whichever comes first. When the account already holds its limit of this
 * kind, the oldest rows go (ended ones first): a login is never refused
 * for it, since a client retrying with good credentials must get in.
 * Throws UNAUTHORIZED when the source ended while the login was checked.
 */
export async function createDerivedToken(
  reg: Registry,
  identity: UserIdentity,
  input: { kind: DerivedKind; label: string; ttlMs: number },
): Promise<DerivedToken> {
  const parentId = identity.via === "token" ? identity.tokenId : null;
  if (identity.via !== "token" && identity.via !== "password") fail("UNAUTHORIZED", `a ${input.kind} is made from a password or an access token`);
  const max = input.kind === "session" ? reg.limits.maxSessionsPerAccount : reg.limits.maxRefreshTokensPerAccount;
  const { id, secretHash, token } = newTokenSecret();
  const now = reg.now();
  // One write transaction (BEGIN IMMEDIATE): the source cannot end between the check and the insert.
  const { expiresAt, evicted } = await reg.db.transaction().execute(async (trx) => {
    const user = await findUserById(trx, identity.userId);
    if (!user || user.disabled !== 0) fail("UNAUTHORIZED", "account disabled or removed");
    let expiresAt = now + input.ttlMs;
    if (parentId !== null) {
      const parent = await findToken(trx, parentId);
      if (!tokenRowIsLive(parent, now)) fail("UNAUTHORIZED", "token revoked or expired");
      if (parent!.expires_at !== null) expiresAt = Math.min(expiresAt, parent!.expires_at);
    } else if (identity.passwordVersion !== user.password_version) {
      fail("UNAUTHORIZED", "the password changed; log in again");
    }
    await insertToken(trx, { id, user_id: user.id, kind: input.kind, label: safeLabel(input.label), secret_hash: secretHash, created_at: now, expires_at: expiresAt, parent_id: parentId });
    const rows = await userTokenRows(trx, user.id, input.kind);
    const excess = rows.length - max;
    if (excess <= 0) return { expiresAt, evicted: [] as string[] };
    // Ended rows go first; then the oldest live ones. The sort is stable, so each group stays oldest first.
    const doomed = rows
      .filter((r) => r.id !== id)
      .map((r) => ({ id: r.id, live: tokenRowIsLive(r, now) }))
      .sort((a, b) => Number(a.live) - Number(b.live))
      .slice(0, excess);
    await deleteTokenRows(trx, doomed.map((r) => r.id));
    return { expiresAt, evicted: doomed.filter((r) => r.live).map((r) => r.id) };
  });
  if (evicted.length > 0) {
    reg.audit.record({
      event: "token.revoked",
      actor: actorOf(identity),
      outcome: "success",
      detail: { user: identity.name, kind: input.kind, ids: evicted.slice(0, 20), count: evicted.length, reason: `over the limit of ${max} per account` },
    });
  }
  return { id, token, expiresAt };
}

/**
 * The label as stored: a refresh token's label carries the client's
 * `client_id`, which `mcr token list` prints, so anything but plain
 * printable ASCII (escape sequences, control characters) becomes `?`.
 */
function safeLabel(label: string): string {
  return label.slice(0, 100).replace(/[^\x20-\x7e]/g, "?");
}

/** Which derived credentials an account change ends: those made from its password, or all of them. */
export type DerivedScope = "password" | "all";

/**
 * Revokes the account's live sessions and refresh tokens: those made from
 * its password (a password change: those made from an access token live
 * and die with that token), or all of them (disabling the account).
 * Returns how many of each. Runs on `db` as given, so it joins the caller's transaction.
 */
export async function endDerivedTokens(db: Registry["db"], userId: number, scope: DerivedScope, now: number): Promise<{ sessions: number; refreshTokens: number }> {
  return countKinds(await revokeUserTokens(db, userId, ["session", "refresh"], scope === "password", now));
}
