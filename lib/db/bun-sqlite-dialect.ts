/**
 * @module A Kysely dialect over bun:sqlite: Kysely's own SQLite adapter,
 * compiler and introspector, with a driver that runs statements on one
 * bun:sqlite handle. Write transactions start with BEGIN IMMEDIATE, so a
 * transaction waits for another process's write lock (`mcr gc`) before it
 * does anything. bun:sqlite is synchronous: SQLite's own busy wait would
 * stop the whole event loop (every request, not just the waiting one), so
 * the connection's busy_timeout is kept to a few ms and the rest of the
 * wait is asynchronous, with the connection handed to other users (reads
 * go on) until the lock is free or `busyTimeoutMs` has passed.
 */
import type { Database, SQLQueryBindings, Statement } from "bun:sqlite";
import {
  CompiledQuery,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
} from "kysely";
import { RegistryError } from "../errors.ts";

/** Kysely dialect that runs every query on the given bun:sqlite handle. */
export class BunSqliteDialect implements Dialect {
  private driver: BunSqliteDriver | null = null;
  /** `busyTimeoutMs`: how long a statement waits, in all, for another connection's lock before UNAVAILABLE. */
  constructor(
    private readonly sqlite: Database,
    private readonly options: { busyTimeoutMs?: number } = {},
  ) {}
  createAdapter(): DialectAdapter {
    return new SqliteAdapter();
  }
  createDriver(): Driver {
    this.driver = new BunSqliteDriver(this.sqlite, this.options.busyTimeoutMs ?? 10_000);
    return this.driver;
  }
  /**
   * Runs one statement now, skipping Kysely's executor, when nothing holds
   * the connection (no transaction open or waiting); null when something
   * does, and the statement must queue like any other.
   */
  runNow(sql: string, parameters: readonly unknown[]): unknown[] | null {
    return this.driver?.runNow(sql, parameters) ?? null;
  }
  /** Statements run so far that may have written (see lib/db/changes.ts). */
  writes(): number {
    return this.driver?.writes() ?? 0;
  }
  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }
  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}

/** Whether SQLite answered that another connection holds a lock this statement needs. */
function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_BUSY");
}

/** Milliseconds to wait before try `attempt` (from 0) at a lock: soon at first, then every 20 ms. */
function backoff(attempt: number): number {
  return Math.min(20, 2 ** attempt);
}

/** SQLite's answers that are about the machine, not the query, as the domain errors callers handle. */
function environmentError(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "SQLITE_FULL") {
    return new RegistryError("INSUFFICIENT_STORAGE", "the registry is out of disk space", { sqlite: code });
  }
  // Another process (GC, an admin command) kept the write lock for longer than busy_timeout.
  if (typeof code === "string" && code.startsWith("SQLITE_BUSY")) {
    return new RegistryError("UNAVAILABLE", "the database is busy with another process; retry shortly", { sqlite: code, retryAfter: 1 });
  }
  return error;
}

class BunSqliteDriver implements Driver {
  private readonly connection: BunSqliteConnection;
  // One handle, so one user at a time: a transaction owns it until it ends.
  private queue: Promise<void> = Promise.resolve();
  /** Users holding or waiting for the connection. */
  private holders = 0;

  constructor(sqlite: Database, busyTimeoutMs: number) {
    this.connection = new BunSqliteConnection(sqlite, busyTimeoutMs, (ms) => this.pause(ms));
  }
  async init(): Promise<void> {}
  runNow(sql: string, parameters: readonly unknown[]): unknown[] | null {
    return this.holders === 0 ? this.connection.runNow(sql, parameters) : null;
  }
  writes(): number {
    return this.connection.writes;
  }
  async acquireConnection(): Promise<DatabaseConnection> {
    await this.enter();
    return this.connection;
  }
  /** Takes the connection when those before have let go of it. */
  private async enter(): Promise<void> {
    this.holders++;
    let release!: () => void;
    const previous = this.queue;
    this.queue = new Promise((resolve) => (release = resolve));
    await previous;
    this.connection.release = release;
  }
  /**
   * Lets go of the connection for `ms` while a statement waits for a lock,
   * then takes it back: those queued meanwhile (reads, which WAL never
   * makes wait) run in the gap. Only ever called outside a transaction.
   */
  private async pause(ms: number): Promise<void> {
    this.holders--;
    this.connection.release();
    await Bun.sleep(ms);
    await this.enter();
  }
  async beginTransaction(conn: DatabaseConnection): Promise<void> {
    await conn.executeQuery(CompiledQuery.raw("begin immediate"));
  }
  async commitTransaction(conn: DatabaseConnection): Promise<void> {
    await conn.executeQuery(CompiledQuery.raw("commit"));
  }
  async rollbackTransaction(conn: DatabaseConnection): Promise<void> {
    // SQLite rolls back on its own after some errors (a full disk, for one); a second rollback would
    // fail with "no transaction is active" and hide the error that matters.
    if (this.connection.inTransaction) await conn.executeQuery(CompiledQuery.raw("rollback"));
  }
  async releaseConnection(): Promise<void> {
    this.holders--;
    this.connection.release();
  }
  async destroy(): Promise<void> {}
}

