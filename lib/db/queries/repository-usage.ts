/**
 * @module Queries behind repository management: per-repository counts and
 * sizes (blobs shared with other repositories told apart), what one
 * repository holds, registry-wide totals, and deleting a repository.
 */
import { sql, type Kysely } from "kysely";
import type { DB } from "../schema.ts";

/** Counts and byte sums of one repository. */
export interface RepositoryUsageRow {
  id: number;
  name: string;
  created_at: number;
  tag_count: number;
  manifest_count: number;
  manifest_bytes: number;
  blob_count: number;
  /** Bytes of the blobs it may serve, each once. */
  blob_bytes: number;
  /** Bytes of those blobs no other repository may serve. */
  unique_blob_bytes: number;
  /** The latest manifest push or tag move, or null when it has neither. */
  last_push_at: number | null;
}

/**
 * Usage of repositories in name order: `limit` of them after `after`, or
 * those named in `names` (at most 500). Each subquery reads one repository's rows
 * through an index, so the cost follows the page, not the registry.
 */
export async function repositoryUsage(
  db: Kysely<DB>,
  page: { limit: number; after?: string; names?: readonly string[] },
): Promise<RepositoryUsageRow[]> {
  if (page.names !== undefined && page.names.length === 0) return [];
  const where =
    page.names !== undefined
      ? sql`r.name in (${sql.join(page.names)})`
      : page.after !== undefined ? sql`r.name > ${page.after}` : sql`1 = 1`;
  const { rows } = await sql<Omit<RepositoryUsageRow, "last_push_at"> & { last_manifest_at: number | null; last_tag_at: number | null }>`
    select r.id, r.name, r.created_at,
      (select count(*) from tags t where t.repository_id = r.id) as tag_count,
      (select count(*) from manifests m where m.repository_id = r.id) as manifest_count,
      (select coalesce(sum(m.size), 0) from manifests m where m.repository_id = r.id) as manifest_bytes,
      (select count(*) from repository_blobs rb where rb.repository_id = r.id) as blob_count,
      (select coalesce(sum(b.size), 0) from repository_blobs rb join blobs b on b.digest = rb.digest
        where rb.repository_id = r.id) as blob_bytes,
      (select coalesce(sum(b.size), 0) from repository_blobs rb join blobs b on b.digest = rb.digest
        where rb.repository_id = r.id
          and not exists (select 1 from repository_blobs o where o.digest = rb.digest and o.repository_id <> r.id)) as unique_blob_bytes,
      (select max(m.created_at) from manifests m where m.repository_id = r.id) as last_manifest_at,
      (select max(t.updated_at) from tags t where t.repository_id = r.id) as last_tag_at
    from repositories r
    where ${where}
    order by r.name
    limit ${page.limit}`.execute(db);
  // The later of the two in JS: SQLite's two-argument max() is PostgreSQL's greatest().
  return rows.map(({ last_manifest_at, last_tag_at, ...r }) => ({
    ...r,
    last_push_at: last_manifest_at === null && last_tag_at === null ? null : Math.max(last_manifest_at ?? -1, last_tag_at ?? -1),
  }));
}

/** Registry-wide sums. */
export interface RegistryUsageRow {
  repositories: number;
  /** Every blob row: what the store holds. */
  blobs: number;
  blob_bytes: number;
  /** Blobs no repository may serve (left for GC). */
  orphan_blobs: number;
  orphan_bytes: number;
  manifest_bytes: number;
}

/** Registry-wide sums: every blob row, and those no repository may serve. */
export async function registryUsage(db: Kysely<DB>): Promise<RegistryUsageRow> {
  const { rows } = await sql<RegistryUsageRow>`
    select
      (select count(*) from repositories) as repositories,
      count(*) as blobs,
      coalesce(sum(b.size), 0) as blob_bytes,
      coalesce(sum(case when not exists (select 1 from repository_blobs rb where rb.digest = b.digest) then 1 else 0 end), 0) as orphan_blobs,
      coalesce(sum(case when not exists (select 1 from repository_blobs rb where rb.digest = b.digest) then b.size else 0 end), 0) as orphan_bytes,
      (select coalesce(sum(size), 0) from manifests) as manifest_bytes
    from blobs b`.execute(db);
  return rows[0]!;
}

/** A manifest of a repository, without its content. */
export interface ManifestMeta {
  id: number;
  digest: string;
  media_type: string;
  artifact_type: string | null;
  size: number;
}

/** What one repository holds without its tags (read a page at a time by the UI): its manifests, which lists which, which references which blobs. */
export async function repositoryStructure(db: Kysely<DB>, repositoryId: number) {
  const manifests: ManifestMeta[] = await db
    .selectFrom("manifests")
    .select(["id", "digest", "media_type", "artifact_type", "size"])
    .where("repository_id", "=", repositoryId)
    .execute();
  const children = await db
    .selectFrom("manifest_children as c")
    .innerJoin("manifests as m", "m.id", "c.manifest_id")
    .select(["c.manifest_id", "c.child_id"])
    .where("m.repository_id", "=", repositoryId)
    .execute();
  const blobs = await db
    .selectFrom("manifest_blobs as mb")
    .innerJoin("manifests as m", "m.id", "mb.manifest_id")
    .innerJoin("blobs as b", "b.digest", "mb.digest")
    .select(["mb.manifest_id", "b.digest", "b.size"])
    .where("m.repository_id", "=", repositoryId)
    .execute();
  return { manifests, children, blobs };
}

/** What one repository holds: its manifests, which lists which, which references which blobs, and its tags. */
export async function repositoryContents(db: Kysely<DB>, repositoryId: number) {
  const structure = await repositoryStructure(db, repositoryId);
  const tags = await db
    .selectFrom("tags as t")
    .innerJoin("manifests as m", "m.id", "t.manifest_id")
    .select(["t.name", "t.manifest_id", "t.updated_at", "m.content"])
    .where("t.repository_id", "=", repositoryId)
    .orderBy(sql`t.name collate nocase`)
    .orderBy("t.name")
    .execute();
  return { ...structure, tags };
}

/** Ids of the upload sessions open in a repository. */
export async function uploadIdsOf(db: Kysely<DB>, repositoryId: number): Promise<string[]> {
  return (await db.selectFrom("uploads").select("id").where("repository_id", "=", repositoryId).execute()).map((r) => r.id);
}

/**
 * Deletes a repository row; its tags, manifests (with their references),
 * blob memberships and upload sessions go with it (ON DELETE CASCADE).
 * Blob rows and bytes stay: other repositories may use them, GC reclaims the rest.
 */
export async function deleteRepositoryRow(db: Kysely<DB>, repositoryId: number): Promise<void> {
  await db.deleteFrom("repositories").where("id", "=", repositoryId).execute();
}
