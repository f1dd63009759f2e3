/**
 * @module The access policy's rule: who (subjects) may or may not (effect)
 * do what (actions) where (repository globs), checked field by field.
 */
import { fail } from "../errors.ts";
import { checkGlob } from "./glob.ts";

/** What a rule can allow or deny. `overwrite` is moving an existing tag. */
export const policyActions = ["pull", "push", "delete", "catalog", "overwrite"] as const;
export type PolicyAction = (typeof policyActions)[number];

export const effects = ["allow", "deny"] as const;
export type Effect = (typeof effects)[number];

/** One rule of the access policy. */
export interface Rule {
  id: string;
  /** Higher first: the order rules are listed and explained in (any deny still wins). */
  priority: number;
  effect: Effect;
  subjects: string[];
  actions: PolicyAction[];
  repositories: string[];
  enabled: boolean;
  description: string;
}

const RULE_ID = /^[a-z0-9][a-z0-9._:-]{0,63}$/;
const SUBJECT = /^(?:\*|authenticated|anonymous|robots|role:(?:admin|user|guest)|(?:user|robot):[a-z0-9][a-z0-9._-]{0,63})$/;
const FIELDS = ["id", "priority", "effect", "subjects", "actions", "repositories", "enabled", "description"] as const;

/** A rule problem, with the field it is about (for line numbers in files). */
export interface RuleIssue {
  field: string | null;
  message: string;
}

/** Checks one rule as written by a person; returns the rule with defaults filled, or the problems. */
export function parseRule(value: unknown): { rule: Rule; issues: [] } | { rule: null; issues: RuleIssue[] } {
  const issues: RuleIssue[] = [];
  const issue = (field: string | null, message: string) => issues.push({ field, message });
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { rule: null, issues: [{ field: null, message: "a rule must be a table/object" }] };
  const raw = value as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!(FIELDS as readonly string[]).includes(key)) issue(key, `unknown field "${key}" (fields: ${FIELDS.join(", ")})`);
  }
  const id = raw.id;
  if (typeof id !== "string" || !RULE_ID.test(id)) issue("id", 'id must be 1-64 characters: lowercase letters, digits, ".", "_", ":", "-"');
  const priority = raw.priority ?? 0;
  if (typeof priority !== "number" || !Number.isInteger(priority) || Math.abs(priority) > 1_000_000) issue("priority", "priority must be an integer");
  const effect = raw.effect;
  if (!(effects as readonly unknown[]).includes(effect)) issue("effect", 'effect must be "allow" or "deny"');
  const subjects = stringList(raw.subjects, "subjects", issue);
  for (const s of subjects) if (!SUBJECT.test(s)) issue("subjects", `unknown subject "${s}" (user:NAME, robot:NAME, role:admin|user|guest, robots, authenticated, anonymous, *)`);
  const actions = stringList(raw.actions, "actions", issue);
  for (const a of actions) if (!(policyActions as readonly string[]).includes(a)) issue("actions", `unknown action "${a}" (${policyActions.join(", ")})`);
  const repositories = stringList(raw.repositories, "repositories", issue);
  for (const glob of repositories) {
    const problem = checkGlob(glob);
    if (problem) issue("repositories", `bad repository glob "${glob}": ${problem}`);
  }
  const enabled = raw.enabled ?? true;
  if (typeof enabled !== "boolean") issue("enabled", "enabled must be true or false");
  const description = raw.description ?? "";
  if (typeof description !== "string" || description.length > 500) issue("description", "description must be a string of at most 500 characters");
  if (issues.length > 0) return { rule: null, issues };
  return {
    rule: {
      id: id as string,
      priority: priority as number,
      effect: effect as Effect,
      subjects,
      actions: actions as PolicyAction[],
      repositories,
      enabled: enabled as boolean,
      description: description as string,
    },
    issues: [],
  };
}

function stringList(value: unknown, field: string, issue: (field: string, message: string) => void): string[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === "string")) {
    issue(field, `${field} must be a non-empty list of strings`);
    return [];
  }
  return value as string[];
}

/** Checks a whole rule set (as parsed values); throws INVALID_ARGUMENT listing every problem. */
export function parseRules(values: readonly unknown[]): Rule[] {
  const rules: Rule[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  values.forEach((value, index) => {
    const parsed = parseRule(value);
    if (!parsed.rule) {
      for (const i of parsed.issues) problems.push(`rule ${index + 1}: ${i.message}`);
      return;
    }
    if (seen.has(parsed.rule.id)) problems.push(`rule ${index + 1}: duplicate id "${parsed.rule.id}"`);
    seen.add(parsed.rule.id);
    rules.push(parsed.rule);
  });
  if (problems.length > 0) fail("INVALID_ARGUMENT", problems.join("\n"), { problems });
  return rules;
}

/** Rules in evaluation and display order: priority descending, then id. */
export function sortRules(rules: readonly Rule[]): Rule[] {
  return [...rules].sort((a, b) => b.priority - a.priority || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
