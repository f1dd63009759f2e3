/**
 * @module What applying a rule set would change: rules added, removed, and
 * changed field by field. Generic over the kind of rule (access policy,
 * retention), which are both sets of rules with ids.
 */
import type { Rule } from "./rule.ts";

/** One changed field of a rule. */
export interface FieldChange<T = Rule> {
  field: keyof T & string;
  before: unknown;
  after: unknown;
}

/** The difference between two rule sets, by rule id. */
export interface RuleSetDiff<T extends { id: string }> {
  added: T[];
  removed: T[];
  changed: { id: string; changes: FieldChange<T>[] }[];
}

/** The difference between two access policies. */
export type PolicyDiff = RuleSetDiff<Rule>;

const FIELDS: (keyof Rule & string)[] = ["priority", "effect", "subjects", "actions", "repositories", "enabled", "description"];

/** What turns `before` into `after`, comparing `fields` of rules with the same id. */
export function diffById<T extends { id: string }>(before: readonly T[], after: readonly T[], fields: readonly (keyof T & string)[]): RuleSetDiff<T> {
  const old = new Map(before.map((r) => [r.id, r]));
  const next = new Map(after.map((r) => [r.id, r]));
  const changed: RuleSetDiff<T>["changed"] = [];
  for (const [id, rule] of next) {
    const prior = old.get(id);
    if (!prior) continue;
    const changes = fields.filter((f) => JSON.stringify(prior[f]) !== JSON.stringify(rule[f])).map((f) => ({ field: f, before: prior[f], after: rule[f] }));
    if (changes.length > 0) changed.push({ id, changes });
  }
  return {
    added: after.filter((r) => !old.has(r.id)),
    removed: before.filter((r) => !next.has(r.id)),
    changed,
  };
}

/** What turns policy `before` into `after`. */
export function diffRules(before: readonly Rule[], after: readonly Rule[]): PolicyDiff {
  return diffById(before, after, FIELDS);
}

/** Whether a diff changes nothing. */
export function isEmptyDiff<T extends { id: string }>(diff: RuleSetDiff<T>): boolean {
  return diff.added.length === 0 && diff.removed.length === 0 && diff.changed.length === 0;
}