/** Statements that cannot write: anything else counts as a write (a few too many is harmless). */
const READ_ONLY = /^\s*(select|pragma\s+(data_version|wal_autocheckpoint|busy_timeout|journal_mode|foreign_keys|user_version|table_info|index_list)\s*$|explain)\b/i;

/** Most distinct statements kept prepared; past it the cache starts over (SQL from IN lists varies in length). */
const MAX_STATEMENTS = 500;

class BunSqliteConnection implements DatabaseConnection {
  release: () => void = () => {};
  /** Prepared statements by SQL, with whether they return rows (asking bun:sqlite each time costs) and may write. */
  private readonly statements = new Map<string, { stmt: Statement; reader: boolean; writer: boolean }>();
  /** Statements run that may have written. */
  writes = 0;
  constructor(
    private readonly sqlite: Database,
    private readonly busyTimeoutMs: number,
    private readonly pause: (ms: number) => Promise<void>,
  ) {}

  get inTransaction(): boolean {
    return this.sqlite.inTransaction;
  }

  private prepare(sql: string): { stmt: Statement; reader: boolean; writer: boolean } {
    let entry = this.statements.get(sql);
    if (!entry) {
      if (this.statements.size >= MAX_STATEMENTS) this.statements.clear();
      const stmt = this.sqlite.query(sql);
      entry = { stmt, reader: stmt.columnNames.length > 0, writer: !READ_ONLY.test(sql) };
      this.statements.set(sql, entry);
    }
    return entry;
  }

  /**
   * Runs a statement synchronously: rows when it returns any, else an
   * empty list; null when it must wait for a lock, which it can only do
   * asynchronously (through executeQuery).
   */
  runNow(sql: string, parameters: readonly unknown[]): unknown[] | null {
    try {
      const { stmt, reader, writer } = this.prepare(sql);
      if (writer) this.writes++;
      const params = parameters as SQLQueryBindings[];
      if (reader) return stmt.all(...params);
      stmt.run(...params);
      return [];
    } catch (error) {
      if (isBusy(error) && !this.sqlite.inTransaction) return null;
      throw environmentError(error);
    }
  }

  /**
   * Runs a statement; one that finds another connection holding the lock
   * it needs (a BEGIN IMMEDIATE, or a statement outside a transaction:
   * either did nothing yet) is tried again, waiting without the event loop
   * and without the connection, until `busyTimeoutMs` has passed.
   */
  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    let waitingSince: number | null = null;
    for (let attempt = 0; ; attempt++) {
      try {
        return this.run<R>(compiled);
      } catch (error) {
        // Inside a transaction the write lock is already held: SQLITE_BUSY there is not a wait for it.
        if (!isBusy(error) || this.sqlite.inTransaction) throw environmentError(error);
        waitingSince ??= performance.now();
        const left = this.busyTimeoutMs - (performance.now() - waitingSince);
        if (left <= 0) throw environmentError(error);
        await this.pause(Math.min(left, backoff(attempt)));
      }
    }
  }

  private run<R>(compiled: CompiledQuery): QueryResult<R> {
    const { stmt, reader, writer } = this.prepare(compiled.sql);
    if (writer) this.writes++;
    const params = compiled.parameters as SQLQueryBindings[];
    if (reader) return { rows: stmt.all(...params) as R[] };
    const result = stmt.run(...params);
    return {
      rows: [],
      numAffectedRows: BigInt(result.changes),
      insertId: BigInt(result.lastInsertRowid),
    };
  }

  async *streamQuery<R>(compiled: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    if (!READ_ONLY.test(compiled.sql)) this.writes++;
    const stmt = this.sqlite.query(compiled.sql);
    for (const row of stmt.iterate(...(compiled.parameters as SQLQueryBindings[]))) {
      yield { rows: [row as R] };
    }
  }
}
