/**
 * @module Retention rules: what a rule is, and checking one as a person
 * wrote it, field by field. A rule covers repositories by glob (as the
 * policy does) and keeps tags by selectors; `untagged_after` removes
 * manifests that lost or never had a tag.
 */
import { parseDuration } from "../config/duration.ts";
import { checkGlob, globToRegExp } from "../policy/glob.ts";

/** One retention rule, as stored and shown. Durations are kept as written (`30d`). */
export interface RetentionRule {
  id: string;
  repositories: string[];
  /** The N most recently pushed tags of each repository. */
  keep_last: number | null;
  /** Tags whose names match one of these globs (`*` any run of characters). */
  keep_tags: string[];
  /** Tags pushed or moved within this long. */
  keep_pushed_within: string | null;
  /** Tags whose manifest was pulled (GET or HEAD) within this long. */
  keep_pulled_within: string | null;
  /** Untagged manifests unused (not pushed, pulled or checked) for this long are removed. */
  untagged_after: string | null;
  /** The rule may remove every tag of a repository; otherwise such a repository is skipped. */
  allow_empty: boolean;
  /** The rule may remove tags of repositories the policy makes immutable. */
  override_immutable: boolean;
  enabled: boolean;
  description: string;
}

/** The fields of a rule, in the order files show them. */
export const RULE_FIELDS = [
  "id",
  "repositories",
  "keep_last",
  "keep_tags",
  "keep_pushed_within",
  "keep_pulled_within",
  "untagged_after",
  "allow_empty",
  "override_immutable",
  "enabled",
  "description",
] as const satisfies readonly (keyof RetentionRule)[];

/** A rule problem, with the field it is about (for line numbers in files). */
export interface RuleIssue {
  field: string | null;
  message: string;
}

const RULE_ID = /^[a-z0-9][a-z0-9._:-]{0,63}$/;
const TAG_GLOB = /^[A-Za-z0-9_.*-]{1,128}$/;
const MAX_KEEP_LAST = 1_000_000;
/** The shortest duration a rule may name: pulls are recorded a few seconds late, pushes never. */
const MIN_DURATION_MS = 60_000;

/** Why `glob` is not a valid tag glob, or null. Tags have no `/`, so `*` matches any run of characters. */
export function checkTagGlob(glob: string): string | null {
  if (!TAG_GLOB.test(glob)) return "only letters, digits, '_', '.', '-' and '*' (at most 128)";
  return null;
}

/** A regular expression matching exactly the tags `glob` covers. */
export function tagGlobToRegExp(glob: string): RegExp {
  // Tags never contain "/", so the repository glob's one-segment "*" is "any run of characters" here.
  return globToRegExp(glob);
}

/** A rule's duration in milliseconds, or null when the selector is not set. */
export function durationMs(text: string | null): number | null {
  return text === null ? null : parseDuration(text);
}

/** Whether a rule decides about tags (it has a keep selector); one without only cleans untagged manifests. */
export function keepsTags(rule: RetentionRule): boolean {
  return rule.keep_last !== null || rule.keep_tags.length > 0 || rule.keep_pushed_within !== null || rule.keep_pulled_within !== null;
}

