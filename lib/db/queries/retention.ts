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

/** Every tag, manifest and index edge of one repository. */
export async function repositoryContents(
  db: Kysely<DB>,
  repositoryId: number,
): Promise<{ tags: TagRow[]; manifests: ManifestRow[]; edges: { manifest_id: number; child_id: number }[] }> {
  const tags = await db.selectFrom("tags").select(["name", "manifest_id", "updated_at"]).where("repository_id", "=", repositoryId).execute();
  const manifests = await db
    .selectFrom("manifests as m")
    .leftJoin("manifest_pulls as p", "p.manifest_id", "m.id")
    .select(["m.id", "m.digest", "m.subject", "m.last_seen_at", "p.pulled_at"])
    .where("m.repository_id", "=", repositoryId)
    .execute();
  const edges = await db
    .selectFrom("manifest_children as c")
    .innerJoin("manifests as m", "m.id", "c.manifest_id")
    .select(["c.manifest_id", "c.child_id"])
    .where("m.repository_id", "=", repositoryId)
    .execute();
  return { tags, manifests, edges };
}

/** A tag's target and push time now, with its manifest's last use and pull; undefined when the tag is gone. */
export async function currentTag(
  db: Kysely<DB>,
  repositoryId: number,
  name: string,
): Promise<{ manifest_id: number; updated_at: number; last_seen_at: number; pulled_at: number | null } | undefined> {
  return db
    .selectFrom("tags as t")
    .innerJoin("manifests as m", "m.id", "t.manifest_id")
    .leftJoin("manifest_pulls as p", "p.manifest_id", "m.id")
    .select(["t.manifest_id", "t.updated_at", "m.last_seen_at", "p.pulled_at"])
    .where("t.repository_id", "=", repositoryId)
    .where("t.name", "=", name)
    .executeTakeFirst();
}

/** Removes tag `name` of a repository. */
export async function removeTag(db: Kysely<DB>, repositoryId: number, name: string): Promise<void> {
  await db.deleteFrom("tags").where("repository_id", "=", repositoryId).where("name", "=", name).execute();
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
