/**
 * @module Queries on repositories.
 */
import type { Kysely } from "kysely";
import type { DB } from "../schema.ts";

/** The id of repository `name`, or null when it has never been pushed to. */
export async function findRepositoryId(db: Kysely<DB>, name: string): Promise<number | null> {
  const row = await db.selectFrom("repositories").select("id").where("name", "=", name).executeTakeFirst();
  return row?.id ?? null;
}

/** The id of repository `name`, creating it when absent. */
export async function upsertRepository(db: Kysely<DB>, name: string, now: number): Promise<number> {
  const row = await db
    .insertInto("repositories")
    .values({ name, created_at: now })
    .onConflict((oc) => oc.column("name").doUpdateSet({ name }))
    .returning("id")
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Repository names in lexical order, `limit` of them after `last`. */
export async function listRepositoryNames(db: Kysely<DB>, limit: number, last?: string): Promise<string[]> {
  let query = db.selectFrom("repositories").select("name").orderBy("name").limit(limit);
  if (last !== undefined) query = query.where("name", ">", last);
  return (await query.execute()).map((r) => r.name);
}
