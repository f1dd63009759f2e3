/**
 * @module Copies every row of one registry database into another, SQLite
 * or PostgreSQL either way, and proves the copy: the same count and the
 * same SHA-256 over each table's rows read back in key order from both
 * sides. `mcr db migrate` moves a single-box registry to PostgreSQL with
 * it, and a backup of a PostgreSQL registry is a SQLite snapshot made
 * with it. The source is read in one transaction (a snapshot), the
 * destination written in one, so a failed copy leaves it as it was.
 */
import { createHash } from "node:crypto";
import { sql, type Kysely } from "kysely";
import { fail } from "../errors.ts";
import { openDatabase } from "./connection.ts";
import { isPostgres } from "./dialect.ts";
import { schemaVersion } from "./migrate.ts";
import type { DB } from "./schema.ts";

/**
 * Tables in an order rows can be inserted in (what a row references comes
 * first), each with the columns that order its rows (its primary key).
 * Tables added later and not listed here are copied last, ordered by all
 * their columns.
 */
const TABLES: readonly (readonly [string, readonly string[]])[] = [
  ["meta", ["key"]],
  ["repositories", ["id"]],
  ["blobs", ["digest"]],
  ["repository_blobs", ["repository_id", "digest"]],
  ["manifests", ["id"]],
  ["manifest_blobs", ["manifest_id", "digest"]],
  ["manifest_children", ["manifest_id", "child_id"]],
  ["referrers", ["manifest_id"]],
  ["tags", ["repository_id", "name"]],
  ["uploads", ["id"]],
  ["users", ["id"]],
  ["access_tokens", ["id"]],
  ["audit_events", ["id"]],
  ["policy_rules", ["id"]],
  ["gc_runs", ["id"]],
  ["gc_lock", ["name"]],
  ["gc_claims", ["digest"]],
  ["retention_rules", ["id"]],
  ["manifest_pulls", ["manifest_id"]],
  ["mirror_repositories", ["repository_id"]],
  ["mirror_tags", ["repository_id", "tag"]],
  ["mirror_pending", ["manifest_id", "digest"]],
  ["login_pairs", ["account", "client"]],
  ["login_counters", ["scope", "key"]],
];

/** Tables the migrations fill in an empty database (the default policy, the versions): replaced by the source's. */
const SEEDED = new Set(["meta", "policy_rules"]);

/** Parameters per insert, under SQLite's limit of 32,766. */
const MAX_PARAMETERS = 8000;
/** Rows per page of manifests, whose content may be megabytes each. */
const MANIFEST_PAGE = 32;

/** One table's outcome. */
export interface TableCopy {
  table: string;
  rows: number;
  /** SHA-256 of the rows in key order, the same read from both sides. */
  sha256: string;
}

/** What a copy did. */
export interface CopyReport {
  schemaVersion: number;
  tables: TableCopy[];
}

interface TableShape {
  name: string;
  columns: string[];
  keys: string[];
}

/** The tables to copy with their columns, as the source has them. */
async function shapes(db: Kysely<any>): Promise<TableShape[]> {
  const found = (await db.introspection.getTables()).filter((t) => !t.isView && !t.name.startsWith("sqlite_") && !t.name.startsWith("kysely_"));
  const byName = new Map(found.map((t) => [t.name, t.columns.map((c) => c.name)]));
  const listed: TableShape[] = TABLES.filter(([name]) => byName.has(name)).map(([name, keys]) => ({ name, columns: byName.get(name)!, keys: [...keys] }));
  const known = new Set(TABLES.map(([name]) => name));
  const extra = found.filter((t) => !known.has(t.name)).map((t) => ({ name: t.name, columns: byName.get(t.name)!, keys: byName.get(t.name)! }));
  return [...listed, ...extra];
}

/** Pages of a table's rows in key order. */
async function* pages(db: Kysely<any>, shape: TableShape): AsyncGenerator<Record<string, unknown>[]> {
  const size = shape.name === "manifests" ? MANIFEST_PAGE : Math.max(1, Math.min(1000, Math.floor(MAX_PARAMETERS / shape.columns.length)));
  const keys = sql.join(shape.keys.map((k) => sql.ref(k)));
  const columns = sql.join(shape.columns.map((c) => sql.ref(c)));
  let after: unknown[] | null = null;
  for (;;) {
    const where: ReturnType<typeof sql> = after === null ? sql`` : sql`where (${keys}) > (${sql.join(after)})`;
    const { rows } = await sql<Record<string, unknown>>`select ${columns} from ${sql.table(shape.name)} ${where} order by ${keys} limit ${size}`.execute(db);
    if (rows.length > 0) yield rows;
    if (rows.length < size) return;
    const last = rows[rows.length - 1]!;
    after = shape.keys.map((k) => last[k]);
  }
}

/** A value as the row hash sees it: the same whichever database it came from. */
function canonical(value: unknown): string {
  if (value === null || value === undefined) return "n";
  if (value instanceof Uint8Array) return `b${Buffer.from(value).toString("hex")}`;
  if (typeof value === "bigint" || typeof value === "number") return `i${String(value)}`;
  return `s${JSON.stringify(value)}`;
}

