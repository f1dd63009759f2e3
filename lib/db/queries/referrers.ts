/**
 * @module Queries on referrers: the small rows a manifest with a `subject`
 * gets at push time, paged in digest order through their own index, so a
 * listing never reads manifest content.
 */
import type { Kysely } from "kysely";
import { prepared } from "../prepared.ts";
import type { DB, Referrer } from "../schema.ts";
import { repositoryIdOf } from "./repositories.ts";

/** Records manifest `row.manifest_id` as a referrer of `row.subject`. */
export async function insertReferrer(db: Kysely<DB>, row: Referrer): Promise<void> {
  await db.insertInto("referrers").values(row).onConflict((oc) => oc.column("manifest_id").doNothing()).execute();
}

/** What a page of referrers holds per entry. */
export type ReferrerRow = Pick<Referrer, "digest" | "media_type" | "artifact_type" | "size" | "annotations">;

const columns = ["digest", "media_type", "artifact_type", "size", "annotations"] as const;

// Scalar subqueries, not joins: see linkedBlob in blobs.ts.
const page = prepared((db, repositoryName: string, subject: string, after: string, limit: number) =>
  db
    .selectFrom("referrers")
    .select(columns)
    .where("repository_id", "=", repositoryIdOf(db, repositoryName))
    .where("subject", "=", subject)
    .where("digest", ">", after)
    .orderBy("digest")
    .limit(limit),
);

const filteredPage = prepared((db, repositoryName: string, subject: string, after: string, limit: number, artifactType: string) =>
  db
    .selectFrom("referrers")
    .select(columns)
    .where("repository_id", "=", repositoryIdOf(db, repositoryName))
    .where("subject", "=", subject)
    .where("digest", ">", after)
    .where("artifact_type", "=", artifactType)
    .orderBy("digest")
    .limit(limit),
);

/**
 * Referrers of `subject` in repository `repositoryName` whose digest sorts
 * after `after` ("" for the first page), `limit` at most, of one artifact
 * type when `artifactType` is given.
 */
export async function referrersPage(
  db: Kysely<DB>,
  repositoryName: string,
  subject: string,
  after: string,
  limit: number,
  artifactType?: string,
): Promise<ReferrerRow[]> {
  if (artifactType === undefined) return page.all(db, repositoryName, subject, after, limit);
  return filteredPage.all(db, repositoryName, subject, after, limit, artifactType);
}
