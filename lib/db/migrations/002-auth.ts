/**
 * @module Migration 2: accounts, access tokens (personal, session and
 * refresh tokens share one table) and the audit event log. Frozen.
 */
import type { Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("users")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("role", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("password_hash", "text")
    .addColumn("disabled", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", "integer", (c) => c.notNull())
    .addColumn("updated_at", "integer", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("access_tokens")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("user_id", "integer", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("label", "text", (c) => c.notNull())
    .addColumn("secret_hash", "text", (c) => c.notNull())
    .addColumn("created_at", "integer", (c) => c.notNull())
    .addColumn("expires_at", "integer")
    .addColumn("last_used_at", "integer")
    .addColumn("revoked_at", "integer")
    .execute();
  await db.schema.createIndex("access_tokens_user").on("access_tokens").columns(["user_id", "kind"]).execute();

  await db.schema
    .createTable("audit_events")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("time", "integer", (c) => c.notNull())
    .addColumn("event", "text", (c) => c.notNull())
    .addColumn("actor", "text", (c) => c.notNull())
    .addColumn("source", "text")
    .addColumn("repository", "text")
    .addColumn("digest", "text")
    .addColumn("tag", "text")
    .addColumn("outcome", "text", (c) => c.notNull())
    .addColumn("detail", "text")
    .execute();
  await db.schema.createIndex("audit_events_time").on("audit_events").column("time").execute();
}
