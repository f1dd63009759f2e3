/**
 * @module `mcr audit tail` against a remote registry: the same start and
 * follow as the local one, over `GET /v1/audit` (`cursor` pages back,
 * `after` follows forward).
 */
import type { AuditRecord } from "../../lib/audit/audit-events.ts";
import type { AdminClient } from "./admin-client.ts";

/** The filters as /v1/audit takes them. */
export type RemoteAuditFilter = Partial<Record<"repo" | "actor" | "event" | "since", string>>;

const PAGE = 1000;
/** Remote follows poll a little less often than local ones: each poll is a request. */
const FOLLOW_INTERVAL_MS = 500;

interface AuditAnswer {
  events: AuditRecord[];
  nextCursor: string | null;
}

function query(filter: RemoteAuditFilter, extra: Record<string, string>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(filter)) if (v !== undefined) params.set(k, v);
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  return `/v1/audit?${params}`;
}

/** The events to show first (the last `last`, or all with `last` undefined) and the id a follow continues from. */
export async function startRemoteAuditTail(api: AdminClient, filter: RemoteAuditFilter, last: number | undefined): Promise<{ events: AuditRecord[]; upTo: number }> {
  const newest = await api.get<AuditAnswer>(query({}, { limit: "1" }));
  const upTo = newest.events[0]?.id ?? 0;
  const events: AuditRecord[] = [];
  let cursor: string | null = String(upTo + 1);
  while (cursor !== null && (last === undefined || events.length < last)) {
    const limit = last === undefined ? PAGE : Math.min(PAGE, last - events.length);
    const page: AuditAnswer = await api.get(query(filter, { limit: String(limit), cursor }));
    events.push(...page.events.filter((e) => e.id <= upTo));
    cursor = page.nextCursor;
  }
  return { events: events.reverse(), upTo };
}

/** New matching events after `after`, in batches, until `signal` aborts. */
export async function* followRemoteAudit(api: AdminClient, filter: RemoteAuditFilter, after: number, signal: AbortSignal): AsyncGenerator<AuditRecord[]> {
  let cursor = String(after);
  while (!signal.aborted) {
    const page = await api.get<AuditAnswer>(query(filter, { limit: String(PAGE), after: cursor }));
    cursor = page.nextCursor ?? cursor;
    if (page.events.length > 0) yield page.events;
    if (page.events.length < PAGE) await new Promise((resolve) => setTimeout(resolve, FOLLOW_INTERVAL_MS));
  }
}
