/**
 * @module Migration 4: garbage collection. Runs and their reports, the lock
 * that lets one GC run at a time across processes, the claims GC holds on
 * digests whose files it is removing, and a last-seen time on manifests so
 * the grace period protects them as it protects blobs. Frozen.
 */
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("gc_runs")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("actor", "text", (c) => c.notNull())
    .addColumn("options", "text", (c) => c.notNull())
    .addColumn("pid", "integer", (c) => c.notNull())
    .addColumn("host", "text", (c) => c.notNull())
    .addColumn("started_at", "integer", (c) => c.notNull())
    .addColumn("finished_at", "integer")
    .addColumn("progress", "text")
    .addColumn("report", "text")
    .addColumn("error", "text")
    .execute();
  await db.schema.createIndex("gc_runs_started").on("gc_runs").column("started_at").execute();

  // At most one row: the run holding the lock. Its holder's pid, host and
  // heartbeat tell another process whether the holder is still alive.
  await db.schema
    .createTable("gc_lock")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("run_id", "integer", (c) => c.notNull())
    .addColumn("pid", "integer", (c) => c.notNull())
    .addColumn("host", "text", (c) => c.notNull())
    .addColumn("started_at", "integer", (c) => c.notNull())
    .addColumn("heartbeat_at", "integer", (c) => c.notNull())
    .execute();

  // A digest whose file GC is unlinking: no blob row may be (re)created for it meanwhile.
  await db.schema
    .createTable("gc_claims")
    .addColumn("digest", "text", (c) => c.primaryKey())
    .addColumn("run_id", "integer", (c) => c.notNull())
    .addColumn("created_at", "integer", (c) => c.notNull())
    .execute();

  await sql`alter table manifests add column last_seen_at integer not null default 0`.execute(db);
  await sql`update manifests set last_seen_at = created_at`.execute(db);
  // The blob sweep looks for blobs not seen since a cutoff.
  await db.schema.createIndex("blobs_last_seen").on("blobs").column("last_seen_at").execute();
}
