/**
 * @module Queries on the audit event log.
 */
import type { Kysely } from "kysely";
import type { AuditEvent, DB, NewAuditEvent } from "../schema.ts";

/** Appends events in one statement. */
export async function insertAuditEvents(db: Kysely<DB>, events: readonly NewAuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db.insertInto("audit_events").values([...events]).execute();
}

/** The newest `limit` events, oldest first. */
export async function recentAuditEvents(db: Kysely<DB>, limit: number): Promise<AuditEvent[]> {
  const rows = await db.selectFrom("audit_events").selectAll().orderBy("id", "desc").limit(limit).execute();
  return rows.reverse();
}
