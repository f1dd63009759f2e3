/**
 * @module Queries behind the web UI's views that the management queries do
 * not already answer: when each manifest of a repository was last used,
 * and how many stored bytes arrived each day.
 */
import { sql, type Kysely } from "kysely";
import type { DB } from "../schema.ts";

/** Last push, HEAD or GET of every manifest of a repository, by digest. */
export async function manifestLastSeen(db: Kysely<DB>, repositoryId: number): Promise<Map<string, number>> {
  const rows = await db.selectFrom("manifests").select(["digest", "last_seen_at"]).where("repository_id", "=", repositoryId).execute();
  return new Map(rows.map((r) => [r.digest, r.last_seen_at]));
}

/** Bytes of the blobs stored today, summed by the UTC day they were first pushed (ms of the day's start), oldest first. */
export async function blobBytesByDay(db: Kysely<DB>, since: number): Promise<{ day: number; bytes: number; blobs: number }[]> {
  // A literal, so both SQLite and PostgreSQL divide integers.
  const day = 86_400_000;
  const { rows } = await sql<{ day: number; bytes: number; blobs: number }>`
    select (created_at / ${sql.lit(day)}) * ${sql.lit(day)} as day, coalesce(sum(size), 0) as bytes, count(*) as blobs
    from blobs where created_at >= ${since}
    group by 1 order by 1`.execute(db);
  return rows.map((r) => ({ day: Number(r.day), bytes: Number(r.bytes), blobs: Number(r.blobs) }));
}

/** Bytes of the blobs stored today that were first pushed before `before`. */
export async function blobBytesBefore(db: Kysely<DB>, before: number): Promise<number> {
  const { rows } = await sql<{ bytes: number }>`select coalesce(sum(size), 0) as bytes from blobs where created_at < ${before}`.execute(db);
  return Number(rows[0]?.bytes ?? 0);
}
