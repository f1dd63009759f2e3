/**
 * @module Runs pending migrations at start, each in its own transaction,
 * recording the schema version in `meta`. The same migrations run on
 * SQLite and PostgreSQL (see postgres-translate.ts for the types).
 */
import { sql, type Kysely } from "kysely";
import { isPostgres } from "./dialect.ts";
import { migrations, type Migration } from "./migrations/index.ts";

/** Applies every migration newer than the stored schema version; returns the new version. */
export async function migrate(db: Kysely<any>, list: readonly Migration[] = migrations): Promise<number> {
  const current = await schemaVersion(db);
  if (current > list.length) {
    throw new Error(
      `database schema version ${current} is newer than this mcr (${list.length}); upgrade mcr`,
    );
  }
  for (let version = current + 1; version <= list.length; version++) {
    const migration = list[version - 1]!;
    await db.transaction().execute(async (trx) => {
      // Another process starting at the same time (several workers) may have applied it meanwhile:
      // the transaction holds the write lock, so this second look is final.
      if ((await schemaVersion(trx)) >= version) return;
      await migration.up(trx);
      await sql`insert into meta (key, value) values ('schema_version', ${String(version)})
                on conflict (key) do update set value = excluded.value`.execute(trx);
    });
  }
  return list.length;
}

/** The schema version recorded in `meta`, or 0 for an empty database. */
export async function schemaVersion(db: Kysely<any>): Promise<number> {
  // One look at the catalog for `meta` where unqualified names resolve (PostgreSQL's search path), not an
  // introspection of every table of every schema.
  const found = isPostgres(db)
    ? await sql<{ name: string | null }>`select to_regclass('meta')::text as name`.execute(db)
    : await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name = 'meta'`.execute(db);
  if ((found.rows[0]?.name ?? null) === null) return 0;
  const row = await sql<{ value: string }>`select value from meta where key = 'schema_version'`.execute(db);
  return Number(row.rows[0]?.value ?? 0);
}
