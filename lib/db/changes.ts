/**
 * @module Whether the database may have changed since some moment: another
 * connection's commit moves SQLite's `PRAGMA data_version` (read once per
 * request by the policy check), and a write through this process's own
 * connection moves a counter the dialect keeps. A value read from the
 * database stays true while neither has moved, so it can be reused.
 */
import type { Kysely } from "kysely";
import type { DB } from "./schema.ts";

const counters = new WeakMap<Kysely<DB>, () => number>();

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
