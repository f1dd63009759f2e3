/**
 * @module Access tokens: `mcr_<id>_<secret>` strings shown once, stored as
 * an id and a hash. Kinds: personal/robot tokens (`mcr token`), admin API
 * sessions, OAuth2 refresh tokens (made in lib/auth/derived-tokens.ts).
 * Revocation and expiry apply at once; revoking a token revokes the
 * sessions and refresh tokens made from it in the same transaction.
 */
import { fail } from "../errors.ts";
import { findToken, insertToken, listTokenRows, revokeChildTokens, revokeTokenRow, touchToken } from "../db/queries/tokens.ts";
import { findUserById, findUserByName } from "../db/queries/users.ts";
import { tokenKinds, type AccessToken, type TokenKind, type User } from "../db/schema.ts";
import type { Registry } from "../registry/registry.ts";
import { hashSecret, randomSecret, safeEqual } from "./secrets.ts";

const TOKEN = /^mcr_([a-f0-9]{16})_([A-Za-z0-9_-]{20,100})$/;
/** A token's last use is recorded at most this often. */
const TOUCH_INTERVAL_MS = 60_000;

/** A token as listed: never the secret or its hash. */
export interface TokenInfo {
  id: string;
  /** `token` (personal/robot), `session` (admin API) or `refresh` (OAuth2). */
  kind: TokenKind;
  user: string;
  label: string;
  /** For a session or refresh token made with an access token: that token. */
  parentId: string | null;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/** Whether `value` has the shape of an mcr access token. */
export function isTokenString(value: string): boolean {
  return TOKEN.test(value);
}

/** A fresh public id and secret, and the string the holder gets. */
export function newTokenSecret(): { id: string; secretHash: string; token: string } {
  const id = Buffer.from(crypto.getRandomValues(new Uint8Array(8))).toString("hex");
  const secret = randomSecret(32);
  return { id, secretHash: hashSecret(secret), token: `mcr_${id}_${secret}` };
}

/** Creates a personal/robot token for user `userName`; the returned `token` string is shown once and never again. */
export async function createToken(
  reg: Registry,
  input: { user: string; label: string; expiresInMs?: number | null },
  actor: string,
): Promise<{ id: string; token: string; expiresAt: number | null }> {
  const user = await findUserByName(reg.db, input.user);
  if (!user) fail("NOT_FOUND", `no user ${input.user}`);
  const label = input.label.trim();
  if (label === "" || label.length > 100) fail("INVALID_ARGUMENT", "token label must have 1-100 characters");
  const { id, secretHash, token } = newTokenSecret();
  const now = reg.now();
  const expiresAt = input.expiresInMs ? now + input.expiresInMs : null;
  await insertToken(reg.db, { id, user_id: user.id, kind: "token", label, secret_hash: secretHash, created_at: now, expires_at: expiresAt, parent_id: null });
  reg.audit.record({ event: "token.created", actor, outcome: "success", detail: { id, user: user.name, label, expiresAt } });
  return { id, token, expiresAt };
}

/**
 * The live account behind a token string of kind `kind`, or null when the
 * token is malformed, unknown, revoked, expired, or its account disabled.
 */
export async function resolveToken(reg: Registry, value: string, kind: TokenKind): Promise<{ user: User; tokenId: string } | null> {
  const match = TOKEN.exec(value);
  if (!match) return null;
  const [, id = "", secret = ""] = match;
  const token = await findToken(reg.db, id);
  if (!token || token.kind !== kind || !safeEqual(token.secret_hash, hashSecret(secret))) return null;
  const now = reg.now();
  if (!tokenRowIsLive(token, now)) return null;
  const user = await findUserById(reg.db, token.user_id);
  if (!user || user.disabled !== 0) return null;
  if (token.last_used_at === null || now - token.last_used_at > TOUCH_INTERVAL_MS) await touchToken(reg.db, id, now);
  return { user, tokenId: id };
}

/** Whether a token row (undefined: none) is neither revoked nor expired at `now`. */
export function tokenRowIsLive(token: Pick<AccessToken, "revoked_at" | "expires_at"> | undefined, now: number): boolean {
  return !!token && token.revoked_at === null && (token.expires_at === null || token.expires_at > now);
}

/** Which kinds a listing shows: one kind, or every kind. */
export type TokenListKind = TokenKind | "all";

/** Throws INVALID_ARGUMENT unless `value` names a kind to list. */
export function parseTokenListKind(value: string): TokenListKind {
  if (value === "all" || (tokenKinds as readonly string[]).includes(value)) return value as TokenListKind;
  fail("INVALID_ARGUMENT", `kind must be all or one of ${tokenKinds.join(", ")}`, { kind: value.slice(0, 40) });
}

/** Tokens of one kind (personal/robot by default, or all kinds), optionally of one user. */
export async function listTokens(reg: Registry, userName?: string, kind: TokenListKind = "token"): Promise<TokenInfo[]> {
  let userId: number | undefined;
  if (userName !== undefined) {
    const user = await findUserByName(reg.db, userName);
    if (!user) fail("NOT_FOUND", `no user ${userName}`);
    userId = user.id;
  }
  const rows = await listTokenRows(reg.db, kind === "all" ? [] : [kind], userId);
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    user: r.user_name,
    label: r.label,
    parentId: r.parent_id,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
  }));
}

/** What a revocation ended: the token, and the sessions and refresh tokens made from it. */
export interface Revocation {
  id: string;
  kind: TokenKind;
  /** Sessions and refresh tokens made from it that ended with it. */
  derived: { sessions: number; refreshTokens: number };
}

/**
 * Revokes a token of any kind (or only of `kind`) and, in the same
 * transaction, what was made from it; audited. Throws NOT_FOUND when
 * there is no live token with that id.
 */
export async function revokeToken(reg: Registry, id: string, actor: string, kind?: TokenKind): Promise<Revocation> {
  const now = reg.now();
  const outcome = await reg.db.transaction().execute(async (trx) => {
    const revoked = await revokeTokenRow(trx, id, now, kind);
    return revoked && { revoked, children: await revokeChildTokens(trx, id, now) };
  });
  if (!outcome) fail("NOT_FOUND", `no live token ${id}`);
  const derived = countKinds(outcome.children);
  reg.audit.record({ event: "token.revoked", actor, outcome: "success", detail: { id, kind: outcome.revoked.kind, ...derived } });
  return { id, kind: outcome.revoked.kind, derived };
}

/** Sessions and refresh tokens among revoked rows' kinds. */
export function countKinds(kinds: readonly TokenKind[]): { sessions: number; refreshTokens: number } {
  return { sessions: kinds.filter((k) => k === "session").length, refreshTokens: kinds.filter((k) => k === "refresh").length };
}
