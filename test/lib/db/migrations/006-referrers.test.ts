/**
 * @module Migration 6 backfills the referrers of a database written before
 * it: one row per manifest with a subject, annotations capped, content
 * read one manifest at a time.
 */
import { expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { Kysely, sql } from "kysely";
import { BunSqliteDialect } from "../../../../lib/db/sqlite-dialect.ts";
import { openDatabase } from "../../../../lib/db/connection.ts";
import { migrate } from "../../../../lib/db/migrate.ts";
import { migrations } from "../../../../lib/db/migrations/index.ts";
import { REFERRER_ANNOTATIONS_MAX_BYTES } from "../../../../lib/limits.ts";
import { sha256Digest } from "../../../../lib/oci/digest.ts";
import { tempDir } from "../../../support/temp.ts";

const SUBJECT = sha256Digest("subject");

function manifest(extra: Record<string, unknown>): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", ...extra }));
}

test("existing referrers are listed after the upgrade, with their annotations capped", async () => {
  const path = join(tempDir(), "mcr.db");
  const sqlite = new Database(path, { create: true, strict: true });
  const old = new Kysely<any>({ dialect: new BunSqliteDialect(sqlite) });
  const before = migrations.findIndex((m) => m.name === "006-referrers");
  await migrate(old, migrations.slice(0, before));
  await sql`insert into repositories (id, name, created_at) values (1, 'a/b', 0)`.execute(old);
  const rows = [
    { subject: SUBJECT, artifact: "application/vnd.example.sig", content: manifest({ subject: { digest: SUBJECT }, annotations: { k: "v", big: "x".repeat(10_000), n: 3 } }) },
    { subject: null, artifact: "application/vnd.oci.image.config.v1+json", content: manifest({}) },
    ...Array.from({ length: 450 }, (_, i) => ({ subject: SUBJECT, artifact: null, content: manifest({ subject: { digest: SUBJECT }, i }) })),
  ];
  for (const [i, row] of rows.entries()) {
    const digest = sha256Digest(row.content);
    await sql`insert into manifests (id, repository_id, digest, media_type, artifact_type, subject, content, size, created_at, last_seen_at)
              values (${i + 1}, 1, ${digest}, 'application/vnd.oci.image.manifest.v1+json', ${row.artifact}, ${row.subject}, ${row.content}, ${row.content.byteLength}, 0, 0)`.execute(old);
  }
  await old.destroy();
  sqlite.close();

  const { db, close } = await openDatabase(path);
  try {
    const referrers = await db.selectFrom("referrers").selectAll().orderBy("manifest_id").execute();
    expect(referrers.length).toBe(451);
    expect(referrers.map((r) => r.manifest_id)).toEqual([1, ...Array.from({ length: 450 }, (_, i) => i + 3)]);
    const first = referrers[0]!;
    expect(first).toMatchObject({ subject: SUBJECT, repository_id: 1, artifact_type: "application/vnd.example.sig", size: rows[0]!.content.byteLength });
    expect(first.digest).toBe(sha256Digest(rows[0]!.content));
    expect(JSON.parse(first.annotations!)).toEqual({ k: "v" });
    expect(referrers[1]!.annotations).toBeNull();
    expect(REFERRER_ANNOTATIONS_MAX_BYTES).toBeLessThan(10_000);
    // Deleting the manifest takes its referrer row along.
    await db.deleteFrom("manifests").where("id", "=", 1).execute();
    expect(await db.selectFrom("referrers").select("manifest_id").where("manifest_id", "=", 1).execute()).toEqual([]);
  } finally {
    await close();
  }
});
