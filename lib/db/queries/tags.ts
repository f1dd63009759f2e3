/**
 * @module Queries on tags.
 */
import { sql, type Kysely } from "kysely";
import { prepared } from "../prepared.ts";
import type { DB } from "../schema.ts";

const upsertTag = prepared((db, repositoryId: number, name: string, manifestId: number, now: number) =>
  db
    .insertInto("tags")
    .values({ repository_id: repositoryId, name, manifest_id: manifestId, updated_at: now })
    .onConflict((oc) => oc.columns(["repository_id", "name"]).doUpdateSet({ manifest_id: manifestId, updated_at: now })),
);

/** Points tag `name` at a manifest, creating or moving it in one statement. */
export async function setTag(db: Kysely<DB>, repositoryId: number, name: string, manifestId: number, now: number): Promise<void> {
  await upsertTag.all(db, repositoryId, name, manifestId, now);
}

/**
 * Tag names of a repository in the spec's lexical order (case-insensitive,
 * ties broken by byte order), `limit` of them after `last`.
 */
export async function listTagNames(db: Kysely<DB>, repositoryId: number, limit: number, last?: string): Promise<string[]> {
  const rows = last === undefined ? await firstTags.all(db, repositoryId, limit) : await tagsAfter.all(db, repositoryId, limit, last);
  return rows.map((r) => r.name);
}

const firstTags = prepared((db, repositoryId: number, limit: number) =>
  db.selectFrom("tags").select("name").where("repository_id", "=", repositoryId).orderBy(sql`name collate nocase`).orderBy("name").limit(limit),
);
const tagsAfter = prepared((db, repositoryId: number, limit: number, last: string) =>
  db
    .selectFrom("tags")
    .select("name")
    .where("repository_id", "=", repositoryId)
    .where((eb) =>
      // lower() on the cursor too: PostgreSQL folds only the column (postgres-translate.ts), SQLite's NOCASE both sides.
      eb.or([eb(sql`name collate nocase`, ">", sql`lower(${last})`), eb.and([eb(sql`name collate nocase`, "=", sql`lower(${last})`), eb("name", ">", last)])]),
    )
    .orderBy(sql`name collate nocase`)
    .orderBy("name")
    .limit(limit),
);

/** Removes tag `name`; returns whether it existed. */
export async function deleteTag(db: Kysely<DB>, repositoryId: number, name: string): Promise<boolean> {
  const result = await db.deleteFrom("tags").where("repository_id", "=", repositoryId).where("name", "=", name).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

// A scalar subquery, not a join: see linkedBlob in blobs.ts.
const tagTarget = prepared((db, repositoryId: number, name: string) =>
  db
    .selectFrom("manifests")
    .select("digest")
    .where("id", "=", db.selectFrom("tags").select("manifest_id").where("repository_id", "=", repositoryId).where("name", "=", name)),
);

/** The digest tag `name` of a repository points at, or null when there is no such tag. */
export async function findTagTarget(db: Kysely<DB>, repositoryId: number, name: string): Promise<string | null> {
  return (await tagTarget.first(db, repositoryId, name))?.digest ?? null;
}

/** Names of the tags pointing at manifest `manifestId`, in byte order. */
export async function tagsOfManifest(db: Kysely<DB>, manifestId: number): Promise<string[]> {
  const rows = await db.selectFrom("tags").select("name").where("manifest_id", "=", manifestId).orderBy("name").execute();
  return rows.map((r) => r.name);
}
