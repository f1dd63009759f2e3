/**
 * @module Queries on how much storage a repository uses: the bytes of the
 * distinct blobs it may serve (each counted once, shared or not).
 */
import type { Kysely } from "kysely";
import type { DB } from "../schema.ts";

/** Bytes of the blobs repository `repositoryName` may serve; 0 for a repository that does not exist. */
export async function repositoryBytes(db: Kysely<DB>, repositoryName: string): Promise<number> {
  const row = await db
    .selectFrom("repository_blobs as rb")
    .innerJoin("repositories as r", "r.id", "rb.repository_id")
    .innerJoin("blobs as b", "b.digest", "rb.digest")
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>("b.size"), eb.lit(0)).as("bytes"))
    .where("r.name", "=", repositoryName)
    .executeTakeFirst();
  return Number(row?.bytes ?? 0);
}
