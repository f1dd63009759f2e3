/**
 * @module Database upkeep that GC does at the end of a run.
 */
import { sql, type Kysely } from "kysely";
import type { DB } from "../schema.ts";

/**
 * Moves the write-ahead log into the database file and empties it, so the
 * space a run freed is not held by the log. If readers keep it busy it
 * does what it can and leaves the rest to SQLite's own checkpoints.
 */
export async function checkpointLog(db: Kysely<DB>): Promise<void> {
  await sql`pragma wal_checkpoint(truncate)`.execute(db);
}
