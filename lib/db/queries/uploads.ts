/**
 * @module Queries on upload sessions.
 */
import type { Kysely } from "kysely";
import { prepared } from "../prepared.ts";
import type { DB } from "../schema.ts";
import { repositoryIdOf } from "./repositories.ts";

// A new session is known to be empty: its checkpoint says so (size 0; no state saved, none needed), so its
// first chunk need not ask the store, and a writer that died in that chunk is rolled back to nothing.
const insert = prepared((db, id: string, repositoryId: number, owner: string, now: number) =>
  db.insertInto("uploads").values({ id, repository_id: repositoryId, owner, created_at: now, updated_at: now, hashed_size: 0 }),
);

/** Records a new upload session for a repository, opened by `owner`. */
export async function insertUpload(db: Kysely<DB>, id: string, repositoryId: number, owner: string, now: number): Promise<void> {
  await insert.all(db, id, repositoryId, owner, now);
}

const counts = prepared((db, owner: string) =>
  db.selectNoFrom((eb) => [
    eb.selectFrom("uploads").select((e) => e.fn.countAll<number>().as("n")).as("total"),
    eb.selectFrom("uploads").select((e) => e.fn.countAll<number>().as("n")).where("owner", "=", owner).as("mine"),
  ]),
);

/** Upload sessions open in all, and those `owner` opened. */
export async function countSessions(db: Kysely<DB>, owner: string): Promise<{ total: number; mine: number }> {
  const row = await counts.first(db, owner);
  return { total: Number(row?.total ?? 0), mine: Number(row?.mine ?? 0) };
}

// A scalar subquery, not a join: see linkedBlob in blobs.ts.
const find = prepared((db, repositoryName: string, id: string) =>
  db
    .selectFrom("uploads")
    .select(["id", "repository_id", "created_at", "updated_at", "hashed_size"])
    .where("id", "=", id)
    .where("repository_id", "=", repositoryIdOf(db, repositoryName)),
);

/** The session `id` if it belongs to repository `repositoryName`. */
export async function findUpload(db: Kysely<DB>, repositoryName: string, id: string) {
  return find.first(db, repositoryName, id);
}

const remove = prepared((db, id: string) => db.deleteFrom("uploads").where("id", "=", id));

/** Ends a session (completed or cancelled). */
export async function deleteUpload(db: Kysely<DB>, id: string): Promise<void> {
  await remove.all(db, id);
}

/** Ids of sessions idle since before `cutoff` (only `owner`'s when given), least recently active first, at most `limit`. */
export async function staleUploadIds(db: Kysely<DB>, cutoff: number, limit: number, owner?: string): Promise<string[]> {
  let query = db.selectFrom("uploads").select("id").where("updated_at", "<", cutoff);
  if (owner !== undefined) query = query.where("owner", "=", owner);
  const rows = await query.orderBy("updated_at").limit(limit).execute();
  return rows.map((r) => r.id);
}

/** Ids of sessions started before `cutoff`, however active, at most `limit`. */
export async function expiredUploadIds(db: Kysely<DB>, cutoff: number, limit: number): Promise<string[]> {
  const rows = await db.selectFrom("uploads").select("id").where("created_at", "<", cutoff).limit(limit).execute();
  return rows.map((r) => r.id);
}

