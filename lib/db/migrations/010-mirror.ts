/**
 * @module Migration 10: the pull-through cache. Which repositories mirror an
 * upstream, when each mirrored tag was last checked against its upstream,
 * and the references of cached manifests whose targets are not cached yet
 * (a manifest is cached before its blobs; a reference row may only name a
 * stored blob). Frozen.
 */
import type { Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("mirror_repositories")
    .addColumn("repository_id", "integer", (c) => c.primaryKey().references("repositories.id").onDelete("cascade"))
    .addColumn("upstream", "text", (c) => c.notNull())
    .addColumn("created_at", "integer", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("mirror_tags")
    .addColumn("repository_id", "integer", (c) => c.notNull().references("repositories.id").onDelete("cascade"))
    .addColumn("tag", "text", (c) => c.notNull())
    .addColumn("checked_at", "integer", (c) => c.notNull())
    .addPrimaryKeyConstraint("mirror_tags_pk", ["repository_id", "tag"])
    .execute();

  // kind: "blob" (becomes a manifest_blobs row) or "manifest" (a manifest_children row).
  await db.schema
    .createTable("mirror_pending")
    .addColumn("manifest_id", "integer", (c) => c.notNull().references("manifests.id").onDelete("cascade"))
    .addColumn("digest", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("mirror_pending_pk", ["manifest_id", "digest"])
    .execute();
  await db.schema.createIndex("mirror_pending_digest").on("mirror_pending").columns(["digest", "manifest_id"]).execute();
}
