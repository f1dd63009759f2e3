/**
 * @module Migration 6: the referrers of each subject as small rows of their
 * own, written at push time, so the referrers API pages through an index
 * and never reads a manifest's content (a 4 MiB manifest per referrer made
 * one request take gigabytes). Existing referrers are backfilled one
 * manifest at a time, so memory stays bounded however much is stored.
 * Frozen: the annotation cap below is a copy, as migrations import nothing.
 */
import { sql, type Kysely } from "kysely";

/** Bytes of annotations (as JSON) kept per referrer; the app's cap at the time of writing. */
const ANNOTATIONS_MAX_BYTES = 4096;

/** Rows read per backfill query (their small columns only; content is read one row at a time). */
const BATCH = 200;

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("referrers")
    .addColumn("manifest_id", "integer", (c) => c.primaryKey().references("manifests.id").onDelete("cascade"))
    .addColumn("repository_id", "integer", (c) => c.notNull().references("repositories.id").onDelete("cascade"))
    .addColumn("subject", "text", (c) => c.notNull())
    .addColumn("digest", "text", (c) => c.notNull())
    .addColumn("media_type", "text", (c) => c.notNull())
    .addColumn("artifact_type", "text")
    .addColumn("size", "integer", (c) => c.notNull())
    .addColumn("annotations", "text")
    .execute();
  // The page query: one subject's referrers of one repository, in digest order after a cursor.
  await db.schema.createIndex("referrers_page").on("referrers").columns(["repository_id", "subject", "digest"]).unique().execute();

  for (let after = 0; ; ) {
    const rows = await sql<Row>`
      select id, repository_id, subject, digest, media_type, artifact_type, size from manifests
      where subject is not null and id > ${after} order by id limit ${BATCH}`.execute(db);
    for (const row of rows.rows) {
      const content = await sql<{ content: Uint8Array }>`select content from manifests where id = ${row.id}`.execute(db);
      const annotations = capAnnotations(content.rows[0]?.content);
      await sql`insert into referrers (manifest_id, repository_id, subject, digest, media_type, artifact_type, size, annotations)
                values (${row.id}, ${row.repository_id}, ${row.subject}, ${row.digest}, ${row.media_type}, ${row.artifact_type}, ${row.size}, ${annotations})`.execute(db);
    }
    if (rows.rows.length < BATCH) break;
    after = rows.rows[rows.rows.length - 1]!.id;
  }
}

interface Row {
  id: number;
  repository_id: number;
  subject: string;
  digest: string;
  media_type: string;
  artifact_type: string | null;
  size: number;
}

/** The manifest's string-valued annotations that fit in the cap, whole entries in order, as JSON; null when none. */
function capAnnotations(content: Uint8Array | undefined): string | null {
  if (!content) return null;
  let value: unknown;
  try {
    value = (JSON.parse(new TextDecoder().decode(content)) as { annotations?: unknown }).annotations;
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  // No prototype: a key named __proto__ is kept as a key, as JSON.parse made it.
  const kept = Object.create(null) as Record<string, string>;
  let bytes = 2;
  let count = 0;
  for (const [key, text] of Object.entries(value)) {
    if (typeof text !== "string") continue;
    const entry = Buffer.byteLength(JSON.stringify(key)) + 1 + Buffer.byteLength(JSON.stringify(text)) + (count > 0 ? 1 : 0);
    if (bytes + entry > ANNOTATIONS_MAX_BYTES) continue;
    kept[key] = text;
    bytes += entry;
    count++;
  }
  return count > 0 ? JSON.stringify(kept) : null;
}
