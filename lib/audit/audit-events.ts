/**
 * @module Reading the audit log: pages newest first (for `/v1/audit`), the
 * last few events, everything after an id, and following new events as
 * any process writes them. Event names are not a closed set: whatever a
 * writer recorded is returned.
 */
import { maxAuditEventId, selectAuditEvents } from "../db/queries/audit.ts";
import type { AuditEvent } from "../db/schema.ts";
import type { Registry } from "../registry/registry.ts";
import { auditQuery, type AuditFilter } from "./audit-filter.ts";

/** One event as commands print it (`--json`) and `/v1/audit` returns it. */
export interface AuditRecord {
  id: number;
  /** ISO 8601, UTC, to the millisecond. */
  time: string;
  event: string;
  actor: string;
  source: string | null;
  repository: string | null;
  digest: string | null;
  tag: string | null;
  outcome: string;
  detail: Record<string, unknown> | null;
}

/** Largest page one read returns. */
export const MAX_AUDIT_PAGE = 1000;

/** The public view of an event row. */
export function auditRecord(row: AuditEvent): AuditRecord {
  return {
    id: row.id,
    time: new Date(row.time).toISOString(),
    event: row.event,
    actor: row.actor,
    source: row.source,
    repository: row.repository,
    digest: row.digest,
    tag: row.tag,
    outcome: row.outcome,
    detail: parseDetail(row.detail),
  };
}

/** A page of events, newest first, and the cursor (`before`) for the page after it; null at the end. */
export interface AuditPage {
  events: AuditRecord[];
  next: number | null;
}

/** Events matching `filter` older than id `before` (newest first), `limit` of them. */
export async function listAuditEvents(reg: Registry, filter: AuditFilter, limit: number, before?: number): Promise<AuditPage> {
  const size = clampLimit(limit);
  const rows = await selectAuditEvents(reg.db, auditQuery(filter, { order: "desc", limit: size + 1, beforeId: before }));
  const events = rows.slice(0, size).map(auditRecord);
  return { events, next: rows.length > size ? events[events.length - 1]!.id : null };
}

/** Events matching `filter` with an id above `after`, oldest first, `limit` of them. */
export async function auditEventsAfter(reg: Registry, filter: AuditFilter, after: number, limit: number): Promise<AuditRecord[]> {
  const rows = await selectAuditEvents(reg.db, auditQuery(filter, { order: "asc", limit: clampLimit(limit), afterId: after }));
  return rows.map(auditRecord);
}

/**
 * Events matching `filter` with an id above `after`, oldest first, and the
 * id to continue after: the last one returned when the page is full, else
 * the newest id looked at, so a filter that matches rarely does not make
 * the next call rescan the same rows.
 */
export async function auditPageAfter(reg: Registry, filter: AuditFilter, after: number, limit: number): Promise<{ events: AuditRecord[]; next: number }> {
  const size = clampLimit(limit);
  // Read the newest id first: rows committed after it are left for the next call, never skipped.
  const upTo = await maxAuditEventId(reg.db);
  const rows = await selectAuditEvents(reg.db, auditQuery(filter, { order: "asc", limit: size, afterId: after, beforeId: upTo + 1 }));
  const next = rows.length === size ? rows[rows.length - 1]!.id : Math.max(after, upTo);
  return { events: rows.map(auditRecord), next };
}

/** The id of the newest event (0 when there is none): where a follow starts. */
export function latestAuditEventId(reg: Registry): Promise<number> {
  return maxAuditEventId(reg.db);
}

/**
 * Where `mcr audit tail` starts: the newest id now (`upTo`, where a follow
 * continues from, so nothing is shown twice or missed) and the events to
 * show first, oldest first: the last `last` matching ones, or every match
 * when `last` is undefined (with a `since` filter, "everything since").
 */
export async function startAuditTail(reg: Registry, filter: AuditFilter, last: number | undefined): Promise<{ events: AuditRecord[]; upTo: number }> {
  const upTo = await maxAuditEventId(reg.db);
  const events: AuditRecord[] = [];
  if (last === undefined) {
    let after = 0;
    for (;;) {
      const page = await selectAuditEvents(reg.db, auditQuery(filter, { order: "asc", limit: MAX_AUDIT_PAGE, afterId: after, beforeId: upTo + 1 }));
      events.push(...page.map(auditRecord));
      if (page.length < MAX_AUDIT_PAGE) return { events, upTo };
      after = page[page.length - 1]!.id;
    }
  }
  let before: number | null = upTo + 1;
  while (events.length < last && before !== null) {
    const page = await listAuditEvents(reg, filter, Math.min(last - events.length, MAX_AUDIT_PAGE), before);
    events.push(...page.events);
    before = page.next;
  }
  return { events: events.reverse(), upTo };
}

/** How often a follow looks for new events, in ms. */
export const FOLLOW_INTERVAL_MS = 200;

/**
 * New events matching `filter` with ids above `after`, in batches as they
 * appear, until `signal` aborts. It polls the database, so it sees what
 * any process writes (the server, another command) within one interval.
 */
export async function* followAuditEvents(
  reg: Registry,
  filter: AuditFilter,
  after: number,
  options: { signal?: AbortSignal; intervalMs?: number } = {},
): AsyncGenerator<AuditRecord[]> {
  let cursor = after;
  const interval = options.intervalMs ?? FOLLOW_INTERVAL_MS;
  while (!options.signal?.aborted) {
    const page = await auditPageAfter(reg, filter, cursor, MAX_AUDIT_PAGE);
    cursor = page.next;
    if (page.events.length > 0) yield page.events;
    // A full page means more are waiting: read on at once.
    if (page.events.length < MAX_AUDIT_PAGE) await sleep(interval, options.signal);
  }
}

function clampLimit(limit: number): number {
  return Math.max(1, Math.min(Math.trunc(limit) || 1, MAX_AUDIT_PAGE));
}

function parseDetail(text: string | null): Record<string, unknown> | null {
  if (text === null) return null;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : { value };
  } catch {
    return { text };
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
