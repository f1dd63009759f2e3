/**
 * @module Queries on access tokens (personal/robot tokens, sessions, refresh tokens).
 */
import type { Kysely } from "kysely";
import { prepared } from "../prepared.ts";
import type { AccessToken, DB, TokenKind } from "../schema.ts";

/** Stores a token's public id and secret hash. */
export async function insertToken(db: Kysely<DB>, row: Omit<AccessToken, "last_used_at" | "revoked_at">): Promise<void> {
  await db.insertInto("access_tokens").values({ ...row, last_used_at: null, revoked_at: null }).execute();
}

const byId = prepared((db, id: string) => db.selectFrom("access_tokens").selectAll().where("id", "=", id));

/** A token by public id. */
export async function findToken(db: Kysely<DB>, id: string): Promise<AccessToken | undefined> {
  return byId.first(db, id);
}

/** Tokens of some kinds (all when `kinds` is empty), optionally of one user, newest first. */
export async function listTokenRows(db: Kysely<DB>, kinds: readonly TokenKind[], userId?: number): Promise<(AccessToken & { user_name: string })[]> {
  let query = db
    .selectFrom("access_tokens as t")
    .innerJoin("users as u", "u.id", "t.user_id")
    .selectAll("t")
    .select("u.name as user_name")
    .orderBy("t.created_at", "desc")
    .orderBy("t.id");
  if (kinds.length > 0) query = query.where("t.kind", "in", kinds);
  if (userId !== undefined) query = query.where("t.user_id", "=", userId);
  return query.execute();
}

/** Marks a token revoked; returns the revoked row, or undefined when no live token (of `kind`) has that id. */
export async function revokeTokenRow(db: Kysely<DB>, id: string, now: number, kind?: TokenKind): Promise<{ kind: TokenKind; user_id: number } | undefined> {
  let query = db.updateTable("access_tokens").set({ revoked_at: now }).where("id", "=", id).where("revoked_at", "is", null);
  if (kind !== undefined) query = query.where("kind", "=", kind);
  return query.returning(["kind", "user_id"]).executeTakeFirst();
}

/** Revokes the live sessions and refresh tokens made from token `parentId`; returns the kinds revoked, one per row. */
export async function revokeChildTokens(db: Kysely<DB>, parentId: string, now: number): Promise<TokenKind[]> {
  const rows = await db
    .updateTable("access_tokens")
    .set({ revoked_at: now })
    .where("parent_id", "=", parentId)
    .where("revoked_at", "is", null)
    .returning("kind")
    .execute();
  return rows.map((r) => r.kind);
}

/**
 * Revokes the live tokens of `kinds` that account `userId` holds (only those
 * made without a parent token when `parentless`); returns the kinds revoked, one per row.
 */
export async function revokeUserTokens(db: Kysely<DB>, userId: number, kinds: readonly TokenKind[], parentless: boolean, now: number): Promise<TokenKind[]> {
  let query = db
    .updateTable("access_tokens")
    .set({ revoked_at: now })
    .where("user_id", "=", userId)
    .where("kind", "in", kinds)
    .where("revoked_at", "is", null);
  if (parentless) query = query.where("parent_id", "is", null);
  const rows = await query.returning("kind").execute();
  return rows.map((r) => r.kind);
}

/** Every row of one kind an account holds, live or ended, oldest first: what the per-account bound counts. */
export async function userTokenRows(db: Kysely<DB>, userId: number, kind: TokenKind): Promise<Pick<AccessToken, "id" | "revoked_at" | "expires_at">[]> {
  return db
    .selectFrom("access_tokens")
    .select(["id", "revoked_at", "expires_at"])
    .where("user_id", "=", userId)
    .where("kind", "=", kind)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
}

/** Deletes tokens by id (their children go with them); returns how many went. */
export async function deleteTokenRows(db: Kysely<DB>, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await db.deleteFrom("access_tokens").where("id", "in", ids).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Deletes up to `limit` tokens of `kinds` that were revoked or expired before `before`; returns how many went. */
export async function deleteEndedTokens(db: Kysely<DB>, kinds: readonly TokenKind[], before: number, limit: number): Promise<number> {
  const result = await db
    .deleteFrom("access_tokens")
    .where("id", "in", (eb) =>
      eb
        .selectFrom("access_tokens")
        .select("id")
        .where("kind", "in", kinds)
        .where((w) => w.or([w("revoked_at", "<", before), w("expires_at", "<", before)]))
        .limit(limit),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Records a use of the token. */
export async function touchToken(db: Kysely<DB>, id: string, now: number): Promise<void> {
  await db.updateTable("access_tokens").set({ last_used_at: now }).where("id", "=", id).execute();
}
