/**
 * @module Migration 1: repositories, blobs and their membership, manifests
 * with their references, tags, uploads and meta. Frozen: never edit, add a
 * new migration instead.
 */
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("meta")
    .addColumn("key", "text", (c) => c.primaryKey())
    .addColumn("value", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("repositories")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("created_at", "integer", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("blobs")
    .addColumn("digest", "text", (c) => c.primaryKey())
    .addColumn("size", "integer", (c) => c.notNull())
    .addColumn("created_at", "integer", (c) => c.notNull())
    .addColumn("last_seen_at", "integer", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("repository_blobs")
    .addColumn("repository_id", "integer", (c) =>
      c.notNull().references("repositories.id").onDelete("cascade"),
    )
    .addColumn("digest", "text", (c) => c.notNull().references("blobs.digest"))
    .addColumn("created_at", "integer", (c) => c.notNull())
    .addPrimaryKeyConstraint("repository_blobs_pk", ["repository_id", "digest"])
    .execute();
  await db.schema.createIndex("repository_blobs_digest").on("repository_blobs").column("digest").execute();

  await db.schema
    .createTable("manifests")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("repository_id", "integer", (c) =>
      c.notNull().references("repositories.id").onDelete("cascade"),
    )
    .addColumn("digest", "text", (c) => c.notNull())
    .addColumn("media_type", "text", (c) => c.notNull())
    .addColumn("artifact_type", "text")
    .addColumn("subject", "text")
    .addColumn("content", "blob", (c) => c.notNull())
    .addColumn("size", "integer", (c) => c.notNull())
    .addColumn("created_at", "integer", (c) => c.notNull())
    .addUniqueConstraint("manifests_repository_digest", ["repository_id", "digest"])
    .execute();
  await db.schema.createIndex("manifests_subject").on("manifests").columns(["repository_id", "subject"]).execute();

  await db.schema
    .createTable("manifest_blobs")
    .addColumn("manifest_id", "integer", (c) => c.notNull().references("manifests.id").onDelete("cascade"))
    .addColumn("digest", "text", (c) => c.notNull().references("blobs.digest"))
    .addPrimaryKeyConstraint("manifest_blobs_pk", ["manifest_id", "digest"])
    .execute();
  await db.schema.createIndex("manifest_blobs_digest").on("manifest_blobs").column("digest").execute();

  await db.schema
    .createTable("manifest_children")
    .addColumn("manifest_id", "integer", (c) => c.notNull().references("manifests.id").onDelete("cascade"))
    .addColumn("child_id", "integer", (c) => c.notNull().references("manifests.id"))
    .addPrimaryKeyConstraint("manifest_children_pk", ["manifest_id", "child_id"])
    .execute();
  await db.schema.createIndex("manifest_children_child").on("manifest_children").column("child_id").execute();

  await db.schema
    .createTable("tags")
    .addColumn("repository_id", "integer", (c) =>
      c.notNull().references("repositories.id").onDelete("cascade"),
    )
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("manifest_id", "integer", (c) => c.notNull().references("manifests.id").onDelete("cascade"))
    .addColumn("updated_at", "integer", (c) => c.notNull())
    .addPrimaryKeyConstraint("tags_pk", ["repository_id", "name"])
    .execute();
  await db.schema.createIndex("tags_manifest").on("tags").column("manifest_id").execute();
  // Tag lists are ordered case-insensitively, as the spec's "lexical order" asks.
  await sql`create index tags_name_nocase on tags (repository_id, name collate nocase, name)`.execute(db);

  await db.schema
    .createTable("uploads")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("repository_id", "integer", (c) =>
      c.notNull().references("repositories.id").onDelete("cascade"),
    )
    .addColumn("created_at", "integer", (c) => c.notNull())
    .addColumn("updated_at", "integer", (c) => c.notNull())
    .execute();

  await sql`select 1`.execute(db);
}
