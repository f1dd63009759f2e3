/**
 * @module Opens the registry's database, SQLite or PostgreSQL, chosen once
 * from its address: a `postgres://` URL or a file path. Everything above
 * sees a Kysely<DB> and the functions of lib/db, never which one it has.
 */
import type { Kysely } from "kysely";
import { migrate } from "./migrate.ts";
import { openPostgres } from "./postgres-connection.ts";
import { openReadonlySqlite, openSqlite } from "./sqlite-connection.ts";
import type { DB } from "./schema.ts";

/** An open database: the Kysely handle and a way to close it. */
export interface DatabaseHandle {
  db: Kysely<DB>;
  /** Which database it is: for messages and for `mcr db migrate`, not for choosing SQL (that stays in lib/db). */
  kind: "sqlite" | "postgres";
  close(): Promise<void>;
}

/** How to open the database. */
export interface DatabaseOptions {
  /** How long a statement waits, in all, for another connection's lock before it fails (default 10 s). */
  busyTimeoutMs?: number;
  /**
   * SQLite: WAL pages after which a commit checkpoints (SQLite's default: 1,000).
   * The server sets 10,000: each checkpoint copies the pages changed since
   * the last one and fsyncs twice, on the request thread, and under a
   * stream of pushes most of those pages are the same few index pages, so
   * checkpointing a tenth as often does about a tenth of the work. The WAL
   * then grows to about 40 MB before it starts over.
   */
  checkpointPages?: number;
  /** PostgreSQL: the password, when the URL has none (see lib/config: from the environment or a file). */
  password?: string;
  /** PostgreSQL: most connections this process opens (default 10). */
  maxConnections?: number;
}

/** Whether `target` names a PostgreSQL database rather than a SQLite file. */
export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

/** Opens and migrates the database at `target`: a `postgres://` URL, else a SQLite file path (created with mode 0600). */
export async function openDatabase(target: string, options: DatabaseOptions = {}): Promise<DatabaseHandle> {
  const handle = isPostgresUrl(target) ? await openPostgres(target, options) : openSqlite(target, options);
  try {
    await migrate(handle.db);
  } catch (error) {
    await handle.close();
    throw error;
  }
  return handle;
}

/**
 * Opens a SQLite database file read-only, as it is (no migrations, nothing
 * written): a backup's snapshot, for listing what it holds.
 */
export function openReadonlyDatabase(path: string): DatabaseHandle {
  return openReadonlySqlite(path);
}
