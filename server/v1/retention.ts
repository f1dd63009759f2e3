/**
 * @module /v1 retention (admin only): the rule set (`GET`/`PUT
 * /v1/retention`, JSON or TOML, `?dry_run=1` for the diff alone), the plan
 * with its explanations (`GET /v1/retention/plan?repo=GLOB`), and a run
 * without the sweep (`POST /v1/retention/run`, which answers with its
 * report when done: runs take seconds, and each removal is audited).
 */
import { fail } from "../../lib/errors.ts";
import { planRetention } from "../../lib/retention/plan.ts";
import { parseRetentionText } from "../../lib/retention/rules-file.ts";
import { runRetention } from "../../lib/retention/run.ts";
import { applyRetention, retentionRules } from "../../lib/retention/store.ts";
import type { Registry } from "../../lib/registry/registry.ts";
import { readBody } from "../http/body.ts";
import { optionalString, readJson } from "./json.ts";
import type { V1Route } from "./router.ts";

const MAX_RULES_BYTES = 1024 * 1024;

/** Retention routes. */
export function retentionRoutes(reg: Registry): V1Route[] {
  return [
    { method: "GET", pattern: /^\/v1\/retention$/, access: "admin", handle: async () => Response.json({ rules: await retentionRules(reg) }) },
    {
      method: "PUT",
      pattern: /^\/v1\/retention$/,
      access: "admin",
      async handle(req, { url, actor }) {
        const text = new TextDecoder().decode(await readBody(req, MAX_RULES_BYTES, "INVALID_ARGUMENT"));
        const toml = (req.headers.get("content-type") ?? "").includes("toml");
        const rules = parseRetentionText(text, toml ? "toml" : "json");
        const dryRun = ["1", "true"].includes(url.searchParams.get("dry_run") ?? "");
        return Response.json(await applyRetention(reg, rules, actor, { dryRun }));
      },
    },
    {
      method: "GET",
      pattern: /^\/v1\/retention\/plan$/,
      access: "admin",
      handle: async (_req, { url }) => Response.json(await planRetention(reg, { repo: url.searchParams.get("repo") ?? undefined })),
    },
    {
      method: "POST",
      pattern: /^\/v1\/retention\/run$/,
      access: "admin",
      async handle(req, { actor }) {
        const body = req.body === null || req.headers.get("content-length") === "0" ? {} : await readJson(req);
        const dryRun = body.dry_run ?? false;
        if (typeof dryRun !== "boolean") fail("INVALID_ARGUMENT", "dry_run must be a boolean");
        return Response.json(await runRetention(reg, { actor, dryRun, repo: optionalString(body, "repo") }));
      },
    },
  ];
}
