/**
 * @module Queries of retention: the stored rule set, one repository's tags
 * and manifests as rule evaluation sees them, the re-checks made inside
 * the transactions that delete, and the batched record of pulls.
 */
import { sql, type Kysely } from "kysely";
import type { DB } from "../schema.ts";
import { batches } from "./batch.ts";

/** The stored rules' JSON bodies, in file order. */
export async function loadRetentionRuleBodies(db: Kysely<DB>): Promise<unknown[]> {
  const rows = await db.selectFrom("retention_rules").select("body").orderBy("position").execute();
  return rows.map((r) => JSON.parse(r.body) as unknown);
}

/** Replaces the whole rule set; call inside a transaction. */
export async function replaceRetentionRules(db: Kysely<DB>, rules: readonly { id: string }[]): Promise<void> {
  await db.deleteFrom("retention_rules").execute();
  for (const [position, rule] of rules.entries()) {
    await db.insertInto("retention_rules").values({ id: rule.id, position, body: JSON.stringify(rule) }).execute();
  }
}

/** Repositories by id, `limit` of them after id `after`, in id order. */
export async function repositoryPage(db: Kysely<DB>, after: number, limit: number): Promise<{ id: number; name: string }[]> {
  return db.selectFrom("repositories").select(["id", "name"]).where("id", ">", after).orderBy("id").limit(limit).execute();
}

/** A tag as retention sees it. */
export interface TagRow {
  name: string;
  manifest_id: number;
  updated_at: number;
}

/** A manifest as retention sees it: no content. */
export interface ManifestRow {
  id: number;
  digest: string;
  subject: string | null;
  last_seen_at: number;
  pulled_at: number | null;
}

/**
 * Every manifest, tag and index edge of one repository, read in that
 * order outside any transaction (a read transaction would still take the
 * write lock here): a tag or edge pushed between the reads may name a
 * manifest not in the list, which evaluation leaves alone.
 */
export async function repositoryContents(
  db: Kysely<DB>,
  repositoryId: number,
): Promise<{ tags: TagRow[]; manifests: ManifestRow[]; edges: { manifest_id: number; child_id: number }[] }> {
  const manifests = await db
    .selectFrom("manifests as m")
    .leftJoin("manifest_pulls as p", "p.manifest_id", "m.id")
    .select(["m.id", "m.digest", "m.subject", "m.last_seen_at", "p.pulled_at"])
    .where("m.repository_id", "=", repositoryId)
    .execute();
  const tags = await db.selectFrom("tags").select(["name", "manifest_id", "updated_at"]).where("repository_id", "=", repositoryId).execute();
  const edges = await db
    .selectFrom("manifest_children as c")
    .innerJoin("manifests as m", "m.id", "c.manifest_id")
    .select(["c.manifest_id", "c.child_id"])
    .where("m.repository_id", "=", repositoryId)
    .execute();
  return { tags, manifests, edges };
}

/** A tag as it is now, with its manifest's last use and pull. */
export interface CurrentTag {
  name: string;
  manifest_id: number;
  updated_at: number;
  last_seen_at: number;
  pulled_at: number | null;
}

/** Tags `names` of a repository as they are now (those that still exist). */
export async function currentTags(db: Kysely<DB>, repositoryId: number, names: readonly string[]): Promise<CurrentTag[]> {
  const found: CurrentTag[] = [];
  for (const batch of batches(names)) {
    found.push(
      ...(await db
        .selectFrom("tags as t")
        .innerJoin("manifests as m", "m.id", "t.manifest_id")
        .leftJoin("manifest_pulls as p", "p.manifest_id", "m.id")
        .select(["t.name", "t.manifest_id", "t.updated_at", "m.last_seen_at", "p.pulled_at"])
        .where("t.repository_id", "=", repositoryId)
        .where("t.name", "in", batch)
        .execute()),
    );
  }
  return found;
}

/** Removes tags `names` of a repository. */
export async function removeTags(db: Kysely<DB>, repositoryId: number, names: readonly string[]): Promise<void> {
  for (const batch of batches(names)) await db.deleteFrom("tags").where("repository_id", "=", repositoryId).where("name", "in", batch).execute();
}

/** Of `ids`, those some tag points at. */
export async function taggedIds(db: Kysely<DB>, ids: readonly number[]): Promise<Set<number>> {
  const found = new Set<number>();
  for (const batch of batches(ids)) {
    for (const r of await db.selectFrom("tags").select("manifest_id").distinct().where("manifest_id", "in", batch).execute()) found.add(r.manifest_id);
  }
  return found;
}

/** Index → child edges whose child is among `ids`. */
export async function parentEdges(db: Kysely<DB>, ids: readonly number[]): Promise<{ manifest_id: number; child_id: number }[]> {
  const found: { manifest_id: number; child_id: number }[] = [];
  for (const batch of batches(ids)) found.push(...(await db.selectFrom("manifest_children").select(["manifest_id", "child_id"]).where("child_id", "in", batch).execute()));
  return found;
}

/** Manifests of a repository whose `subject` or `digest` is among `digests`. */
export async function manifestsBySubjectOrDigest(db: Kysely<DB>, repositoryId: number, digests: readonly string[]): Promise<{ id: number; digest: string; subject: string | null }[]> {
  const found: { id: number; digest: string; subject: string | null }[] = [];
  for (const batch of batches(digests)) {
    // Two lookups, each on its own index ((repository_id, subject) and (repository_id, digest)).
    const q = db.selectFrom("manifests").select(["id", "digest", "subject"]).where("repository_id", "=", repositoryId);
    found.push(...(await q.where("subject", "in", batch).execute()), ...(await q.where("digest", "in", batch).execute()));
  }
  return found;
}

/** Removes manifests `ids` in one statement per batch (an index and its children may go together); tags and references go by cascade. */
export async function removeManifests(db: Kysely<DB>, ids: readonly number[]): Promise<void> {
  for (const batch of batches(ids)) await db.deleteFrom("manifests").where("id", "in", batch).execute();
}

/** The manifests among `ids` that still exist, with their last use and pull. */
export async function manifestsNow(db: Kysely<DB>, ids: readonly number[]): Promise<ManifestRow[]> {
  const found: ManifestRow[] = [];
  for (const batch of batches(ids)) {
    found.push(
      ...(await db
        .selectFrom("manifests as m")
        .leftJoin("manifest_pulls as p", "p.manifest_id", "m.id")
        .select(["m.id", "m.digest", "m.subject", "m.last_seen_at", "p.pulled_at"])
        .where("m.id", "in", batch)
        .execute()),
    );
  }
  return found;
}

/**
 * Records pulls: each `[manifestId, time]` raises that manifest's
 * `pulled_at` to `time`, in one statement; ids of manifests deleted
 * meanwhile are skipped.
 */
export async function recordPulls(db: Kysely<DB>, pulls: readonly (readonly [number, number])[]): Promise<void> {
  for (const batch of batches(pulls, 5000)) {
    // One JSON parameter however many pulls: the statement never nears the parameter limit.
    await sql`insert into manifest_pulls (manifest_id, pulled_at)
              select m.id, json_extract(j.value, '$[1]') from json_each(${JSON.stringify(batch)}) j
              join manifests m on m.id = json_extract(j.value, '$[0]')
              where true
              on conflict (manifest_id) do update set pulled_at = max(pulled_at, excluded.pulled_at)`.execute(db);
  }
}
