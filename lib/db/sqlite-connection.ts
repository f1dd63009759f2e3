/**
 * @module The one place that opens SQLite: the file, its mode and pragmas,
 * and the hooks the layers above use without knowing it is SQLite (the
 * direct runner of prepared queries, the change stamp).
 */
import { Database } from "bun:sqlite";
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { Kysely, sql } from "kysely";
import { BunSqliteDialect } from "./sqlite-dialect.ts";
import { registerChangeReader, registerWriteCounter } from "./changes.ts";
import { registerDirectRunner, prepared } from "./prepared.ts";
import type { DatabaseHandle, DatabaseOptions } from "./connection.ts";
import type { DB } from "./schema.ts";

const pragmaDataVersion = prepared((_db) => sql<{ data_version: number }>`pragma data_version`);

/**
 * How long SQLite itself may wait for a lock, blocking the thread: bun:sqlite
 * is synchronous, so this stalls every request of the process. A lock held
 * for less is waited out here; beyond it the dialect waits asynchronously
 * (up to `busyTimeoutMs`). Before, SQLite waited it all: `mcr gc` beside
 * the server stalled it up to 339 ms, gc and backup together 2.4 s
 * (bench/busy-wait.ts).
 */
const BLOCKING_WAIT_MS = 2;

/** Opens (creating with mode 0600 if needed) the SQLite database at `path`; the caller migrates. */
export function openSqlite(path: string, options: DatabaseOptions = {}): DatabaseHandle {
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
  registerDirectRunner(db, (text, parameters) => dialect.runNow(text, parameters));
  registerWriteCounter(db, () => dialect.writes());
  // Another connection's commit moves data_version; this connection's own writes are counted apart.
  registerChangeReader(db, async () => (await pragmaDataVersion.first(db))?.data_version ?? 0);
  return {
    db,
    kind: "sqlite",
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
export function openReadonlySqlite(path: string): DatabaseHandle {
  const sqlite = new Database(path, { readonly: true, strict: true });
  const db = new Kysely<DB>({ dialect: new BunSqliteDialect(sqlite) });
  return {
    db,
    kind: "sqlite",
    async close() {
      await db.destroy();
      sqlite.close();
    },
  };
}
