/**
 * @module Hot queries compiled once. Building and compiling a Kysely query
 * costs more than running it (a three-table lookup: ~50 µs against ~17 µs
 * in SQLite), and the small requests a registry answers most (HEAD blob,
 * GET manifest, tags list, the auth checks) run a few each. A prepared
 * query is built once with placeholder arguments; after that each call only
 * fills in the parameters and runs the SQL: straight on the connection
 * when nothing holds it, else through Kysely's executor, so it still waits
 * behind a transaction and works inside one.
 */
import { CompiledQuery, type Compilable, type Kysely, type RawBuilder } from "kysely";
import type { DB } from "./schema.ts";

const MARK = "\u0000mcr-arg-";

/** Runs a statement at once when the database is free, else returns null (see BunSqliteDialect.runNow). */
export type DirectRunner = (sql: string, parameters: readonly unknown[]) => unknown[] | null;

const direct = new WeakMap<Kysely<DB>, DirectRunner>();

/**
 * Lets prepared queries on `db` (not on its transactions, which are other
 * Kysely instances) skip Kysely's executor when nothing holds the connection.
 */
export function registerDirectRunner(db: Kysely<DB>, run: DirectRunner): void {
  direct.set(db, run);
}

/** How to fill one parameter slot: from call argument `arg`, or a constant of the query. */
type Slot = { arg: number } | { value: unknown };

/**
 * A query whose SQL does not depend on its arguments' values (only on
 * their positions): `build` must put each argument into the query as a
 * plain value (where, limit, set...), never into its shape. Queries whose
 * shape varies (optional clauses, IN lists) need one prepared query per
 * shape, or the builder.
 */
export function prepared<A extends unknown[], R>(build: (db: Kysely<DB>, ...args: A) => Compilable<R> | RawBuilder<R>) {
  // One compiled form per dialect (SQLite's `?` and PostgreSQL's `$1` differ), keyed by the adapter's class:
  // a process may hold both (`mcr db migrate`, the tests).
  const compiledFor = new Map<unknown, { template: CompiledQuery<R>; slots: Slot[] }>();
  const compile = (db: Kysely<DB>) => {
    const marks = Array.from({ length: build.length - 1 }, (_, i) => `${MARK}${i}`) as unknown as A;
    // A raw `sql` query compiles against a db; a builder ignores the argument.
    const query = (build(db, ...marks) as RawBuilder<R>).compile(db);
    const slots = query.parameters.map((value): Slot => {
      if (typeof value === "string" && value.startsWith(MARK)) return { arg: Number(value.slice(MARK.length)) };
      return { value };
    });
    // Reused for every call with its own parameters: building a CompiledQuery freezes a new node each time.
    return { template: CompiledQuery.raw(query.sql, []) as CompiledQuery<R>, slots };
  };
  /** The rows, straight from the connection when it is free, else a promise of them from the executor. */
  const run = (db: Kysely<DB>, args: A): R[] | Promise<R[]> => {
    const dialect = db.getExecutor().adapter.constructor;
    let compiled = compiledFor.get(dialect);
    if (!compiled) compiledFor.set(dialect, (compiled = compile(db)));
    const parameters = compiled.slots.map((slot) => ("arg" in slot ? args[slot.arg] : slot.value));
    const rows = direct.get(db)?.(compiled.template.sql, parameters);
    if (rows) return rows as R[];
    return db.executeQuery<R>({ ...compiled.template, parameters }).then((result) => result.rows);
  };
  return {
    /** Every row the query returns. */
    async all(db: Kysely<DB>, ...args: A): Promise<R[]> {
      return run(db, args);
    },
    /** The first row, or undefined. */
    async first(db: Kysely<DB>, ...args: A): Promise<R | undefined> {
      return (await run(db, args))[0];
    },
  };
}
