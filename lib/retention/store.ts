/**
 * @module Changing the retention rules: the whole set is replaced in one
 * transaction, and the change is audited with before/after, as the
 * policy is. `mcr retention apply`, `edit` and `PUT /v1/retention` call it.
 */
import { loadRetentionRuleBodies, replaceRetentionRules } from "../db/queries/retention.ts";
import { diffById, isEmptyDiff, type RuleSetDiff } from "../policy/diff.ts";
import type { Registry } from "../registry/registry.ts";
import { parseRetentionRules } from "./rules-file.ts";
import { RULE_FIELDS, type RetentionRule } from "./rule.ts";

/** What changes from one rule set to another: the rules by id, and whether their order moved. */
export interface RetentionChange {
  diff: RuleSetDiff<RetentionRule>;
  /** The order is part of the set (it is the order plans explain in), so a reorder alone is a change. */
  reordered: boolean;
}

/** What an apply did (or, with dryRun, would do). */
export interface RetentionApplyResult extends RetentionChange {
  applied: boolean;
}

/** The change from rule set `before` to `after`. */
export function diffRetention(before: readonly RetentionRule[], after: readonly RetentionRule[]): RetentionChange {
  return {
    diff: diffById(before, after, RULE_FIELDS.filter((f) => f !== "id")),
    reordered: before.map((r) => r.id).join("\n") !== after.map((r) => r.id).join("\n"),
  };
}

/** Whether a change changes nothing. */
export function isNoChange(change: RetentionChange): boolean {
  return isEmptyDiff(change.diff) && !change.reordered;
}

/** The stored rules, in file order. */
export async function retentionRules(reg: Registry): Promise<RetentionRule[]> {
  return parseRetentionRules(await loadRetentionRuleBodies(reg.db));
}

/** Replaces the whole rule set with `rules` (validated again here); audited as `retention.changed`. */
export async function applyRetention(reg: Registry, rules: readonly RetentionRule[], actor: string, options: { dryRun?: boolean } = {}): Promise<RetentionApplyResult> {
  const next = parseRetentionRules(rules);
  const before = await retentionRules(reg);
  const change = diffRetention(before, next);
  const { diff } = change;
  if (options.dryRun || isNoChange(change)) return { ...change, applied: false };
  await reg.db.transaction().execute((trx) => replaceRetentionRules(trx, next));
  reg.audit.record({
    event: "retention.changed",
    actor,
    outcome: "success",
    detail: { before, after: next, added: diff.added.map((r) => r.id), removed: diff.removed.map((r) => r.id), changed: diff.changed.map((c) => c.id) },
  });
  return { ...change, applied: true };
}
