/**
 * @module Queries on repositories.
 */
import type { Kysely } from "kysely";
import { prepared } from "../prepared.ts";
import type { DB } from "../schema.ts";

/** The id of repository `name` as a subquery, for lookups by repository name (null when there is none). */
export function repositoryIdOf(db: Kysely<DB>, name: string) {
  return db.selectFrom("repositories").select("id").where("name", "=", name);
}

const repositoryId = prepared((db, name: string) => repositoryIdOf(db, name));

/** The id of repository `name`, or null when it has never been pushed to. */
export async function findRepositoryId(db: Kysely<DB>, name: string): Promise<number | null> {
  return (await repositoryId.first(db, name))?.id ?? null;
}

const upsert = prepared((db, name: string, now: number) =>
  db
    .insertInto("repositories")
    .values({ name, created_at: now })
    .onConflict((oc) => oc.column("name").doUpdateSet({ name }))
    .returning("id"),
);

/** The id of repository `name`, creating it when absent. */
export async function upsertRepository(db: Kysely<DB>, name: string, now: number): Promise<number> {
  const row = await upsert.first(db, name, now);
  if (!row) throw new Error(`upsert of repository ${name} returned no id`);
  return row.id;
}

const firstNames = prepared((db, limit: number) => db.selectFrom("repositories").select("name").orderBy("name").limit(limit));
const namesAfter = prepared((db, limit: number, last: string) =>
  db.selectFrom("repositories").select("name").where("name", ">", last).orderBy("name").limit(limit),
);

/** Repository names in lexical order, `limit` of them after `last`. */
export async function listRepositoryNames(db: Kysely<DB>, limit: number, last?: string): Promise<string[]> {
  const rows = last === undefined ? await firstNames.all(db, limit) : await namesAfter.all(db, limit, last);
  return rows.map((r) => r.name);
}
