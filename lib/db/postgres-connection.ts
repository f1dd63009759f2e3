/**
 * @module The one place that opens PostgreSQL: a Bun.SQL pool on the
 * configured URL, the Kysely dialect over it, and the change stamp the
 * policy and account caches read on every request (see changes.ts).
 */
import { SQL } from "bun";
import { CompiledQuery, Kysely } from "kysely";
import { registerChangeReader } from "./changes.ts";
import type { DatabaseHandle, DatabaseOptions } from "./connection.ts";
import { PostgresDialect } from "./postgres-dialect.ts";
import type { DB } from "./schema.ts";

/**
 * The transaction snapshot ("xmin:xmax:in-progress ids") read in one
 * statement: it differs from the last one read whenever a transaction has
 * committed in between (its id left the in-progress list or is past the
 * old xmax), and, unlike a WAL position, it moves exactly when the commit
 * becomes visible, so a value read after it is never older than it says.
 */
const SNAPSHOT = CompiledQuery.raw("select pg_current_snapshot()::text as s");

/** Opens a pool on the PostgreSQL database at `url`; the caller migrates. Nothing connects until the first query. */
export async function openPostgres(url: string, options: DatabaseOptions = {}): Promise<DatabaseHandle> {
  const pool = new SQL({
    url,
    ...(options.password !== undefined ? { password: options.password } : {}),
    max: options.maxConnections ?? 10,
    idleTimeout: 60,
    connectionTimeout: 10,
    // Every statement waits at most this long for a lock, as SQLite's busy_timeout does.
    connection: { lock_timeout: Math.max(0, Math.floor(options.busyTimeoutMs ?? 10_000)), application_name: "mcr" },
  });
  const db = new Kysely<DB>({ dialect: new PostgresDialect(pool) });
  // Snapshots as small increasing numbers: equal numbers mean the same snapshot, which is what the stamp's readers compare.
  let last = "";
  let counter = 0;
  registerChangeReader(db, async () => {
    const text = String((await db.executeQuery<{ s: string }>(SNAPSHOT)).rows[0]?.s ?? "");
    if (text !== last) {
      last = text;
      counter++;
    }
    return counter;
  });
  return {
    db,
    kind: "postgres",
    async close() {
      await db.destroy();
    },
  };
}
