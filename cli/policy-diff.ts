/**
 * @module Printing a rule-set diff for people: `+` added, `-` removed, `~`
 * changed fields. Used for the access policy and for retention rules.
 */
import type { PolicyDiff, RuleSetDiff } from "../lib/policy/diff.ts";
import { safe } from "./output.ts";

/** A diff of any rule set as lines of text, each added rule summarised by `describe`; "no changes" when empty. */
export function formatRuleSetDiff<T extends { id: string }>(diff: RuleSetDiff<T>, describe: (rule: T) => string): string[] {
  const lines: string[] = [];
  for (const r of diff.added) lines.push(`+ ${r.id}: ${describe(r)}`);
  for (const r of diff.removed) lines.push(`- ${r.id}`);
  for (const c of diff.changed) {
    for (const f of c.changes) lines.push(`~ ${c.id}.${f.field}: ${JSON.stringify(f.before)} -> ${JSON.stringify(f.after)}`);
  }
  // Rule ids, subjects and globs are text someone typed (or a server sent): escaped for the terminal.
  return lines.length > 0 ? lines.map(safe) : ["no changes"];
}

/** The policy diff as lines of text; "no changes" when empty. */
export function formatDiff(diff: PolicyDiff): string[] {
  return formatRuleSetDiff(diff, (r) => `${r.effect} ${r.subjects.join(",")} ${r.actions.join(",")} on ${r.repositories.join(",")}`);
}
