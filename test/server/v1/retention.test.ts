/**
 * @module /v1 retention endpoints: the rule set (JSON and TOML, dry run,
 * validation naming the line, audit with before/after), the plan with its
 * explanations, and a run; bad input is a 400, never a 500.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { RetentionPlan } from "../../../lib/retention/plan.ts";
import type { RetentionRunReport } from "../../../lib/retention/run.ts";
import { testApp, type TestApp } from "../../support/app.ts";
import { pushImage } from "../../support/blobs.ts";

let t: TestApp;
beforeAll(async () => {
  t = await testApp();
});
afterAll(() => t.close());

const json = (method: string, path: string, body?: unknown) =>
  t.request(method, path, { body: body === undefined ? undefined : JSON.stringify(body), headers: { "content-type": "application/json" } });
const ci = { id: "ci", repositories: ["ci/**"], keep_last: 1 };

describe("/v1/retention", () => {
  test("PUT replaces the set (dry run first), accepts TOML, validates by line, and audits before/after", async () => {
    expect(await (await json("GET", "/v1/retention")).json()).toEqual({ rules: [] });
    const dry = (await (await json("PUT", "/v1/retention?dry_run=1", { rules: [ci] })).json()) as { applied: boolean; diff: { added: { id: string }[] } };
    expect(dry).toMatchObject({ applied: false, diff: { added: [{ id: "ci" }] } });
    expect(await (await json("GET", "/v1/retention")).json()).toEqual({ rules: [] });
    const toml = `[[rule]]\nid = "ci"\nrepositories = ["ci/**"]\nkeep_last = 1\nkeep_tags = ["v*"]\n`;
    const applied = await t.request("PUT", "/v1/retention", { body: toml, headers: { "content-type": "application/toml" } });
    expect(((await applied.json()) as { applied: boolean }).applied).toBe(true);
    const rules = ((await (await json("GET", "/v1/retention")).json()) as { rules: Record<string, unknown>[] }).rules;
    expect(rules).toEqual([{ id: "ci", repositories: ["ci/**"], keep_last: 1, keep_tags: ["v*"], keep_pushed_within: null, keep_pulled_within: null, untagged_after: null, allow_empty: false, override_immutable: false, enabled: true, description: "" }]);
    const invalid = await t.request("PUT", "/v1/retention", { body: `[[rule]]\nid = "x"\nrepositories = ["a"]\nkeep_last = -1\nkeep_pulled_within = "soon"\n`, headers: { "content-type": "application/toml" } });
    expect(invalid.status).toBe(400);
    const message = ((await invalid.json()) as { error: string }).error;
    expect(message).toContain("line 4");
    expect(message).toContain("line 5");
    for (const body of ["not json", "[]", JSON.stringify({ rules: [{ id: "x", repositories: ["UPPER"], keep_last: 1 }] }), JSON.stringify({ rules: [{ id: "x", repositories: ["a"] }] })]) {
      expect((await t.request("PUT", "/v1/retention", { body, headers: { "content-type": "application/json" } })).status).toBe(400);
    }
    await t.reg.audit.flush();
    const changed = await t.reg.db.selectFrom("audit_events").selectAll().where("event", "=", "retention.changed").execute();
    expect(changed).toHaveLength(1);
    expect(JSON.parse(changed[0]!.detail!)).toMatchObject({ before: [], added: ["ci"] });
  });

  test("the plan explains; a run does it; a bad glob is a 400", async () => {
    await pushImage(t, "ci/app", "a", ["one"]);
    await pushImage(t, "ci/app", "b", ["two"]);
    await pushImage(t, "ci/app", "v1", ["three"]);
    await pushImage(t, "ci/app", "c", ["four"]);
    const plan = (await (await json("GET", "/v1/retention/plan?repo=ci/*")).json()) as RetentionPlan;
    expect(plan.totals).toMatchObject({ repositories: 1, tagsRemoved: 2, tagsKept: 2, manifestsRemoved: 2 });
    expect(plan.repositories[0]!.tags.find((d) => d.tag === "v1")).toMatchObject({ keep: true, rules: ["ci"], reason: 'ci: keep_tags "v*"' });
    expect((await json("GET", "/v1/retention/plan?repo=Bad**")).status).toBe(400);
    const dry = (await (await json("POST", "/v1/retention/run", { dry_run: true })).json()) as RetentionRunReport;
    expect(dry).toMatchObject({ dryRun: true, tagsRemoved: 2 });
    expect((await json("POST", "/v1/retention/run", { dry_run: "yes" })).status).toBe(400);
    const run = (await (await json("POST", "/v1/retention/run", {})).json()) as RetentionRunReport;
    expect(run.removed).toEqual([{ repository: "ci/app", tags: ["b", "a"], manifests: expect.any(Array) }]);
    const tags = (await (await t.request("GET", "/v2/ci/app/tags/list")).json()) as { tags: string[] };
    expect(tags.tags.sort()).toEqual(["c", "v1"]);
  });

  test("POST /v1/gc with retention: true applies the rules, then sweeps", async () => {
    await pushImage(t, "ci/app", "d", ["five"]);
    const res = await json("POST", "/v1/gc", { retention: true, grace: "0s" });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: number };
    let run: { status: string; options: { retention: boolean }; report: { retentionRun: unknown; blobsRemoved: number } | null };
    do {
      await Bun.sleep(20);
      run = (await (await json("GET", `/v1/gc/${id}`)).json()) as typeof run;
    } while (run.status === "running");
    expect(run.status).toBe("succeeded");
    expect(run.options.retention).toBe(true);
    expect(run.report!.retentionRun).toMatchObject({ tagsRemoved: 1, manifestsRemoved: 1 });
    expect(run.report!.blobsRemoved).toBeGreaterThan(0);
    expect((await json("POST", "/v1/gc", { retention: "yes" })).status).toBe(400);
  });

  test("hostile rule sets are 400s naming the problem, never a 500", async () => {
    const field = (extra: Record<string, unknown>) => JSON.stringify({ rules: [{ id: "x", repositories: ["a/**"], keep_last: 1, ...extra }] });
    const bodies = [
      "",
      "\u0000\u0001",
      "{".repeat(10_000),
      JSON.stringify({ rules: "all" }),
      JSON.stringify({ rules: [null] }),
      JSON.stringify({ rules: [[]] }),
      JSON.stringify({ policy: [] }),
      field({ id: "\u001b[31mred" }),
      field({ id: "x".repeat(100) }),
      field({ repositories: [] }),
      field({ repositories: ["a".repeat(300)] }),
      field({ repositories: Array.from({ length: 101 }, () => "a") }),
      field({ keep_last: 1e300 }),
      field({ keep_last: 1.5 }),
      field({ keep_last: "5" }),
      field({ keep_tags: ["a/b"] }),
      field({ keep_tags: "v*" }),
      field({ keep_pushed_within: "30s" }),
      field({ keep_pulled_within: "99999999999d" }),
      field({ untagged_after: 7 }),
      field({ allow_empty: "yes" }),
      field({ description: "d".repeat(501) }),
      field({ __proto__: { x: 1 }, constructor: 1 }),
      JSON.stringify({ rules: [{ id: "a", repositories: ["a"], keep_last: 1 }, { id: "a", repositories: ["b"], keep_last: 1 }] }),
      JSON.stringify({ rules: Array.from({ length: 1001 }, (_, i) => ({ id: `r${i}`, repositories: ["a"], keep_last: 1 })) }),
    ];
    for (const body of bodies) {
      const res = await t.request("PUT", "/v1/retention", { body, headers: { "content-type": "application/json" } });
      expect({ body: body.slice(0, 60), status: res.status }).toEqual({ body: body.slice(0, 60), status: 400 });
      expect(((await res.json()) as { error: string }).error.length).toBeGreaterThan(0);
    }
    for (const toml of ["[[rule]]\nid = ", "rule = 5", "[[rule]]\nid = \"x\"\nrepositories = [\"a\"]\nkeep_last = 1\n[other]\n", "[[rule]]\n[[rule]]\n"]) {
      const res = await t.request("PUT", "/v1/retention", { body: toml, headers: { "content-type": "application/toml" } });
      expect({ toml, status: res.status }).toEqual({ toml, status: 400 });
    }
    expect((await t.request("PUT", "/v1/retention", { body: new Uint8Array(1024 * 1024 + 1), headers: { "content-type": "application/json" } })).status).toBe(400);
    for (const q of ["%zz", "a%00b", "x".repeat(300), "***", "/a"]) expect((await json("GET", `/v1/retention/plan?repo=${q}`)).status).toBe(400);
  });
});
