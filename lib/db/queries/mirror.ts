/**
 * @module Queries of the pull-through cache: mirror repositories, when each
 * mirrored tag was last checked upstream, and the references of cached
 * manifests that wait for their blob or child manifest to be cached.
 */
import type { Kysely } from "kysely";
import type { DB } from "../schema.ts";
import { batches } from "./batch.ts";
import { repositoryIdOf } from "./repositories.ts";

/** Marks repository `repositoryId` as a cache of upstream `upstream`. */
export async function markMirrorRepository(db: Kysely<DB>, repositoryId: number, upstream: string, now: number): Promise<void> {
  await db
    .insertInto("mirror_repositories")
    .values({ repository_id: repositoryId, upstream, created_at: now })
    .onConflict((oc) => oc.column("repository_id").doNothing())
    .execute();
}

/** The upstream each of `names` mirrors, for those that are mirrors. */
export async function mirrorUpstreams(db: Kysely<DB>, names: readonly string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const batch of batches(names)) {
    const rows = await db
      .selectFrom("mirror_repositories as m")
      .innerJoin("repositories as r", "r.id", "m.repository_id")
      .select(["r.name", "m.upstream"])
      .where("r.name", "in", batch)
      .execute();
    for (const row of rows) found.set(row.name, row.upstream);
  }
  return found;
}

/** When tag `tag` of repository `repositoryName` was last fetched or revalidated, or null. */
export async function tagCheckedAt(db: Kysely<DB>, repositoryName: string, tag: string): Promise<number | null> {
  const row = await db
    .selectFrom("mirror_tags")
    .select("checked_at")
    .where("repository_id", "=", repositoryIdOf(db, repositoryName))
    .where("tag", "=", tag)
    .executeTakeFirst();
  return row?.checked_at ?? null;
}

/** Records that tag `tag` was checked against the upstream at `now`. */
export async function setTagChecked(db: Kysely<DB>, repositoryId: number, tag: string, now: number): Promise<void> {
  await db
    .insertInto("mirror_tags")
    .values({ repository_id: repositoryId, tag, checked_at: now })
    .onConflict((oc) => oc.columns(["repository_id", "tag"]).doUpdateSet({ checked_at: now }))
    .execute();
}

/** Records references of manifest `manifestId` whose targets are not cached yet. */
export async function addPending(db: Kysely<DB>, manifestId: number, refs: readonly { digest: string; kind: "blob" | "manifest" }[]): Promise<void> {
  for (const batch of batches(refs)) {
    await db
      .insertInto("mirror_pending")
      .values(batch.map((r) => ({ manifest_id: manifestId, ...r })))
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
}

/** Manifests of repository `repositoryId` waiting for `digest` (of `kind`). */
async function waiting(db: Kysely<DB>, repositoryId: number, digest: string, kind: "blob" | "manifest"): Promise<number[]> {
  const rows = await db
    .selectFrom("mirror_pending as p")
    .innerJoin("manifests as m", "m.id", "p.manifest_id")
    .select("p.manifest_id")
    .where("m.repository_id", "=", repositoryId)
    .where("p.digest", "=", digest)
    .where("p.kind", "=", kind)
    .execute();
  return rows.map((r) => r.manifest_id);
}

/**
 * Turns the pending references to blob `digest` of repository
 * `repositoryId` into real ones, if the repository holds the blob (it may
 * have been collected since it was cached; then they stay pending).
 */
export async function resolvePendingBlob(db: Kysely<DB>, repositoryId: number, digest: string): Promise<void> {
  const linked = await db.selectFrom("repository_blobs").select("digest").where("repository_id", "=", repositoryId).where("digest", "=", digest).executeTakeFirst();
  if (!linked) return;
  const ids = await waiting(db, repositoryId, digest, "blob");
  if (ids.length === 0) return;
  await db.insertInto("manifest_blobs").values(ids.map((manifest_id) => ({ manifest_id, digest }))).onConflict((oc) => oc.doNothing()).execute();
  await db.deleteFrom("mirror_pending").where("manifest_id", "in", ids).where("digest", "=", digest).execute();
}

/** Turns the pending references to child manifest `digest` (row `childId`) into real ones. */
export async function resolvePendingChild(db: Kysely<DB>, repositoryId: number, digest: string, childId: number): Promise<void> {
  const ids = await waiting(db, repositoryId, digest, "manifest");
  if (ids.length === 0) return;
  await db.insertInto("manifest_children").values(ids.map((manifest_id) => ({ manifest_id, child_id: childId }))).onConflict((oc) => oc.doNothing()).execute();
  await db.deleteFrom("mirror_pending").where("manifest_id", "in", ids).where("digest", "=", digest).execute();
}
