/**
 * @module Queries on blobs and on which repository may serve which blob.
 */
import type { Kysely } from "kysely";
import { prepared } from "../prepared.ts";
import type { DB } from "../schema.ts";
import { batches } from "./batch.ts";
import { repositoryIdOf } from "./repositories.ts";

/** A blob as one repository sees it. */
export interface LinkedBlob {
  digest: string;
  size: number;
  last_seen_at: number;
}

// Scalar subqueries rather than joins, here and in the other hot lookups: SQLite runs this
// shape about three times faster (3.6 µs against 10.9 for the join, on this machine).
const linkedBlob = prepared((db, repositoryName: string, digest: string) =>
  db
    .selectFrom("blobs")
    .select(["digest", "size", "last_seen_at"])
    .where(
      "digest",
      "=",
      db
        .selectFrom("repository_blobs")
        .select("digest")
        .where("repository_id", "=", repositoryIdOf(db, repositoryName))
        .where("digest", "=", digest),
    ),
);

/** The blob `digest` if repository `repositoryName` may serve it, else undefined. */
export async function findLinkedBlob(db: Kysely<DB>, repositoryName: string, digest: string): Promise<LinkedBlob | undefined> {
  return linkedBlob.first(db, repositoryName, digest);
}

/**
 * Records that repository `repositoryName` just served blob `digest`, so
 * GC's grace period starts again. False when the repository no longer
 * holds it: checked in the same statement, so a GC that removed it first
 * is never answered with a stale "exists".
 */
export async function touchLinkedBlob(db: Kysely<DB>, repositoryName: string, digest: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable("blobs")
    .set({ last_seen_at: now })
    .where("digest", "=", digest)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom("repository_blobs as rb")
          .innerJoin("repositories as r", "r.id", "rb.repository_id")
          .select("rb.digest")
          .where("r.name", "=", repositoryName)
          .whereRef("rb.digest", "=", "blobs.digest"),
      ),
    )
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

const upsertBlob = prepared((db, digest: string, size: number, now: number) =>
  db
    .insertInto("blobs")
    .values({ digest, size, created_at: now, last_seen_at: now })
    .onConflict((oc) => oc.column("digest").doUpdateSet({ last_seen_at: now })),
);
const insertLink = prepared((db, repositoryId: number, digest: string, now: number) =>
  db
    .insertInto("repository_blobs")
    .values({ repository_id: repositoryId, digest, created_at: now })
    .onConflict((oc) => oc.columns(["repository_id", "digest"]).doNothing()),
);

/** Records a verified blob and makes it readable through one repository. */
export async function linkBlob(db: Kysely<DB>, repositoryId: number, digest: string, size: number, now: number): Promise<void> {
  await upsertBlob.all(db, digest, size, now);
  await insertLink.all(db, repositoryId, digest, now);
}

/** Which of `digests` repository `repositoryId` may serve. */
export async function linkedDigests(db: Kysely<DB>, repositoryId: number, digests: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (const batch of batches(digests)) {
    const rows = await db
      .selectFrom("repository_blobs")
      .select("digest")
      .where("repository_id", "=", repositoryId)
      .where("digest", "in", batch)
      .execute();
    for (const r of rows) found.add(r.digest);
  }
  return found;
}

/** Names of repositories that may serve blob `digest`, at most `limit` of them. */
export async function repositoriesWithBlob(db: Kysely<DB>, digest: string, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom("repository_blobs as rb")
    .innerJoin("repositories as r", "r.id", "rb.repository_id")
    .select("r.name")
    .where("rb.digest", "=", digest)
    .orderBy("r.name")
    .limit(limit)
    .execute();
  return rows.map((r) => r.name);
}

/** Stops repository `repositoryId` serving blob `digest`; returns whether it did before. */
export async function unlinkBlob(db: Kysely<DB>, repositoryId: number, digest: string): Promise<boolean> {
  const result = await db
    .deleteFrom("repository_blobs")
    .where("repository_id", "=", repositoryId)
    .where("digest", "=", digest)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Digests of this repository's manifests that reference blob `digest`, at most `limit`. */
export async function manifestsUsingBlob(db: Kysely<DB>, repositoryId: number, digest: string, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom("manifest_blobs as mb")
    .innerJoin("manifests as m", "m.id", "mb.manifest_id")
    .select("m.digest")
    .where("m.repository_id", "=", repositoryId)
    .where("mb.digest", "=", digest)
    .limit(limit)
    .execute();
  return rows.map((r) => r.digest);
}
