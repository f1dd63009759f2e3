/**
 * @module Aggregate queries for metrics and readiness.
 */
import { sql, type Kysely } from "kysely";
import type { DB } from "../schema.ts";

/** How many blobs are recorded and their total size in bytes. */
export async function blobTotals(db: Kysely<DB>): Promise<{ count: number; bytes: number }> {
  const row = await db
    .selectFrom("blobs")
    .select((eb) => [eb.fn.countAll<number>().as("count"), eb.fn.coalesce(eb.fn.sum<number>("size"), sql<number>`0`).as("bytes")])
    .executeTakeFirstOrThrow();
  return { count: Number(row.count), bytes: Number(row.bytes) };
}

/** How many upload sessions are open. */
export async function uploadSessionCount(db: Kysely<DB>): Promise<number> {
  const row = await db.selectFrom("uploads").select((eb) => eb.fn.countAll<number>().as("count")).executeTakeFirstOrThrow();
  return Number(row.count);
}

/** A read that fails unless the database answers. */
export async function pingDatabase(db: Kysely<DB>): Promise<void> {
  await sql`select 1`.execute(db);
}
