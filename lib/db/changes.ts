/**
 * @module Whether the database may have changed since some moment: a
 * number the database moves when others commit (SQLite's `PRAGMA
 * data_version`; on PostgreSQL, the transaction snapshot: see
 * postgres-connection.ts), read once per request by the policy check, and
 * for SQLite a counter of this process's own writes, which data_version
 * does not count. A value read from the database stays true while neither
 * has moved, so it can be reused.
 */
import type { Kysely } from "kysely";
import type { DB } from "./schema.ts";

const counters = new WeakMap<Kysely<DB>, () => number>();
const readers = new WeakMap<Kysely<DB>, () => Promise<number>>();

/** Tells `changeVersion` how to read `db`'s change number (set once, by the file that opens it). */
export function registerChangeReader(db: Kysely<DB>, read: () => Promise<number>): void {
  readers.set(db, read);
}

/** The database's change number now: it moves whenever another connection commits (0 for an unknown db). */
export async function changeVersion(db: Kysely<DB>): Promise<number> {
  return (await readers.get(db)?.()) ?? 0;
}

/** Tells `localWrites` how to count the statements that may have written through `db`. */
export function registerWriteCounter(db: Kysely<DB>, count: () => number): void {
  counters.set(db, count);
}

/** Statements that may have written through `db` so far (never less than the truth; 0 for an unknown db). */
export function localWrites(db: Kysely<DB>): number {
  return counters.get(db)?.() ?? 0;
}

/** A stamp of "the database as of now" given the data_version just read: equal stamps mean nothing changed in between. */
export function changeStamp(db: Kysely<DB>, dataVersion: number): string {
  return `${dataVersion}:${localWrites(db)}`;
}
