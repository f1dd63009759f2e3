/**
 * @module Queries on manifests and what they reference.
 */
import type { Kysely } from "kysely";
import { prepared } from "../prepared.ts";
import type { DB, Manifest } from "../schema.ts";
import { batches } from "./batch.ts";
import { insertReferrer } from "./referrers.ts";
import { repositoryIdOf } from "./repositories.ts";

// Scalar subqueries, not joins: see linkedBlob in blobs.ts.
const byDigest = prepared((db, repositoryName: string, digest: string) =>
  db.selectFrom("manifests").selectAll().where("repository_id", "=", repositoryIdOf(db, repositoryName)).where("digest", "=", digest),
);

/** The manifest a repository holds under `digest`. */
export async function findManifestByDigest(db: Kysely<DB>, repositoryName: string, digest: string): Promise<Manifest | undefined> {
  return byDigest.first(db, repositoryName, digest);
}

const byTag = prepared((db, repositoryName: string, tag: string) =>
  db
    .selectFrom("manifests")
    .selectAll()
    .where(
      "id",
      "=",
      db.selectFrom("tags").select("manifest_id").where("repository_id", "=", repositoryIdOf(db, repositoryName)).where("name", "=", tag),
    ),
);

/** The manifest tag `tag` of a repository points at. */
export async function findManifestByTag(db: Kysely<DB>, repositoryName: string, tag: string): Promise<Manifest | undefined> {
  return byTag.first(db, repositoryName, tag);
}

/** Ids of the manifests of repository `repositoryId` among `digests`, by digest. */
export async function manifestIdsByDigest(db: Kysely<DB>, repositoryId: number, digests: readonly string[]): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for (const batch of batches(digests)) {
    const rows = await db
      .selectFrom("manifests")
      .select(["id", "digest"])
      .where("repository_id", "=", repositoryId)
      .where("digest", "in", batch)
      .execute();
    for (const r of rows) found.set(r.digest, r.id);
  }
  return found;
}

const manifestId = prepared((db, repositoryId: number, digest: string) =>
  db.selectFrom("manifests").select("id").where("repository_id", "=", repositoryId).where("digest", "=", digest),
);

/**
 * Stores a manifest (or finds the identical one already stored) and returns
 * its id. One with a subject is also recorded as a referrer, with
 * `referrerAnnotations` (JSON, already capped) for the referrers API.
 */
export async function upsertManifest(
  db: Kysely<DB>,
  row: Omit<Manifest, "id">,
  blobDigests: readonly string[],
  childIds: readonly number[],
  referrerAnnotations: string | null = null,
): Promise<number> {
  const existing = await manifestId.first(db, row.repository_id, row.digest);
  if (existing) {
    // Pushed again: a use, as far as GC's grace period is concerned.
    await db.updateTable("manifests").set({ last_seen_at: row.last_seen_at }).where("id", "=", existing.id).execute();
    return existing.id;
  }
  const { id } = await db.insertInto("manifests").values(row).returning("id").executeTakeFirstOrThrow();
  if (row.subject !== null) {
    await insertReferrer(db, {
      manifest_id: id,
      repository_id: row.repository_id,
      subject: row.subject,
      digest: row.digest,
      media_type: row.media_type,
      artifact_type: row.artifact_type,
      size: row.size,
      annotations: referrerAnnotations,
    });
  }
  for (const batch of batches(blobDigests)) {
    await db.insertInto("manifest_blobs").values(batch.map((digest) => ({ manifest_id: id, digest }))).execute();
  }
  for (const batch of batches(childIds)) {
    await db.insertInto("manifest_children").values(batch.map((child_id) => ({ manifest_id: id, child_id }))).execute();
  }
  return id;
}

/** Digests of the indexes that list manifest `manifestId` as a child, at most `limit`. */
export async function parentDigests(db: Kysely<DB>, manifestId: number, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom("manifest_children as c")
    .innerJoin("manifests as m", "m.id", "c.manifest_id")
    .select("m.digest")
    .where("c.child_id", "=", manifestId)
    .limit(limit)
    .execute();
  return rows.map((r) => r.digest);
}

/** Records that manifest `manifestId` was just read; false when it no longer exists. */
export async function touchManifest(db: Kysely<DB>, manifestId: number, now: number): Promise<boolean> {
  const result = await db.updateTable("manifests").set({ last_seen_at: now }).where("id", "=", manifestId).executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Removes a manifest; its tags and references go with it (ON DELETE CASCADE). */
export async function deleteManifestRow(db: Kysely<DB>, manifestId: number): Promise<void> {
  await db.deleteFrom("manifests").where("id", "=", manifestId).execute();
}
