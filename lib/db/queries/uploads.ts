/**
 * @module Queries on upload sessions.
 */
import type { Kysely } from "kysely";
import type { DB } from "../schema.ts";

/** Records a new upload session for a repository. */
export async function insertUpload(db: Kysely<DB>, id: string, repositoryId: number, now: number): Promise<void> {
  await db.insertInto("uploads").values({ id, repository_id: repositoryId, created_at: now, updated_at: now }).execute();
}

/** The session `id` if it belongs to repository `repositoryName`. */
export async function findUpload(db: Kysely<DB>, repositoryName: string, id: string) {
  return db
    .selectFrom("uploads as u")
    .innerJoin("repositories as r", "r.id", "u.repository_id")
    .select(["u.id", "u.repository_id", "u.created_at", "u.updated_at"])
    .where("u.id", "=", id)
    .where("r.name", "=", repositoryName)
    .executeTakeFirst();
}

/** Marks the session as active now. */
export async function touchUpload(db: Kysely<DB>, id: string, now: number): Promise<void> {
  await db.updateTable("uploads").set({ updated_at: now }).where("id", "=", id).execute();
}

/** Ends a session (completed or cancelled). */
export async function deleteUpload(db: Kysely<DB>, id: string): Promise<void> {
  await db.deleteFrom("uploads").where("id", "=", id).execute();
}

/** Ids of sessions idle since before `cutoff`, at most `limit`. */
export async function staleUploadIds(db: Kysely<DB>, cutoff: number, limit: number): Promise<string[]> {
  const rows = await db.selectFrom("uploads").select("id").where("updated_at", "<", cutoff).limit(limit).execute();
  return rows.map((r) => r.id);
}

/** Ids of sessions started before `cutoff`, however active, at most `limit`. */
export async function expiredUploadIds(db: Kysely<DB>, cutoff: number, limit: number): Promise<string[]> {
  const rows = await db.selectFrom("uploads").select("id").where("created_at", "<", cutoff).limit(limit).execute();
  return rows.map((r) => r.id);
}

/** How many upload sessions are open. */
export async function countUploads(db: Kysely<DB>): Promise<number> {
  const row = await db.selectFrom("uploads").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
  return Number(row.n);
}
