/**
 * @module Policy files: TOML (`[[rule]]` tables) or JSON (`{"rules": [...]}`),
 * parsed with messages that name the line, and written back in a stable
 * form so that `show > f; apply -f f` changes nothing.
 */
import { fail } from "../errors.ts";
import { parseRule, sortRules, type Rule } from "./rule.ts";

/** Which syntax a policy text is in. */
export type PolicyFormat = "toml" | "json";

/** Guesses the format: JSON documents start with `{`. */
export function detectFormat(text: string): PolicyFormat {
  return text.trimStart().startsWith("{") ? "json" : "toml";
}

/**
 * The rule list of a rules document (a policy, or retention rules: `[[rule]]`
 * tables in TOML, `{"rules": [...]}` in JSON), and where rule `index`'s
 * `field` is written (its line, for TOML). `kind` names the document in
 * messages ("a policy"). Throws INVALID_ARGUMENT when it is not one.
 */
export function readRuleDocument(text: string, format: PolicyFormat, kind: string): { list: unknown[]; lineOf: (index: number, field: string | null) => number | null } {
  let doc: unknown;
  try {
    doc = format === "json" ? JSON.parse(text) : Bun.TOML.parse(text);
  } catch (error) {
    fail("INVALID_ARGUMENT", `not valid ${format.toUpperCase()}: ${(error as Error).message.replace(/^TOML Parse error: /, "")}`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) fail("INVALID_ARGUMENT", `${kind} is a document of rules`);
  const { rule, rules, ...rest } = doc as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) fail("INVALID_ARGUMENT", `unknown top-level key "${unknown[0]}": ${kind} has only ${format === "toml" ? "[[rule]] tables" : '"rules"'}`);
  const list = format === "toml" ? (rule ?? []) : (rules ?? []);
  if (!Array.isArray(list)) fail("INVALID_ARGUMENT", format === "toml" ? "rules are written as [[rule]] tables" : '"rules" must be a list');
  const headers = format === "toml" ? ruleLines(text) : null;
  const lines = text.split("\n");
  return { list, lineOf: (index, field) => (headers ? fieldLine(lines, headers, index, field) : null) };
}

/** Parses and validates a policy document; throws INVALID_ARGUMENT with every problem, by line for TOML. */
export function parsePolicyText(text: string, format: PolicyFormat = detectFormat(text)): Rule[] {
  const { list, lineOf } = readRuleDocument(text, format, "a policy");
  const problems: string[] = [];
  const parsed: Rule[] = [];
  const seen = new Set<string>();
  list.forEach((value, index) => {
    const where = (field: string | null) => {
      const line = lineOf(index, field);
      return `${line !== null ? `line ${line}: ` : ""}rule ${index + 1}${typeof (value as { id?: unknown })?.id === "string" ? ` ("${(value as { id: string }).id}")` : ""}`;
    };
    const result = parseRule(value);
    if (!result.rule) {
      for (const issue of result.issues) problems.push(`${where(issue.field)}: ${issue.message}`);
      return;
    }
    if (seen.has(result.rule.id)) problems.push(`${where("id")}: duplicate id "${result.rule.id}"`);
    seen.add(result.rule.id);
    parsed.push(result.rule);
  });
  if (problems.length > 0) fail("INVALID_ARGUMENT", problems.join("\n"), { problems });
  return parsed;
}

/** 1-based line numbers of each `[[rule]]` header. */
function ruleLines(text: string): number[] {
  const found: number[] = [];
  text.split("\n").forEach((line, i) => {
    if (/^\s*\[\[\s*rule\s*\]\]/.test(line)) found.push(i + 1);
  });
  return found;
}

/** The line of `field` inside rule `index`, or the rule's header line (also for a field that is no plain key name). */
function fieldLine(lines: string[], headers: number[], index: number, field: string | null): number | null {
  const start = headers[index];
  if (start === undefined) return null;
  if (field === null || !/^[a-z_]+$/.test(field)) return start;
  const end = Math.min((headers[index + 1] ?? Number.MAX_SAFE_INTEGER) - 1, lines.length);
  for (let line = start; line < end; line++) {
    if (new RegExp(`^\\s*${field}\\s*=`).test(lines[line]!)) return line + 1;
  }
  return start;
}

/**
 * A TOML basic string. JSON.stringify escapes C0 controls; DEL (which TOML
 * forbids raw), C1 controls and bidi overrides are escaped too, so `mcr policy
 * show` on a terminal prints them visibly and the file still parses back exact.
 */
export const quote = (s: string) =>
  JSON.stringify(s).replace(/[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
const list = (items: readonly string[]) => `[${items.map(quote).join(", ")}]`;

/** The rules as a TOML document, in priority order. */
export function formatPolicyToml(rules: readonly Rule[]): string {
  const blocks = sortRules(rules).map((r) =>
    [
      "[[rule]]",
      `id = ${quote(r.id)}`,
      `priority = ${r.priority}`,
      `effect = ${quote(r.effect)}`,
      `subjects = ${list(r.subjects)}`,
      `actions = ${list(r.actions)}`,
      `repositories = ${list(r.repositories)}`,
      `enabled = ${r.enabled}`,
      `description = ${quote(r.description)}`,
    ].join("\n"),
  );
  return `${blocks.join("\n\n")}\n`;
}

/** The rules as a JSON document, in priority order. */
export function formatPolicyJson(rules: readonly Rule[]): string {
  return `${JSON.stringify({ rules: sortRules(rules) }, null, 2)}\n`;
}
