/**
 * @module Queries behind the web UI's views that the management queries do
 * not already answer: when manifests were last pulled, tags without
 * content (to sort before describing a page), and how many stored bytes
 * arrived each day.
 */
import { sql, type Kysely } from "kysely";
import type { DB } from "../schema.ts";

/** When each manifest of a repository was last pulled (GET or HEAD, as recorded in batches), by digest; never-pulled ones are absent. */
export async function manifestLastPulls(db: Kysely<DB>, repositoryId: number): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom("manifests as m")
    .innerJoin("manifest_pulls as p", "p.manifest_id", "m.id")
    .select(["m.digest", "p.pulled_at"])
    .where("m.repository_id", "=", repositoryId)
    .execute();
  return new Map(rows.map((r) => [r.digest, r.pulled_at]));
}

/** When manifest `manifestId` was last pulled, or null. */
export async function manifestPulledAt(db: Kysely<DB>, manifestId: number): Promise<number | null> {
  const row = await db.selectFrom("manifest_pulls").select("pulled_at").where("manifest_id", "=", manifestId).executeTakeFirst();
  return row?.pulled_at ?? null;
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

/** A tag without its manifest's content: what sorting and filtering a repository's tags need. */
export interface TagRow {
  name: string;
  manifest_id: number;
  updated_at: number;
}

/** Every tag of a repository, unordered. */
export async function tagRows(db: Kysely<DB>, repositoryId: number): Promise<TagRow[]> {
  return db.selectFrom("tags").select(["name", "manifest_id", "updated_at"]).where("repository_id", "=", repositoryId).execute();
}

/** Tags `names` (at most 500) of a repository with their manifests' content, in the order of `names`. */
export async function tagsWithContent(db: Kysely<DB>, repositoryId: number, names: readonly string[]) {
  if (names.length === 0) return [];
  const rows = await db
    .selectFrom("tags as t")
    .innerJoin("manifests as m", "m.id", "t.manifest_id")
    .select(["t.name", "t.manifest_id", "t.updated_at", "m.content"])
    .where("t.repository_id", "=", repositoryId)
    .where("t.name", "in", names)
    .execute();
  const byName = new Map(rows.map((r) => [r.name, r]));
  return names.map((n) => byName.get(n)).filter((r) => r !== undefined);
}

