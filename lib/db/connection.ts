/**
 * @module The one place that opens SQLite: the file, its mode and pragmas.
 * Everything else sees a Kysely<DB> and does not know it is SQLite.
 */
import { Database } from "bun:sqlite";
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { Kysely } from "kysely";
import { BunSqliteDialect } from "./bun-sqlite-dialect.ts";
import { migrate } from "./migrate.ts";
import { registerWriteCounter } from "./changes.ts";
import { registerDirectRunner } from "./prepared.ts";
import type { DB } from "./schema.ts";

/** An open database: the Kysely handle and a way to close it. */
export interface DatabaseHandle {
  db: Kysely<DB>;
  close(): Promise<void>;
}

/** How to open the database. */
export interface DatabaseOptions {
  /** How long a statement waits, in all, for another connection's lock before it fails (default 10 s). */
  busyTimeoutMs?: number;
  /**
   * WAL pages after which a commit checkpoints (SQLite's default: 1,000).
   * The server sets 10,000: each checkpoint copies the pages changed since
   * the last one and fsyncs twice, on the request thread, and under a
   * stream of pushes most of those pages are the same few index pages, so
   * checkpointing a tenth as often does about a tenth of the work. The WAL
   * then grows to about 40 MB before it starts over.
   */
  checkpointPages?: number;
}

/**
 * How long SQLite itself may wait for a lock, blocking the thread: bun:sqlite
 * is synchronous, so this stalls every request of the process. A lock held
 * for less is waited out here; beyond it the dialect waits asynchronously
 * (up to `busyTimeoutMs`). Before, SQLite waited it all: `mcr gc` beside
 * the server stalled it up to 339 ms, gc and backup together 2.4 s
 * (bench/busy-wait.ts).
 */
const BLOCKING_WAIT_MS = 2;

/** Opens (creating with mode 0600 if needed) and migrates the database at `path`. */
export async function openDatabase(path: string, options: DatabaseOptions = {}): Promise<DatabaseHandle> {
  mkdirSync(dirname(path), { recursive: true });
  if (!existsSync(path)) closeSync(openSync(path, "a", 0o600));
  chmodSync(path, 0o600);
  const sqlite = new Database(path, { create: true, strict: true });
  sqlite.exec("pragma journal_mode = wal");
  const busyTimeoutMs = Math.max(0, Math.floor(options.busyTimeoutMs ?? 10_000));
  sqlite.exec(`pragma busy_timeout = ${Math.min(busyTimeoutMs, BLOCKING_WAIT_MS)}`);
  sqlite.exec("pragma foreign_keys = on");
  sqlite.exec("pragma synchronous = normal");
  if (options.checkpointPages !== undefined) sqlite.exec(`pragma wal_autocheckpoint = ${Math.max(1, Math.floor(options.checkpointPages))}`);
  const dialect = new BunSqliteDialect(sqlite, { busyTimeoutMs });
  const db = new Kysely<DB>({ dialect });
  registerDirectRunner(db, (sql, parameters) => dialect.runNow(sql, parameters));
  registerWriteCounter(db, () => dialect.writes());
  await migrate(db);
  return {
    db,
    async close() {
      await db.destroy();
      sqlite.close();
    },
  };
}

/**
 * Opens a database file read-only, as it is (no migrations, nothing
 * written): a backup's snapshot, for listing what it holds.
 */
export function openReadonlyDatabase(path: string): DatabaseHandle {
  const sqlite = new Database(path, { readonly: true, strict: true });
  const db = new Kysely<DB>({ dialect: new BunSqliteDialect(sqlite) });
  return {
    db,
    async close() {
      await db.destroy();
      sqlite.close();
    },
  };
}
