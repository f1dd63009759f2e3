/**
 * @module /v1 policy endpoints: whole-set apply (JSON and TOML, dry run),
 * single rules, explanations; validation and audit with before/after.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { recentAuditEvents } from "../../../lib/db/queries/audit.ts";
import { testApp, type TestApp } from "../../support/app.ts";
import { basicAuth } from "../../support/credentials.ts";
import { addUser } from "../../../lib/auth/users.ts";

let t: TestApp;
beforeAll(async () => {
  t = await testApp();
  await addUser(t.reg, { name: "alice", password: "alice-password" }, "test");
});
afterAll(() => t.close());

const rule = { id: "ci-push", effect: "allow", subjects: ["robot:ci"], actions: ["push"], repositories: ["ci/*"] };
const json = (method: string, path: string, body?: unknown) =>
  t.request(method, path, { body: body === undefined ? undefined : JSON.stringify(body), headers: { "content-type": "application/json" } });

describe("/v1/policy", () => {
  test("admins only", async () => {
    expect((await t.request("GET", "/v1/policy", { headers: { authorization: basicAuth("alice", "alice-password") } })).status).toBe(403);
    expect((await t.request("GET", "/v1/policy", { headers: { authorization: "" } })).status).toBe(401);
  });

  test("single rules: create, read, replace, delete, with conflicts and validation", async () => {
    expect((await json("POST", "/v1/policy/rules", rule)).status).toBe(201);
    expect((await json("POST", "/v1/policy/rules", rule)).status).toBe(409);
    expect(await (await json("GET", "/v1/policy/rules/ci-push")).json()).toMatchObject({ id: "ci-push", priority: 0, enabled: true });
    const bad = await json("POST", "/v1/policy/rules", { ...rule, id: "x", actions: ["fly"] });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain('unknown action "fly"');
    expect((await json("PUT", "/v1/policy/rules/ci-push", { ...rule, actions: ["push", "pull"] })).status).toBe(200);
    expect((await json("PUT", "/v1/policy/rules/ci-push", { ...rule, id: "other" })).status).toBe(400);
    const explained = (await (await json("GET", "/v1/policy/test?user=alice&action=push&repo=team/x")).json()) as { allowed: boolean; decidedBy: { id: string }[] };
    expect(explained.allowed).toBe(true);
    expect(explained.decidedBy.map((r) => r.id)).toEqual(["default-users"]);
    expect((await json("DELETE", "/v1/policy/rules/ci-push")).status).toBe(204);
    expect((await json("DELETE", "/v1/policy/rules/ci-push")).status).toBe(404);
  });

  test("PUT /v1/policy replaces the set (dry run first), accepts TOML, and audits before/after", async () => {
    const before = ((await (await json("GET", "/v1/policy")).json()) as { rules: { id: string }[] }).rules.map((r) => r.id);
    const dry = (await (await json("PUT", "/v1/policy?dry_run=1", { rules: [rule] })).json()) as { applied: boolean; diff: { added: unknown[]; removed: unknown[] } };
    expect(dry.applied).toBe(false);
    expect(dry.diff.added).toHaveLength(1);
    expect(dry.diff.removed).toHaveLength(before.length);
    expect(((await (await json("GET", "/v1/policy")).json()) as { rules: unknown[] }).rules).toHaveLength(before.length);

    const toml = `[[rule]]\nid = "only"\neffect = "allow"\nsubjects = ["*"]\nactions = ["pull"]\nrepositories = ["public/**"]\n`;
    const applied = await t.request("PUT", "/v1/policy", { body: toml, headers: { "content-type": "application/toml" } });
    expect(((await applied.json()) as { applied: boolean }).applied).toBe(true);
    expect(((await (await json("GET", "/v1/policy")).json()) as { rules: { id: string }[] }).rules.map((r) => r.id)).toEqual(["only"]);
    const invalid = await t.request("PUT", "/v1/policy", { body: "[[rule]]\nid = 5\n", headers: { "content-type": "application/toml" } });
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { error: string }).error).toContain("line 2");

    await t.reg.audit.flush();
    const changes = (await recentAuditEvents(t.reg.db, 100)).filter((e) => e.event === "policy.changed");
    const last = JSON.parse(changes.at(-1)!.detail!) as { before: { id: string }[]; after: { id: string }[] };
    expect(last.after.map((r) => r.id)).toEqual(["only"]);
    expect(last.before.length).toBeGreaterThan(0);
    expect(changes.at(-1)!.actor).toBe("user:admin");
  });
});