/** Checks one rule as written; returns it with defaults filled, or the problems. */
export function parseRetentionRule(value: unknown): { rule: RetentionRule; issues: [] } | { rule: null; issues: RuleIssue[] } {
  const issues: RuleIssue[] = [];
  const issue = (field: string | null, message: string) => issues.push({ field, message });
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { rule: null, issues: [{ field: null, message: "a rule must be a table/object" }] };
  const raw = value as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!(RULE_FIELDS as readonly string[]).includes(key)) issue(key, `unknown field "${key}" (fields: ${RULE_FIELDS.join(", ")})`);
  }
  if (typeof raw.id !== "string" || !RULE_ID.test(raw.id)) issue("id", 'id must be 1-64 characters: lowercase letters, digits, ".", "_", ":", "-"');
  const repositories = stringList(raw.repositories, "repositories", issue, false);
  for (const glob of repositories) {
    const problem = checkGlob(glob);
    if (problem) issue("repositories", `bad repository glob "${glob}": ${problem}`);
  }
  const keepLast = raw.keep_last ?? null;
  if (keepLast !== null && (typeof keepLast !== "number" || !Number.isInteger(keepLast) || keepLast < 0 || keepLast > MAX_KEEP_LAST)) {
    issue("keep_last", `keep_last must be an integer from 0 to ${MAX_KEEP_LAST}`);
  }
  const keepTags = raw.keep_tags === undefined ? [] : stringList(raw.keep_tags, "keep_tags", issue, true);
  for (const glob of keepTags) {
    const problem = checkTagGlob(glob);
    if (problem) issue("keep_tags", `bad tag glob "${glob}": ${problem}`);
  }
  const durations = ["keep_pushed_within", "keep_pulled_within", "untagged_after"] as const;
  const parsedDurations: Record<string, string | null> = {};
  for (const field of durations) {
    const text = raw[field] ?? null;
    parsedDurations[field] = null;
    if (text === null) continue;
    if (typeof text !== "string") {
      issue(field, `${field} must be a duration such as "30d"`);
      continue;
    }
    try {
      if (parseDuration(text) < MIN_DURATION_MS) issue(field, `${field} must be at least 1m`);
      else parsedDurations[field] = text.trim();
    } catch (error) {
      issue(field, `${field}: ${(error as Error).message}`);
    }
  }
  const flags = { allow_empty: false, override_immutable: false, enabled: true };
  for (const field of Object.keys(flags) as (keyof typeof flags)[]) {
    const v = raw[field] ?? flags[field];
    if (typeof v !== "boolean") issue(field, `${field} must be true or false`);
    else flags[field] = v;
  }
  const description = raw.description ?? "";
  if (typeof description !== "string" || description.length > 500) issue("description", "description must be a string of at most 500 characters");
  if (issues.length > 0) return { rule: null, issues };
  const rule: RetentionRule = {
    id: raw.id as string,
    repositories,
    keep_last: keepLast as number | null,
    keep_tags: keepTags,
    keep_pushed_within: parsedDurations.keep_pushed_within ?? null,
    keep_pulled_within: parsedDurations.keep_pulled_within ?? null,
    untagged_after: parsedDurations.untagged_after ?? null,
    ...flags,
    description: description as string,
  };
  if (!keepsTags(rule) && rule.untagged_after === null) {
    return { rule: null, issues: [{ field: null, message: "a rule needs a keep selector (keep_last, keep_tags, keep_pushed_within, keep_pulled_within) or untagged_after" }] };
  }
  return { rule, issues: [] };
}

function stringList(value: unknown, field: string, issue: (field: string, message: string) => void, allowEmpty: boolean): string[] {
  if (!Array.isArray(value) || (!allowEmpty && value.length === 0) || value.length > 100 || !value.every((v) => typeof v === "string")) {
    issue(field, `${field} must be a ${allowEmpty ? "" : "non-empty "}list of at most 100 strings`);
    return [];
  }
  return value as string[];
}

/** Checks a whole rule set; returns the rules or every problem, each prefixed by where it is (`rule 2 ("ci")`). */
export function checkRetentionRules(values: readonly unknown[], where: (index: number, field: string | null) => string): { rules: RetentionRule[]; problems: string[] } {
  const rules: RetentionRule[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  if (values.length > 1000) problems.push("at most 1000 rules");
  values.forEach((value, index) => {
    const parsed = parseRetentionRule(value);
    if (!parsed.rule) {
      for (const i of parsed.issues) problems.push(`${where(index, i.field)}: ${i.message}`);
      return;
    }
    if (seen.has(parsed.rule.id)) problems.push(`${where(index, "id")}: duplicate id "${parsed.rule.id}"`);
    seen.add(parsed.rule.id);
    rules.push(parsed.rule);
  });
  return { rules, problems };
}
