/**
 * @module What applying a rule set would change: rules added, removed, and
 * changed field by field.
 */
import type { Rule } from "./rule.ts";

/** One changed field of a rule. */
export interface FieldChange {
  field: keyof Rule;
  before: unknown;
  after: unknown;
}

/** The difference between two rule sets, by rule id. */
export interface PolicyDiff {
  added: Rule[];
  removed: Rule[];
  changed: { id: string; changes: FieldChange[] }[];
}

const FIELDS: (keyof Rule)[] = ["priority", "effect", "subjects", "actions", "repositories", "enabled", "description"];

/** What turns `before` into `after`. */
export function diffRules(before: readonly Rule[], after: readonly Rule[]): PolicyDiff {
  const old = new Map(before.map((r) => [r.id, r]));
  const next = new Map(after.map((r) => [r.id, r]));
  const changed: PolicyDiff["changed"] = [];
  for (const [id, rule] of next) {
    const prior = old.get(id);
    if (!prior) continue;
    const changes = FIELDS.filter((f) => JSON.stringify(prior[f]) !== JSON.stringify(rule[f])).map((f) => ({ field: f, before: prior[f], after: rule[f] }));
    if (changes.length > 0) changed.push({ id, changes });
  }
  return {
    added: after.filter((r) => !old.has(r.id)),
    removed: before.filter((r) => !next.has(r.id)),
    changed,
  };
}

/** Whether a diff changes nothing. */
export function isEmptyDiff(diff: PolicyDiff): boolean {
  return diff.added.length === 0 && diff.removed.length === 0 && diff.changed.length === 0;
}
