/**
 * @module Queries on who is writing an upload session now (a lease, so one
 * request at a time in any process) and where the session stands after
 * its last acknowledged chunk (size and saved hash state). One or two
 * statements per chunk, so plain builder queries.
 */
import type { Kysely } from "kysely";
import type { DB } from "../schema.ts";

/** Makes `writer` the session's only writer until `until`, unless another holds a lease that has not lapsed; returns whether it did. */
export async function claimUploadWriter(db: Kysely<DB>, id: string, writer: string, now: number, until: number): Promise<boolean> {
  const result = await db
    .updateTable("uploads")
    .set({ writer, writer_until: until, updated_at: now })
    .where("id", "=", id)
    .where((eb) => eb.or([eb("writer", "is", null), eb("writer_until", "<", now)]))
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Takes the lease from `dead`, a writer known to have died before its lease lapsed; returns whether it still held it. */
export async function takeOverUploadWriter(db: Kysely<DB>, id: string, dead: string, writer: string, now: number, until: number): Promise<boolean> {
  const result = await db
    .updateTable("uploads")
    .set({ writer, writer_until: until, updated_at: now })
    .where("id", "=", id)
    .where("writer", "=", dead)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Who holds session `id`'s lease now (null: nobody), when the session exists. */
export async function findUploadWriter(db: Kysely<DB>, id: string): Promise<string | null | undefined> {
  return (await db.selectFrom("uploads").select("writer").where("id", "=", id).executeTakeFirst())?.writer;
}

/** Extends `writer`'s lease (and the session's activity time); returns whether it still held it. */
export async function renewUploadWriter(db: Kysely<DB>, id: string, writer: string, now: number, until: number): Promise<boolean> {
  const result = await db
    .updateTable("uploads")
    .set({ writer_until: until, updated_at: now })
    .where("id", "=", id)
    .where("writer", "=", writer)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** The session's checkpoint: bytes acknowledged and the hash state after them (both null when unknown). */
export async function findUploadCheckpoint(db: Kysely<DB>, id: string): Promise<{ hashed_size: number | null; hash_state: string | null } | undefined> {
  return db.selectFrom("uploads").select(["hashed_size", "hash_state"]).where("id", "=", id).executeTakeFirst();
}

/**
 * Ends `writer`'s lease, recording the checkpoint it leaves (null fields:
 * unknown, the next writer hashes the bytes again); returns whether it
 * still held the lease (if not, another writer took over and its
 * checkpoint stands).
 */
export async function releaseUploadWriter(
  db: Kysely<DB>,
  id: string,
  writer: string,
  checkpoint: { size: number | null; hashState: string | null },
  now: number,
): Promise<boolean> {
  const result = await db
    .updateTable("uploads")
    .set({ writer: null, writer_until: null, hashed_size: checkpoint.size, hash_state: checkpoint.hashState, updated_at: now })
    .where("id", "=", id)
    .where("writer", "=", writer)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
