/**
 * @module Migration 11: what several processes over one database must
 * share. Upload sessions keep their checkpoint (size and saved SHA-256
 * state after the last acknowledged chunk), so the next chunk continues on
 * any process, and the lease of the one request writing them (a process
 * that dies lets it lapse). Login throttling counters move here from each
 * process's memory, so their budgets hold across workers and replicas.
 * Frozen.
 */
import type { Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("uploads")
    .addColumn("hashed_size", "integer")
    .execute();
  await db.schema.alterTable("uploads").addColumn("hash_state", "text").execute();
  await db.schema.alterTable("uploads").addColumn("writer", "text").execute();
  await db.schema.alterTable("uploads").addColumn("writer_until", "integer").execute();
}
