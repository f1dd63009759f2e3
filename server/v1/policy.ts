/**
 * @module /v1 access policy (admin only): the whole set (`GET`/`PUT
 * /v1/policy`, JSON or TOML), single rules, and decision explanations.
 * Every change is validated like a file and audited with before/after.
 */
import { fail } from "../../lib/errors.ts";
import { explainDecision } from "../../lib/policy/explain.ts";
import { parsePolicyText } from "../../lib/policy/policy-file.ts";
import { parseRules } from "../../lib/policy/rule.ts";
import { applyPolicy, deleteRule, getRule, putRule } from "../../lib/policy/store.ts";
import type { Registry } from "../../lib/registry/registry.ts";
import { readBody } from "../http/body.ts";
import { readJson } from "./json.ts";
import type { V1Route } from "./router.ts";

const RULE = /^\/v1\/policy\/rules\/(?<id>[^/]+)$/;

/** One rule from a JSON body, validated. */
async function readRule(req: Request) {
  const [rule] = parseRules([await readJson(req)]);
  return rule!;
}

/** Policy routes. */
export function policyRoutes(reg: Registry): V1Route[] {
  return [
    { method: "GET", pattern: /^\/v1\/policy$/, access: "admin", handle: async () => Response.json({ rules: await reg.policy.rules() }) },
    {
      method: "PUT",
      pattern: /^\/v1\/policy$/,
      access: "admin",
      async handle(req, { url, actor }) {
        const text = new TextDecoder().decode(await readBody(req, 1024 * 1024, "INVALID_ARGUMENT"));
        const toml = (req.headers.get("content-type") ?? "").includes("toml");
        const rules = parsePolicyText(text, toml ? "toml" : "json");
        const dryRun = ["1", "true"].includes(url.searchParams.get("dry_run") ?? "");
        return Response.json(await applyPolicy(reg, rules, actor, { dryRun }));
      },
    },
    { method: "GET", pattern: /^\/v1\/policy\/rules$/, access: "admin", handle: async () => Response.json({ rules: await reg.policy.rules() }) },
    {
      method: "POST",
      pattern: /^\/v1\/policy\/rules$/,
      access: "admin",
      async handle(req, { actor }) {
        const rule = await readRule(req);
        await putRule(reg, rule, actor, false);
        return Response.json(rule, { status: 201 });
      },
    },
    { method: "GET", pattern: RULE, access: "admin", handle: async (_req, { params }) => Response.json(await getRule(reg, params.id!)) },
    {
      method: "PUT",
      pattern: RULE,
      access: "admin",
      async handle(req, { params, actor }) {
        const rule = await readRule(req);
        if (rule.id !== params.id) fail("INVALID_ARGUMENT", "the rule's id must match the URL");
        await putRule(reg, rule, actor, true);
        return Response.json(rule);
      },
    },
    {
      method: "DELETE",
      pattern: RULE,
      access: "admin",
      async handle(_req, { params, actor }) {
        await deleteRule(reg, params.id!, actor);
        return new Response(null, { status: 204 });
      },
    },
    {
      method: "GET",
      pattern: /^\/v1\/policy\/test$/,
      access: "admin",
      async handle(_req, { url }) {
        const q = (k: string) => url.searchParams.get(k) ?? fail("INVALID_ARGUMENT", `${k} is required`);
        return Response.json(await explainDecision(reg, q("user"), q("action"), q("repo")));
      },
    },
  ];
}
