/**
 * @module Queries of the garbage collector: finding candidates page by page
 * (outside transactions), and re-checking and removing them (inside).
 */
import { sql, type Kysely } from "kysely";
import type { DB } from "../schema.ts";
import { batches } from "./batch.ts";

/** A blob row, as GC weighs it. */
export interface BlobRow {
  digest: string;
  size: number;
}

/** Blobs not seen since `cutoff`, in digest order after `after`. */
export async function idleBlobPage(db: Kysely<DB>, cutoff: number, after: string, limit: number): Promise<BlobRow[]> {
  return db
    .selectFrom("blobs")
    .select(["digest", "size"])
    .where("last_seen_at", "<", cutoff)
    .where("digest", ">", after)
    .orderBy("digest")
    .limit(limit)
    .execute();
}

/** Every blob row, in digest order after `after`. */
export async function blobPage(db: Kysely<DB>, after: string, limit: number): Promise<BlobRow[]> {
  return db.selectFrom("blobs").select(["digest", "size"]).where("digest", ">", after).orderBy("digest").limit(limit).execute();
}

/** For each of `digests`, the ids of the manifests (of any repository) that reference it. */
export async function referencingManifests(db: Kysely<DB>, digests: readonly string[]): Promise<Map<string, number[]>> {
  const found = new Map<string, number[]>();
  for (const batch of batches(digests)) {
    const rows = await db.selectFrom("manifest_blobs").select(["digest", "manifest_id"]).where("digest", "in", batch).execute();
    for (const r of rows) found.set(r.digest, [...(found.get(r.digest) ?? []), r.manifest_id]);
  }
  return found;
}

/** Which of `digests` have a blob row. */
export async function blobRowsAmong(db: Kysely<DB>, digests: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (const batch of batches(digests)) {
    const rows = await db.selectFrom("blobs").select("digest").where("digest", "in", batch).execute();
    for (const r of rows) found.add(r.digest);
  }
  return found;
}

/** Re-check inside the sweep's transaction: those of `digests` still unreferenced and not seen since `cutoff`. */
export async function stillIdleUnreferenced(db: Kysely<DB>, digests: readonly string[], cutoff: number): Promise<BlobRow[]> {
  const found: BlobRow[] = [];
  for (const batch of batches(digests)) {
    const rows = await db
      .selectFrom("blobs as b")
      .select(["b.digest", "b.size"])
      .where("b.digest", "in", batch)
      .where("b.last_seen_at", "<", cutoff)
      .where((eb) => eb.not(eb.exists(eb.selectFrom("manifest_blobs as mb").select("mb.digest").whereRef("mb.digest", "=", "b.digest"))))
      .execute();
    found.push(...rows);
  }
  return found;
}

/** Names of the repositories holding each of `digests`. */
export async function holdersOf(db: Kysely<DB>, digests: readonly string[]): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  for (const batch of batches(digests)) {
    const rows = await db
      .selectFrom("repository_blobs as rb")
      .innerJoin("repositories as r", "r.id", "rb.repository_id")
      .select(["rb.digest", "r.name"])
      .where("rb.digest", "in", batch)
      .orderBy("r.name")
      .execute();
    for (const r of rows) found.set(r.digest, [...(found.get(r.digest) ?? []), r.name]);
  }
  return found;
}

/** Removes the rows of blobs `digests` and every repository's link to them. */
export async function deleteBlobRows(db: Kysely<DB>, digests: readonly string[]): Promise<void> {
  for (const batch of batches(digests)) {
    await db.deleteFrom("repository_blobs").where("digest", "in", batch).execute();
    await db.deleteFrom("blobs").where("digest", "in", batch).execute();
  }
}

/** A repository's link to a blob, with the ids of that repository's manifests referencing the blob. */
export interface MembershipRow {
  repository_id: number;
  digest: string;
  manifest_ids: number[];
}

/** Links to blobs not seen since `cutoff`, in (repository, digest) order after `after`. */
export async function idleMembershipPage(
  db: Kysely<DB>,
  cutoff: number,
  after: { repositoryId: number; digest: string },
  limit: number,
): Promise<MembershipRow[]> {
  const rows = await sql<{ repository_id: number; digest: string; refs: string | null }>`
    select rb.repository_id, rb.digest,
           (select group_concat(m.id) from manifest_blobs mb join manifests m on m.id = mb.manifest_id
             where mb.digest = rb.digest and m.repository_id = rb.repository_id) as refs
    from repository_blobs rb join blobs b on b.digest = rb.digest
    where b.last_seen_at < ${cutoff}
      and (rb.repository_id > ${after.repositoryId} or (rb.repository_id = ${after.repositoryId} and rb.digest > ${after.digest}))
    order by rb.repository_id, rb.digest
    limit ${limit}`.execute(db);
  return rows.rows.map((r) => ({
    repository_id: r.repository_id,
    digest: r.digest,
    manifest_ids: r.refs === null ? [] : r.refs.split(",").map(Number),
  }));
}

/**
 * Removes a repository's link to a blob if, re-checked now, no manifest of
 * that repository references it and the blob was not seen since `cutoff`.
 */
export async function deleteIdleMembership(db: Kysely<DB>, repositoryId: number, digest: string, cutoff: number): Promise<boolean> {
  const result = await sql`
    delete from repository_blobs
    where repository_id = ${repositoryId} and digest = ${digest}
      and not exists (select 1 from manifest_blobs mb join manifests m on m.id = mb.manifest_id
                      where mb.digest = repository_blobs.digest and m.repository_id = repository_blobs.repository_id)
      and exists (select 1 from blobs b where b.digest = repository_blobs.digest and b.last_seen_at < ${cutoff})`.execute(db);
  return (result.numAffectedRows ?? 0n) > 0n;
}

/** Upload sessions idle since before `cutoff`, in id order after `after`. */
export async function staleSessionPage(db: Kysely<DB>, cutoff: number, after: string, limit: number): Promise<string[]> {
  const rows = await db.selectFrom("uploads").select("id").where("updated_at", "<", cutoff).where("id", ">", after).orderBy("id").limit(limit).execute();
  return rows.map((r) => r.id);
}

/** Ends session `id` if, re-checked now, it is still idle since before `cutoff`. */
export async function deleteStaleSession(db: Kysely<DB>, id: string, cutoff: number): Promise<boolean> {
  const result = await db.deleteFrom("uploads").where("id", "=", id).where("updated_at", "<", cutoff).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Which of `ids` are upload sessions. */
export async function sessionIdsAmong(db: Kysely<DB>, ids: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (const batch of batches(ids)) {
    const rows = await db.selectFrom("uploads").select("id").where("id", "in", batch).execute();
    for (const r of rows) found.add(r.id);
  }
  return found;
}
