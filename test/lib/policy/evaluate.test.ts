/**
 * @module Rule matching as a table: globs, subjects, priorities, deny
 * wins, default deny, admin bypass, disabled rules, and the defaults.
 */
import { describe, expect, test } from "bun:test";
import { ANONYMOUS, type Identity } from "../../../lib/auth/identity.ts";
import { defaultRules } from "../../../lib/policy/defaults.ts";
import { compilePolicy, evaluate } from "../../../lib/policy/evaluate.ts";
import { checkGlob, globToRegExp } from "../../../lib/policy/glob.ts";
import type { PolicyAction, Rule } from "../../../lib/policy/rule.ts";

const who = (name: string, role: "admin" | "user" | "guest", userKind: "human" | "robot" = "human"): Identity => ({
  kind: "user",
  userId: 1,
  name,
  role,
  userKind,
  via: "password",
  tokenId: null,
});
const alice = who("alice", "user");
const gwen = who("gwen", "guest");
const root = who("root", "admin");
const ci = who("ci", "user", "robot");
const release = who("release", "user", "robot");

const rule = (id: string, effect: "allow" | "deny", subjects: string[], actions: PolicyAction[], repositories: string[], extra: Partial<Rule> = {}): Rule => ({
  id,
  priority: 0,
  effect,
  subjects,
  actions,
  repositories,
  enabled: true,
  description: "",
  ...extra,
});

describe("globs", () => {
  const cases: [string, string, boolean][] = [
    ["ci/*", "ci/app", true],
    ["ci/*", "ci/app/sub", false],
    ["ci/*", "ci", false],
    ["public/**", "public/a", true],
    ["public/**", "public/a/b/c", true],
    ["public/**", "public", false],
    ["**", "anything/at/all", true],
    ["a/**/z", "a/z", true],
    ["a/**/z", "a/b/c/z", true],
    ["a/**/z", "a/b/c/y", false],
    ["team/app-*", "team/app-web", true],
    ["team/app.v1", "team/appxv1", false],
    ["*", "app", true],
    ["*", "team/app", false],
  ];
  test.each(cases)("%s matches %s: %p", (glob, name, expected) => {
    expect(checkGlob(glob)).toBeNull();
    expect(globToRegExp(glob).test(name)).toBe(expected);
  });

  test.each(["", "a/***", "a**", "**b", "/a", "a/", "a//b", "A/b", "a/b?"])("rejects %p", (glob) => {
    expect(checkGlob(glob)).not.toBeNull();
  });
});

describe("evaluation", () => {
  // The example from the issue: CI pushes to ci/*, everyone pulls public/**,
  // guests pull nothing else, nobody but the release robot pushes to prod/*.
  const policy = compilePolicy([
    ...defaultRules.filter((r) => r.id !== "default-guests"),
    rule("ci-push", "allow", ["robot:ci"], ["pull", "push"], ["ci/*"]),
    rule("public-pull", "allow", ["*"], ["pull"], ["public/**"]),
    rule("prod-release", "allow", ["robot:release"], ["pull", "push", "overwrite"], ["prod/*"]),
    rule("prod-locked", "deny", ["role:user", "role:guest"], ["push", "delete", "overwrite"], ["prod/*"], { priority: 100 }),
    rule("disabled", "allow", ["anonymous"], ["push"], ["**"], { enabled: false }),
  ]);
  const cases: [string, Identity, PolicyAction, string, boolean, string[]][] = [
    ["ci pushes to ci/*", ci, "push", "ci/app", true, ["ci-push"]],
    ["ci may not push elsewhere", ci, "push", "team/app", false, []],
    ["ci may not push deeper than one segment", ci, "push", "ci/a/b", false, []],
    ["anyone pulls public/**", ANONYMOUS, "pull", "public/x/y", true, ["public-pull"]],
    ["anonymous pulls nothing else", ANONYMOUS, "pull", "team/app", false, []],
    ["a disabled rule grants nothing", ANONYMOUS, "push", "team/app", false, []],
    ["guests pull public", gwen, "pull", "public/a", true, ["public-pull"]],
    ["guests pull nothing else", gwen, "pull", "team/app", false, []],
    ["users push anywhere but prod", alice, "push", "team/app", true, ["default-users"]],
    ["deny wins over allow", alice, "push", "prod/app", false, ["prod-locked"]],
    ["users still pull prod", alice, "pull", "prod/app", true, ["default-users"]],
    ["only the release robot pushes prod", release, "push", "prod/app", true, ["prod-release"]],
    ["admins bypass every rule", root, "push", "prod/app", true, []],
    ["robots get nothing by default", who("other", "user", "robot"), "pull", "team/app", false, []],
  ];
  test.each(cases)("%s", (_name, identity, action, repo, allowed, decidedBy) => {
    const decision = evaluate(policy, identity, action, repo);
    expect(decision.allowed).toBe(allowed);
    expect(decision.decidedBy.map((r) => r.id)).toEqual(decidedBy);
  });

  test("a decision lists every matching rule in priority order and says why", () => {
    const decision = evaluate(policy, alice, "push", "prod/app");
    expect(decision.matched.map((r) => r.id)).toEqual(["prod-locked", "default-users"]);
    expect(decision.reason).toBe("denied by rule prod-locked");
    expect(evaluate(policy, ANONYMOUS, "pull", "x").reason).toContain("default deny");
  });

  test("subjects: role names humans only; robots are named, or `robots`; `authenticated` is any account", () => {
    const p = compilePolicy([
      rule("r1", "allow", ["role:user"], ["pull"], ["a"]),
      rule("r2", "allow", ["robots"], ["pull"], ["b"]),
      rule("r3", "allow", ["authenticated"], ["pull"], ["c"]),
      rule("r4", "allow", ["user:alice"], ["pull"], ["d"]),
    ]);
    expect(evaluate(p, ci, "pull", "a").allowed).toBe(false);
    expect(evaluate(p, alice, "pull", "a").allowed).toBe(true);
    expect(evaluate(p, ci, "pull", "b").allowed).toBe(true);
    expect(evaluate(p, alice, "pull", "b").allowed).toBe(false);
    expect(evaluate(p, ci, "pull", "c").allowed).toBe(true);
    expect(evaluate(p, ANONYMOUS, "pull", "c").allowed).toBe(false);
    expect(evaluate(p, alice, "pull", "d").allowed).toBe(true);
    expect(evaluate(p, who("alice", "user", "robot"), "pull", "d").allowed).toBe(false);
  });
});
