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

/** Opens (creating with mode 0600 if needed) the SQLite database at `path`; the caller migrates. */
export function openSqlite(path: string, options: DatabaseOptions = {}): DatabaseHandle {
  mkdirSync(dirname(path), { recursive: true });
  if (!existsSync(path)) closeSync(openSync(path, "a", 0o600));
  chmodSync(path, 0o600);
  const sqlite = new Database(path, { create: true, strict: true });
  sqlite.exec("pragma journal_mode = wal");
  sqlite.exec(`pragma busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 10_000))}`);
  sqlite.exec("pragma foreign_keys = on");
  sqlite.exec("pragma synchronous = normal");
  if (options.checkpointPages !== undefined) sqlite.exec(`pragma wal_autocheckpoint = ${Math.max(1, Math.floor(options.checkpointPages))}`);
  const dialect = new BunSqliteDialect(sqlite);
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
