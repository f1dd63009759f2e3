/**
 * @module Which audit events to show, as operators write it: the same
 * words for `mcr audit tail` flags and `/v1/audit` query parameters, and
 * their translation into a query.
 */
import { parseDuration } from "../config/duration.ts";
import type { AuditEventQuery, TextMatch } from "../db/queries/audit.ts";
import { fail } from "../errors.ts";

/** A filter as typed: every field optional, each one narrows. */
export interface AuditFilterInput {
  /** A repository name, or a prefix ending in `*` (`team/*`). */
  repo?: string;
  /** An actor (`user:alice`), or a bare name matching it as user, robot or local account. */
  actor?: string;
  /** An event name (`manifest.pushed`), or a prefix ending in `*` (`manifest.*`). */
  event?: string;
  /** A duration back from now (`1h`, `7d`) or a date or time (`2026-11-01`, `2026-11-01T12:00:00Z`). */
  since?: string;
}

/** A checked filter, ready to query with. */
export interface AuditFilter {
  repository?: TextMatch;
  actor?: TextMatch;
  event?: TextMatch;
  /** Earliest event time, in ms. */
  since?: number;
}

/** The actor prefixes a bare name is tried with. */
const ACTOR_KINDS = ["user", "robot", "local"] as const;
const MAX_TEXT = 256;

/** Checks and translates a typed filter; throws INVALID_ARGUMENT. `now` anchors `since` durations. */
export function parseAuditFilter(input: AuditFilterInput, now: number): AuditFilter {
  const filter: AuditFilter = {};
  if (input.repo !== undefined) filter.repository = textMatch("repo", input.repo);
  if (input.event !== undefined) filter.event = textMatch("event", input.event);
  if (input.actor !== undefined) {
    const actor = checkText("actor", input.actor);
    filter.actor = { anyOf: actor.includes(":") ? [actor] : [actor, ...ACTOR_KINDS.map((kind) => `${kind}:${actor}`)] };
  }
  if (input.since !== undefined) filter.since = parseSince(input.since, now);
  return filter;
}

/** `1h` (before `now`), `2026-11-01` (UTC midnight) or an ISO 8601 time, in ms; throws INVALID_ARGUMENT. */
export function parseSince(text: string, now: number): number {
  const trimmed = text.trim();
  if (/^\d+[smhdw]$/.test(trimmed)) {
    try {
      return now - parseDuration(trimmed);
    } catch (error) {
      fail("INVALID_ARGUMENT", (error as Error).message);
    }
  }
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(trimmed)) {
    // A date or time without a zone is UTC, as every time mcr prints is.
    const zoned = /[T ]\d{2}:\d{2}/.test(trimmed) && !/(Z|[+-]\d{2}:?\d{2})$/.test(trimmed) ? `${trimmed}Z` : trimmed;
    const ms = Date.parse(zoned.replace(" ", "T"));
    if (!Number.isNaN(ms)) return ms;
  }
  fail("INVALID_ARGUMENT", `invalid --since "${text.slice(0, 40)}": use a duration (30m, 1h, 7d) or a date (2026-11-01, 2026-11-01T12:00:00Z)`);
}

/** The query for `filter`, in `order` from an id, `limit` events at most. */
export function auditQuery(
  filter: AuditFilter,
  page: { order: "asc" | "desc"; limit: number; afterId?: number; beforeId?: number },
): AuditEventQuery {
  return { ...filter, ...page };
}

function textMatch(field: string, value: string): TextMatch {
  const text = checkText(field, value);
  return text.endsWith("*") ? { prefix: text.slice(0, -1) } : { anyOf: [text] };
}

function checkText(field: string, value: string): string {
  if (value === "" || value.length > MAX_TEXT) fail("INVALID_ARGUMENT", `${field} must be 1-${MAX_TEXT} characters`);
  return value;
}