/** Counts and hashes a table's rows as they are given, in key order. */
class TableDigest {
  private readonly hash = createHash("sha256");
  private rows = 0;

  constructor(private readonly shape: TableShape) {}

  add(page: readonly Record<string, unknown>[]): void {
    for (const row of page) {
      this.hash.update(this.shape.columns.map((c) => canonical(row[c])).join("\u0001"));
      this.hash.update("\u0002");
      this.rows++;
    }
  }

  result(): { rows: number; sha256: string } {
    return { rows: this.rows, sha256: this.hash.digest("hex") };
  }
}

/** The count and hash of a table's rows, in key order. */
async function digestTable(db: Kysely<any>, shape: TableShape): Promise<{ rows: number; sha256: string }> {
  const digest = new TableDigest(shape);
  for await (const page of pages(db, shape)) digest.add(page);
  return digest.result();
}

/**
 * Copies every row of `from` into `to` (both migrated to the same schema
 * version; `to` holding no registry yet) and verifies the copy. Throws
 * ALREADY_EXISTS when `to` holds data, CONFLICT on differing schemas,
 * and a plain Error when the copy reads back different.
 */
export async function copyDatabase(from: Kysely<DB>, to: Kysely<DB>): Promise<CopyReport> {
  const source = from as Kysely<any>;
  const target = to as Kysely<any>;
  const version = await schemaVersion(source);
  const theirs = await schemaVersion(target);
  if (version !== theirs) fail("CONFLICT", `the databases are at schema versions ${version} and ${theirs}; open both with this mcr first`);
  const tables = await shapes(source);
  const targetTables = new Set((await shapes(target)).map((t) => t.name));
  // Identity columns (PostgreSQL), whose sequences must start past the copied ids.
  const identities = new Set(
    (await target.introspection.getTables()).filter((t) => t.columns.some((c) => c.name === "id" && c.isAutoIncrementing)).map((t) => t.name),
  );
  for (const t of tables) {
    if (!targetTables.has(t.name)) fail("CONFLICT", `the destination has no table ${t.name}`);
    if (SEEDED.has(t.name)) continue;
    const row = await sql<{ n: number }>`select count(*) as n from ${sql.table(t.name)}`.execute(target);
    if (Number(row.rows[0]?.n ?? 0) > 0) fail("ALREADY_EXISTS", `the destination already holds data (table ${t.name}); copy into a new, empty database`);
  }

  // A snapshot of the source: on PostgreSQL a read-only repeatable-read transaction, on SQLite its write lock. The
  // check below reads the same snapshot: a registry that keeps serving (a backup) changes meanwhile.
  return source.transaction().setAccessMode("read only").setIsolationLevel("repeatable read").execute(async (src) => {
    // The source's rows are hashed as they are copied (one read of the snapshot), the destination's read back.
    const sourceDigests = new Map<string, { rows: number; sha256: string }>();
    await target.transaction().execute(async (dst) => {
      // SQLite checks foreign keys per statement unless told to wait for the commit (tokens reference
      // their parent token in the same table); PostgreSQL's are created deferred (postgres-translate.ts).
      if (!isPostgres(dst)) await sql`pragma defer_foreign_keys = on`.execute(dst);
      for (const t of tables) {
        if (SEEDED.has(t.name)) await dst.deleteFrom(t.name).execute();
        const digest = new TableDigest(t);
        // A page is at most MAX_PARAMETERS values (see pages): one insert each.
        for await (const page of pages(src, t)) {
          digest.add(page);
          await dst.insertInto(t.name).values(page).execute();
        }
        sourceDigests.set(t.name, digest.result());
        if (isPostgres(dst) && identities.has(t.name)) {
          // Explicit ids do not move an identity column's sequence: start it past the copied ones.
          await sql`select setval(pg_get_serial_sequence(${t.name}, 'id'), coalesce(max(id), 0) + 1, false) from ${sql.table(t.name)}`.execute(dst);
        }
      }
    });

    const report: CopyReport = { schemaVersion: version, tables: [] };
    for (const t of tables) {
      const a = sourceDigests.get(t.name)!;
      const b = await digestTable(target, t);
      if (a.rows !== b.rows || a.sha256 !== b.sha256) {
        throw new Error(`table ${t.name} differs after the copy: ${a.rows} rows (sha256 ${a.sha256.slice(0, 12)}) in the source, ${b.rows} (${b.sha256.slice(0, 12)}) in the destination`);
      }
      report.tables.push({ table: t.name, ...a });
    }
    return report;
  });
}

/** Copies `db` (a snapshot of it) into a new SQLite file at `path`, created with mode 0600, and verifies the copy. */
export async function snapshotToSqlite(db: Kysely<DB>, path: string): Promise<CopyReport> {
  const file = await openDatabase(path);
  try {
    return await copyDatabase(db, file.db);
  } finally {
    await file.close();
  }
}

