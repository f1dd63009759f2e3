/**
 * @module Migration 9: retention. The rule set (`mcr retention apply`),
 * one row per rule in file order, and when each manifest was last pulled
 * (GET or HEAD), written in batches by the server. Frozen.
 */
import type { Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("retention_rules")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("position", "integer", (c) => c.notNull())
    // JSON: the rule's fields as written (selectors, globs, flags).
    .addColumn("body", "text", (c) => c.notNull())
    .execute();
  // A table of its own rather than a column of manifests: written only in
  // batches, it never widens the rows every push and pull reads.
  await db.schema
    .createTable("manifest_pulls")
    .addColumn("manifest_id", "integer", (c) => c.primaryKey().references("manifests.id").onDelete("cascade"))
    .addColumn("pulled_at", "integer", (c) => c.notNull())
    .execute();
}
