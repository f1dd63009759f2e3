/**
 * @module Access tokens: `mcr_<id>_<secret>` strings shown once, stored as
 * an id and a hash. Kinds: personal/robot tokens (`mcr token`), admin API
 * sessions, OAuth2 refresh tokens. Revocation and expiry apply at once.
 */
import { fail } from "../errors.ts";
import { findToken, insertToken, listTokenRows, revokeTokenRow, touchToken } from "../db/queries/tokens.ts";
import { findUserById, findUserByName } from "../db/queries/users.ts";
import type { AccessToken, TokenKind, User } from "../db/schema.ts";
import type { Registry } from "../registry/registry.ts";
import { hashSecret, randomSecret, safeEqual } from "./secrets.ts";

const TOKEN = /^mcr_([a-f0-9]{16})_([A-Za-z0-9_-]{20,100})$/;
/** A token's last use is recorded at most this often. */
const TOUCH_INTERVAL_MS = 60_000;

/** A token as listed: never the secret or its hash. */
export interface TokenInfo {
  id: string;
  user: string;
  label: string;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/** Whether `value` has the shape of an mcr access token. */
export function isTokenString(value: string): boolean {
  return TOKEN.test(value);
}

/** Creates a token for user `userName`; the returned `token` string is shown once and never again. */
export async function createToken(
  reg: Registry,
  input: { user: string; label: string; kind?: TokenKind; expiresInMs?: number | null },
  actor: string,
): Promise<{ id: string; token: string; expiresAt: number | null }> {
  const user = await findUserByName(reg.db, input.user);
  if (!user) fail("NOT_FOUND", `no user ${input.user}`);
  const label = input.label.trim();
  if (label === "" || label.length > 100) fail("INVALID_ARGUMENT", "token label must have 1-100 characters");
  const kind = input.kind ?? "token";
  const id = Buffer.from(crypto.getRandomValues(new Uint8Array(8))).toString("hex");
  const secret = randomSecret(32);
  const now = reg.now();
  const expiresAt = input.expiresInMs ? now + input.expiresInMs : null;
  await insertToken(reg.db, { id, user_id: user.id, kind, label, secret_hash: hashSecret(secret), created_at: now, expires_at: expiresAt });
  if (kind === "token") {
    reg.audit.record({ event: "token.created", actor, outcome: "success", detail: { id, user: user.name, label, expiresAt } });
  }
  return { id, token: `mcr_${id}_${secret}`, expiresAt };
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

/** Personal/robot tokens, optionally of one user. */
export async function listTokens(reg: Registry, userName?: string): Promise<TokenInfo[]> {
  let userId: number | undefined;
  if (userName !== undefined) {
    const user = await findUserByName(reg.db, userName);
    if (!user) fail("NOT_FOUND", `no user ${userName}`);
    userId = user.id;
  }
  const rows = await listTokenRows(reg.db, "token", userId);
  return rows.map((r) => ({
    id: r.id,
    user: r.user_name,
    label: r.label,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
  }));
}

/** Revokes a token; throws NOT_FOUND when there is no live token with that id. */
export async function revokeToken(reg: Registry, id: string, actor: string, kind: TokenKind = "token"): Promise<void> {
  if (!(await revokeTokenRow(reg.db, id, reg.now(), kind))) fail("NOT_FOUND", `no live token ${id}`);
  if (kind === "token") reg.audit.record({ event: "token.revoked", actor, outcome: "success", detail: { id } });
}
