/**
 * @module Migration 8: audit events that unauthenticated or free traffic
 * can produce in bulk (failed and throttled logins, denials, pulls) are
 * marked `noise`, so retention caps them by their own row count and never
 * lets them push pushes, deletes and account changes out. Frozen.
 */
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("audit_events").addColumn("noise", "integer", (c) => c.notNull().defaultTo(0)).execute();
  // The classes as they were when this migration was written (lib/audit/retention.ts decides for new rows).
  await sql`update audit_events set noise = 1
    where (event = 'login' and outcome <> 'success') or event in ('access.denied', 'manifest.pulled')`.execute(db);
  await db.schema.createIndex("audit_events_noise").on("audit_events").columns(["noise", "id"]).execute();
}
