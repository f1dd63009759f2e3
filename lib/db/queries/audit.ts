/**
 * @module Queries on the audit event log: appending, filtered reads in
 * either direction from an id, and pruning (by age, and noise by count).
 */
import type { Kysely } from "kysely";
import { isPostgres } from "../dialect.ts";
import type { AuditEvent, DB, NewAuditEvent } from "../schema.ts";

/** A column condition: equal to one of some values, or starting with a prefix. */
export type TextMatch = { anyOf: readonly string[] } | { prefix: string };

/** Which events a read returns, and from where. Every field narrows; none is required. */
export interface AuditEventQuery {
  repository?: TextMatch;
  actor?: TextMatch;
  event?: TextMatch;
  /** Time bounds in ms: `since` inclusive, `until` exclusive. */
  since?: number;
  until?: number;
  /** Id bounds, both exclusive. */
  afterId?: number;
  beforeId?: number;
  /** `desc` reads newest first (pages going back), `asc` oldest first (following). */
  order: "asc" | "desc";
  limit: number;
}

/** Appends events in one statement. */
export async function insertAuditEvents(db: Kysely<DB>, events: readonly NewAuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  // Followers read "id > the last one seen" (mcr audit tail -f), so ids must become visible in
  // order. SQLite has one writer; on PostgreSQL two inserts can commit out of id order, unless
  // the insert holds the write lock every write transaction takes (lib/db/postgres-dialect.ts).
  if (isPostgres(db) && !db.isTransaction) {
    await db.transaction().execute((trx) => trx.insertInto("audit_events").values([...events]).execute());
    return;
  }
  await db.insertInto("audit_events").values([...events]).execute();
}

/** The newest `limit` events, oldest first. */
export async function recentAuditEvents(db: Kysely<DB>, limit: number): Promise<AuditEvent[]> {
  const rows = await db.selectFrom("audit_events").selectAll().orderBy("id", "desc").limit(limit).execute();
  return rows.reverse();
}

/** Events matching `q`, in `q.order` of id. */
export async function selectAuditEvents(db: Kysely<DB>, q: AuditEventQuery): Promise<AuditEvent[]> {
  let query = db.selectFrom("audit_events").selectAll().orderBy("id", q.order).limit(q.limit);
  for (const [column, match] of [["repository", q.repository], ["actor", q.actor], ["event", q.event]] as const) {
    if (match === undefined) continue;
    if ("anyOf" in match) {
      query = query.where(column, "in", [...match.anyOf]);
    } else if (match.prefix !== "") {
      // A range rather than LIKE, so `_` and `%` in a name are plain characters.
      query = query.where(column, ">=", match.prefix).where(column, "<", prefixEnd(match.prefix));
    } else {
      query = query.where(column, "is not", null);
    }
  }
  if (q.since !== undefined) query = query.where("time", ">=", q.since);
  if (q.until !== undefined) query = query.where("time", "<", q.until);
  if (q.afterId !== undefined) query = query.where("id", ">", q.afterId);
  if (q.beforeId !== undefined) query = query.where("id", "<", q.beforeId);
  return query.execute();
}

/** The id of the newest event, or 0 for an empty log. */
export async function maxAuditEventId(db: Kysely<DB>): Promise<number> {
  const row = await db.selectFrom("audit_events").select((eb) => eb.fn.max("id").as("id")).executeTakeFirst();
  return Number(row?.id ?? 0);
}

/** Deletes up to `limit` of the oldest events older than `before` (ms), of any class; returns how many went. */
export async function deleteAuditEventsBefore(db: Kysely<DB>, before: number, limit: number): Promise<number> {
  const result = await db
    .deleteFrom("audit_events")
    .where("id", "in", (eb) => eb.selectFrom("audit_events").select("id").where("time", "<", before).orderBy("id").limit(limit))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** The id of the newest noise event past the newest `keep` ones (0 when there are no more than `keep`). */
export async function noiseIdBeyond(db: Kysely<DB>, keep: number): Promise<number> {
  const row = await db.selectFrom("audit_events").select("id").where("noise", "=", 1).orderBy("id", "desc").limit(1).offset(keep).executeTakeFirst();
  return row?.id ?? 0;
}

/** Deletes up to `limit` noise events with an id of at most `upToId`, oldest first; returns how many went. */
export async function deleteNoiseUpTo(db: Kysely<DB>, upToId: number, limit: number): Promise<number> {
  const result = await db
    .deleteFrom("audit_events")
    .where("id", "in", (eb) =>
      eb.selectFrom("audit_events").select("id").where("noise", "=", 1).where("id", "<=", upToId).orderBy("noise").orderBy("id").limit(limit),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** The smallest string greater than every string starting with `prefix`. */
function prefixEnd(prefix: string): string {
  const last = prefix.charCodeAt(prefix.length - 1);
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}
