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

  await db.schema
    .createTable("login_pairs")
    .addColumn("account", "text", (c) => c.notNull())
    .addColumn("client", "text", (c) => c.notNull())
    .addColumn("failures", "integer", (c) => c.notNull())
    .addColumn("last_failure", "integer", (c) => c.notNull())
    .addColumn("wrong_json", "text", (c) => c.notNull())
    .addColumn("last_success", "integer", (c) => c.notNull())
    .addPrimaryKeyConstraint("login_pairs_pk", ["account", "client"])
    .execute();
  await db.schema.createIndex("login_pairs_last_failure").on("login_pairs").column("last_failure").execute();
  await db.schema
    .createTable("login_counters")
    .addColumn("scope", "text", (c) => c.notNull())
    .addColumn("key", "text", (c) => c.notNull())
    .addColumn("failures", "integer", (c) => c.notNull())
    .addColumn("last_failure", "integer", (c) => c.notNull())
    .addPrimaryKeyConstraint("login_counters_pk", ["scope", "key"])
    .execute();
  await db.schema.createIndex("login_counters_last_failure").on("login_counters").column("last_failure").execute();
}
