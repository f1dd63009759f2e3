/**
 * @module /v1/gc (admin only): start a garbage collection in the background
 * and follow it. A run's `report` is the same report `mcr gc --json` prints.
 */
import { fail } from "../../lib/errors.ts";
import { parseGrace } from "../../lib/gc/options.ts";
import { startGc } from "../../lib/gc/run.ts";
import { getGcRun, listGcRunInfos } from "../../lib/gc/runs.ts";
import type { Registry } from "../../lib/registry/registry.ts";
import { optionalString, readJson } from "./json.ts";
import type { V1Route } from "./router.ts";

/** A boolean field of a JSON body, or undefined; throws INVALID_ARGUMENT for another type. */
function optionalBoolean(body: Record<string, unknown>, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") fail("INVALID_ARGUMENT", `${field} must be a boolean`);
  return value;
}

/** GC routes; a run asked for without a grace period gets `defaultGraceMs` (the server's gc.grace). */
export function gcRoutes(reg: Registry, defaultGraceMs?: number): V1Route[] {
  return [
    {
      method: "POST",
      pattern: /^\/v1\/gc$/,
      access: "admin",
      async handle(req, { actor }) {
        // No body at all means the defaults.
        const body = req.body === null || req.headers.get("content-length") === "0" ? {} : await readJson(req);
        const grace = optionalString(body, "grace");
        const started = await startGc(reg, {
          actor,
          dryRun: optionalBoolean(body, "dry_run"),
          untagged: optionalBoolean(body, "untagged"),
          retention: optionalBoolean(body, "retention"),
          graceMs: grace === undefined ? defaultGraceMs : parseGrace(grace),
        });
        // The outcome is recorded in gc_runs and the audit log; nobody awaits it here.
        started.done.catch(() => {});
        return Response.json({ id: started.runId, status: "running" }, { status: 202, headers: { Location: `/v1/gc/${started.runId}` } });
      },
    },
    { method: "GET", pattern: /^\/v1\/gc$/, access: "admin", handle: async () => Response.json({ runs: await listGcRunInfos(reg) }) },
    {
      method: "GET",
      pattern: /^\/v1\/gc\/(?<id>[^/]+)$/,
      access: "admin",
      handle: async (_req, { params }) => Response.json(await getGcRun(reg, /^\d{1,15}$/.test(params.id!) ? Number(params.id) : NaN)),
    },
  ];
}
