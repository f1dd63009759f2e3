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

/** Tokens of one kind, optionally of one user, newest first. */
export async function listTokenRows(db: Kysely<DB>, kind: TokenKind, userId?: number): Promise<(AccessToken & { user_name: string })[]> {
  let query = db
    .selectFrom("access_tokens as t")
    .innerJoin("users as u", "u.id", "t.user_id")
    .selectAll("t")
    .select("u.name as user_name")
    .where("t.kind", "=", kind)
    .orderBy("t.created_at", "desc");
  if (userId !== undefined) query = query.where("t.user_id", "=", userId);
  return query.execute();
}

/** Marks a token revoked; returns whether a live token was revoked. */
export async function revokeTokenRow(db: Kysely<DB>, id: string, now: number, kind?: TokenKind): Promise<boolean> {
  let query = db.updateTable("access_tokens").set({ revoked_at: now }).where("id", "=", id).where("revoked_at", "is", null);
  if (kind !== undefined) query = query.where("kind", "=", kind);
  const result = await query.executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Records a use of the token. */
export async function touchToken(db: Kysely<DB>, id: string, now: number): Promise<void> {
  await db.updateTable("access_tokens").set({ last_used_at: now }).where("id", "=", id).execute();
}
