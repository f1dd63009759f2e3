/**
 * @module Migration 5: what ties a derived credential to its source. A
 * session or refresh token made from an access token names it
 * (`parent_id`, and goes when its row goes); an account's
 * `password_version` moves on every password change, so a JWT issued from
 * a password can tell it is stale. Frozen.
 */
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table access_tokens add column parent_id text references access_tokens(id) on delete cascade`.execute(db);
  // Revoking a token revokes its children, and deleting it deletes them: both look them up by parent.
  await db.schema.createIndex("access_tokens_parent").on("access_tokens").column("parent_id").execute();
  await sql`alter table users add column password_version integer not null default 0`.execute(db);
}
