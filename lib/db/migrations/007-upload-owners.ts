/**
 * @module Migration 7: who opened each upload session (`user:NAME`,
 * `robot:NAME`, or `anonymous@ADDRESS`), so open sessions are bounded per
 * account and not only in total, and indexes for counting an owner's
 * sessions and finding idle ones under pressure. Sessions opened before it
 * share the owner '' and are bounded as one. Frozen.
 */
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table uploads add column owner text not null default ''`.execute(db);
  await db.schema.createIndex("uploads_owner").on("uploads").columns(["owner", "updated_at"]).execute();
  await db.schema.createIndex("uploads_updated").on("uploads").column("updated_at").execute();
}
