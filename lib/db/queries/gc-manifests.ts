/**
 * @module Queries of the garbage collector on manifests: the graph it marks
 * from (tags, index children, subjects), and the re-checks it makes before
 * removing a group of untagged manifests.
 */
import type { Kysely } from "kysely";
import type { DB } from "../schema.ts";
import { batches } from "./batch.ts";

/** A manifest as a node of the graph: no content. */
export interface ManifestNode {
  id: number;
  repository_id: number;
  digest: string;
  subject: string | null;
  last_seen_at: number;
}

/** An index and one of its children. */
export interface ChildEdge {
  manifest_id: number;
  child_id: number;
}

/** Every manifest, the ids of tagged ones, and every index → child edge. */
export async function manifestGraph(db: Kysely<DB>): Promise<{ nodes: ManifestNode[]; tagged: Set<number>; edges: ChildEdge[] }> {
  const nodes = await db.selectFrom("manifests").select(["id", "repository_id", "digest", "subject", "last_seen_at"]).execute();
  const tags = await db.selectFrom("tags").select("manifest_id").distinct().execute();
  const edges = await db.selectFrom("manifest_children").select(["manifest_id", "child_id"]).execute();
  return { nodes, tagged: new Set(tags.map((t) => t.manifest_id)), edges };
}

/** The manifests among `ids` that still exist. */
export async function manifestNodes(db: Kysely<DB>, ids: readonly number[]): Promise<ManifestNode[]> {
  const found: ManifestNode[] = [];
  for (const batch of batches(ids)) {
    found.push(...(await db.selectFrom("manifests").select(["id", "repository_id", "digest", "subject", "last_seen_at"]).where("id", "in", batch).execute()));
  }
  return found;
}

/** Whether any of `ids` has a tag. */
export async function anyTagged(db: Kysely<DB>, ids: readonly number[]): Promise<boolean> {
  for (const batch of batches(ids)) {
    if (await db.selectFrom("tags").select("manifest_id").where("manifest_id", "in", batch).limit(1).executeTakeFirst()) return true;
  }
  return false;
}

/** Ids of the indexes listing any of `ids` as a child. */
export async function parentIds(db: Kysely<DB>, ids: readonly number[]): Promise<number[]> {
  const found: number[] = [];
  for (const batch of batches(ids)) {
    const rows = await db.selectFrom("manifest_children").select("manifest_id").where("child_id", "in", batch).execute();
    found.push(...rows.map((r) => r.manifest_id));
  }
  return found;
}

/** Ids of the manifests of repository `repositoryId` whose `subject` is among `digests` (their referrers). */
export async function referrerIds(db: Kysely<DB>, repositoryId: number, digests: readonly string[]): Promise<number[]> {
  const found: number[] = [];
  for (const batch of batches(digests)) {
    const rows = await db.selectFrom("manifests").select("id").where("repository_id", "=", repositoryId).where("subject", "in", batch).execute();
    found.push(...rows.map((r) => r.id));
  }
  return found;
}
