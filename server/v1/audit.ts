/**
 * @module `GET /v1/audit` (admin only): the audit log with the filters of
 * `mcr audit tail` (repo, actor, event, since), newest first in pages
 * (`cursor`), or oldest first after an id (`after`, for following).
 */
import { auditPageAfter, listAuditEvents } from "../../lib/audit/audit-events.ts";
import { parseAuditFilter } from "../../lib/audit/audit-filter.ts";
import { fail } from "../../lib/errors.ts";
import type { Registry } from "../../lib/registry/registry.ts";
import { integerParam } from "../http/pagination.ts";
import type { V1Route } from "./router.ts";

const DEFAULT_LIMIT = 100;

/** The audit route. */
export function auditRoutes(reg: Registry): V1Route[] {
  return [
    {
      method: "GET",
      pattern: /^\/v1\/audit$/,
      access: "admin",
      async handle(_req, { url }) {
        const q = url.searchParams;
        const filter = parseAuditFilter(
          { repo: q.get("repo") ?? undefined, actor: q.get("actor") ?? undefined, event: q.get("event") ?? undefined, since: q.get("since") ?? undefined },
          reg.now(),
        );
        const limit = integerParam(url, "limit", 1, 1000) ?? DEFAULT_LIMIT;
        const cursor = integerParam(url, "cursor", 1, Number.MAX_SAFE_INTEGER);
        const after = integerParam(url, "after", 0, Number.MAX_SAFE_INTEGER);
        if (cursor !== undefined && after !== undefined) fail("INVALID_ARGUMENT", "cursor and after cannot be combined");
        if (after !== undefined) {
          const page = await auditPageAfter(reg, filter, after, limit);
          // Following: ask again with after=nextCursor; the log never ends, so it is never null.
          return Response.json({ events: page.events, nextCursor: String(page.next) });
        }
        const page = await listAuditEvents(reg, filter, limit, cursor);
        return Response.json({ events: page.events, nextCursor: page.next === null ? null : String(page.next) });
      },
    },
  ];
}
