/**
 * @module Which database a Kysely handle (or one of its transactions) runs
 * on, for the few places inside lib/db whose SQL cannot be shared. Nothing
 * outside lib/db asks.
 */
import { PostgresAdapter, type Kysely } from "kysely";

/** Whether `db` runs on PostgreSQL (else SQLite). */
export function isPostgres(db: Kysely<any>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}
