/**
 * @module Printing a policy diff for people: `+` added, `-` removed, `~` changed fields.
 */
import type { PolicyDiff } from "../lib/policy/diff.ts";
import { safe } from "./output.ts";

/** The diff as lines of text; "no changes" when empty. */
export function formatDiff(diff: PolicyDiff): string[] {
  const lines: string[] = [];
  for (const r of diff.added) lines.push(`+ ${r.id}: ${r.effect} ${r.subjects.join(",")} ${r.actions.join(",")} on ${r.repositories.join(",")}`);
  for (const r of diff.removed) lines.push(`- ${r.id}`);
  for (const c of diff.changed) {
    for (const f of c.changes) lines.push(`~ ${c.id}.${f.field}: ${JSON.stringify(f.before)} -> ${JSON.stringify(f.after)}`);
  }
  // Rule ids, subjects and globs are text someone typed (or a server sent): escaped for the terminal.
  return lines.length > 0 ? lines.map(safe) : ["no changes"];
}
