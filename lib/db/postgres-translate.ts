/**
 * @module The few SQLite spellings the shared migrations and queries use,
 * rewritten for PostgreSQL, so both databases run one set of SQL. Schema
 * statements: `integer` columns become `bigint` (times are milliseconds,
 * past int4), `blob` becomes `bytea`, and `text` columns compare bytewise
 * (`collate "C"`, whatever the database's locale) as SQLite's do, which
 * cursors (`digest > $1`) and prefix ranges rely on; foreign keys are
 * checked at commit, as SQLite checks them once a statement and its
 * cascades are done (deleting a repository deletes an index and its
 * children in one cascade, which PostgreSQL's per-row check refuses
 * midway). Everywhere:
 * `x collate nocase` becomes `lower(x)` (SQLite's NOCASE folds ASCII only;
 * names that reach it are ASCII): NOCASE folds both sides of a comparison
 * and lower() only the column, so compare it with `lower(?)` (tags.ts) and `group_concat(x)` becomes
 * `string_agg`. Results are cached by SQL text: the hot paths are a few
 * dozen distinct statements.
 */

const SCHEMA = /^\s*(create|alter)\s/i;
/** A type name, not a quoted identifier or part of one. */
const COLUMN_TYPE = /(?<!["\w])(integer|blob|text)(?![\w"])/gi;
const NOCASE = /((?:"?\w+"?\.)?"?\w+"?)\s+collate\s+nocase/gi;
const GROUP_CONCAT = /group_concat\(([^()]+)\)/gi;
/** A foreign key, with its delete action if any. */
const REFERENCES = /(references\s+"?\w+"?\s*\(\s*"?\w+"?\s*\)(\s+on\s+delete\s+(cascade|set\s+null|restrict|no\s+action))?)/gi;

const TYPES: Record<string, string> = { integer: "bigint", blob: "bytea", text: 'text collate "C"' };

/** Most distinct statements remembered; past it the cache starts over (IN lists vary in length). */
const MAX_CACHED = 2000;
const cache = new Map<string, string>();

/** `sql` as PostgreSQL should run it. */
export function translate(sql: string): string {
  let out = cache.get(sql);
  if (out !== undefined) return out;
  out = sql;
  if (SCHEMA.test(out)) {
    out = out.replace(COLUMN_TYPE, (type) => TYPES[type.toLowerCase()]!).replace(REFERENCES, "$1 deferrable initially deferred");
  }
  out = out.replace(NOCASE, "lower($1)").replace(GROUP_CONCAT, "string_agg(cast($1 as text), ',')");
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(sql, out);
  return out;
}
