/**
 * @module Queries for backup, restore, fsck and GC upkeep: a consistent copy of the
 * database, and paged walks over blobs, manifests and sessions, and
 * checks for references that point nowhere.
 */
import { sql, type Kysely } from "kysely";
import type { DB } from "../schema.ts";
import { batches } from "./batch.ts";

/** Writes a consistent, compacted copy of the database to `path` (which must not exist), readers and writers carrying on meanwhile. */
export async function vacuumInto(db: Kysely<DB>, path: string): Promise<void> {
  await sql`vacuum into ${path}`.execute(db);
}

/** Blob rows after `afterDigest` in digest order, `limit` of them. */
export async function blobRowsAfter(db: Kysely<DB>, afterDigest: string, limit: number): Promise<{ digest: string; size: number }[]> {
  return db.selectFrom("blobs").select(["digest", "size"]).where("digest", ">", afterDigest).orderBy("digest").limit(limit).execute();
}

/** Which of `digests` have a blob row. */
export async function recordedDigests(db: Kysely<DB>, digests: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (const batch of batches(digests)) {
    for (const row of await db.selectFrom("blobs").select("digest").where("digest", "in", batch).execute()) found.add(row.digest);
  }
  return found;
}

/**
 * Stops every repository serving blob `digest`, whose bytes are gone, and
 * removes its row unless manifests still reference it (the reference keeps
 * the row); returns those manifests as `repository@digest`, `limit` at most.
 */
export async function forgetLostBlob(db: Kysely<DB>, digest: string, limit: number): Promise<{ rowRemoved: boolean; manifests: string[] }> {
  await db.deleteFrom("repository_blobs").where("digest", "=", digest).execute();
  const users = await db
    .selectFrom("manifest_blobs as mb")
    .innerJoin("manifests as m", "m.id", "mb.manifest_id")
    .innerJoin("repositories as r", "r.id", "m.repository_id")
    .select(["r.name", "m.digest"])
    .where("mb.digest", "=", digest)
    .orderBy("m.id")
    .limit(limit)
    .execute();
  if (users.length === 0) await db.deleteFrom("blobs").where("digest", "=", digest).execute();
  return { rowRemoved: users.length === 0, manifests: users.map((m) => `${m.name}@${m.digest}`) };
}

/** Manifests after id `afterId` with their content and repository, `limit` of them. */
export async function manifestsAfter(
  db: Kysely<DB>,
  afterId: number,
  limit: number,
): Promise<{ id: number; digest: string; size: number; content: Uint8Array; repository: string }[]> {
  return db
    .selectFrom("manifests as m")
    .innerJoin("repositories as r", "r.id", "m.repository_id")
    .select(["m.id", "m.digest", "m.size", "m.content", "r.name as repository"])
    .where("m.id", ">", afterId)
    .orderBy("m.id")
    .limit(limit)
    .execute();
}

/** A row that references something that does not exist. */
export interface DanglingReference {
  table: "manifest_blobs" | "repository_blobs" | "manifest_children" | "tags";
  /** What holds the reference (a manifest digest, repository name or tag). */
  from: string;
  /** What is missing (a blob digest or manifest id). */
  missing: string;
}

/** References to missing blobs or manifests (foreign keys prevent them; this finds them if they were ever off), at most `limit`. */
export async function danglingReferences(db: Kysely<DB>, limit: number): Promise<DanglingReference[]> {
  const rows = await sql<DanglingReference>`
    select 'manifest_blobs' as "table", m.digest as "from", mb.digest as missing
      from manifest_blobs mb join manifests m on m.id = mb.manifest_id
      where not exists (select 1 from blobs b where b.digest = mb.digest)
    union all
    select 'repository_blobs', r.name, rb.digest
      from repository_blobs rb join repositories r on r.id = rb.repository_id
      where not exists (select 1 from blobs b where b.digest = rb.digest)
    union all
    select 'manifest_children', m.digest, cast(c.child_id as text)
      from manifest_children c join manifests m on m.id = c.manifest_id
      where not exists (select 1 from manifests x where x.id = c.child_id)
    union all
    select 'tags', r.name || ':' || t.name, cast(t.manifest_id as text)
      from tags t join repositories r on r.id = t.repository_id
      where not exists (select 1 from manifests x where x.id = t.manifest_id)
    limit ${limit}`.execute(db);
  return rows.rows;
}

/** Every upload session id. */
export async function allUploadIds(db: Kysely<DB>): Promise<string[]> {
  return (await db.selectFrom("uploads").select("id").execute()).map((r) => r.id);
}

/** Removes upload session rows (their bytes are handled by the caller). */
export async function deleteUploadRows(db: Kysely<DB>, ids: readonly string[]): Promise<void> {
  for (const batch of batches(ids)) await db.deleteFrom("uploads").where("id", "in", batch).execute();
}

/**
 * Moves the write-ahead log into the database file and empties it, so the
 * space a GC run freed is not held by the log. If readers keep it busy it
 * does what it can and leaves the rest to SQLite's own checkpoints.
 */
export async function checkpointLog(db: Kysely<DB>): Promise<void> {
  await sql`pragma wal_checkpoint(truncate)`.execute(db);
}
