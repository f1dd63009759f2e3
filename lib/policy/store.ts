/**
 * @module Changing the policy: the whole set is replaced in one
 * transaction (single-rule changes are built on that), the version moves
 * so every process reloads, and the change is audited with before/after.
 */
import { fail } from "../errors.ts";
import { replaceRuleRows } from "../db/queries/policy.ts";
import type { Registry } from "../registry/registry.ts";
import { diffRules, isEmptyDiff, type PolicyDiff } from "./diff.ts";
import { parseRules, sortRules, type Rule } from "./rule.ts";

/** What an apply did (or, with dryRun, would do). */
export interface ApplyResult {
  diff: PolicyDiff;
  applied: boolean;
}

/** Replaces the whole rule set with `rules` (validated again here). */
export async function applyPolicy(reg: Registry, rules: readonly Rule[], actor: string, options: { dryRun?: boolean } = {}): Promise<ApplyResult> {
  const next = sortRules(parseRules(rules));
  const before = await reg.policy.rules();
  const diff = diffRules(before, next);
  if (options.dryRun || isEmptyDiff(diff)) return { diff, applied: false };
  await reg.db.transaction().execute((trx) => replaceRuleRows(trx, next));
  reg.policy.invalidate();
  reg.audit.record({
    event: "policy.changed",
    actor,
    outcome: "success",
    detail: { before, after: next, added: diff.added.map((r) => r.id), removed: diff.removed.map((r) => r.id), changed: diff.changed.map((c) => c.id) },
  });
  return { diff, applied: true };
}

/** One rule by id; throws NOT_FOUND. */
export async function getRule(reg: Registry, id: string): Promise<Rule> {
  const rule = (await reg.policy.rules()).find((r) => r.id === id);
  if (!rule) fail("NOT_FOUND", `no rule ${id}`);
  return rule;
}

/** Adds a rule (ALREADY_EXISTS if its id is taken) or, with `replace`, replaces the rule of that id. */
export async function putRule(reg: Registry, rule: Rule, actor: string, replace: boolean): Promise<ApplyResult> {
  const rules = await reg.policy.rules();
  const exists = rules.some((r) => r.id === rule.id);
  if (!replace && exists) fail("ALREADY_EXISTS", `rule ${rule.id} already exists`);
  if (replace && !exists) fail("NOT_FOUND", `no rule ${rule.id}`);
  return applyPolicy(reg, [...rules.filter((r) => r.id !== rule.id), rule], actor);
}

/** Removes a rule; throws NOT_FOUND. */
export async function deleteRule(reg: Registry, id: string, actor: string): Promise<ApplyResult> {
  const rules = await reg.policy.rules();
  if (!rules.some((r) => r.id === id)) fail("NOT_FOUND", `no rule ${id}`);
  return applyPolicy(reg, rules.filter((r) => r.id !== id), actor);
}
