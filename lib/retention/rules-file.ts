/**
 * @module Retention files: TOML (`[[rule]]` tables) or JSON (`{"rules": [...]}`),
 * parsed with messages that name the line, and written back in a stable
 * form so that `show > f; apply -f f` changes nothing.
 */
import { fail } from "../errors.ts";
import { detectFormat, type PolicyFormat } from "../policy/policy-file.ts";
import { checkRetentionRules, RULE_FIELDS, type RetentionRule } from "./rule.ts";

/** Parses and validates a retention document; throws INVALID_ARGUMENT with every problem, by line for TOML. */
export function parseRetentionText(text: string, format: PolicyFormat = detectFormat(text)): RetentionRule[] {
  let doc: unknown;
  try {
    doc = format === "json" ? JSON.parse(text) : Bun.TOML.parse(text);
  } catch (error) {
    fail("INVALID_ARGUMENT", `not valid ${format.toUpperCase()}: ${(error as Error).message.replace(/^TOML Parse error: /, "")}`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) fail("INVALID_ARGUMENT", "a retention file is a document of rules");
  const { rule, rules, ...rest } = doc as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) fail("INVALID_ARGUMENT", `unknown top-level key "${unknown[0]}": a retention file has only ${format === "toml" ? "[[rule]] tables" : '"rules"'}`);
  const list = format === "toml" ? (rule ?? []) : (rules ?? []);
  if (!Array.isArray(list)) fail("INVALID_ARGUMENT", format === "toml" ? "rules are written as [[rule]] tables" : '"rules" must be a list');
  const headers = format === "toml" ? ruleLines(text) : null;
  const lines = text.split("\n");
  const where = (index: number, field: string | null) => {
    const line = headers ? fieldLine(lines, headers, index, field) : null;
    const id = (list[index] as { id?: unknown } | null)?.id;
    return `${line !== null ? `line ${line}: ` : ""}rule ${index + 1}${typeof id === "string" ? ` (${JSON.stringify(id.slice(0, 64))})` : ""}`;
  };
  const { rules: parsed, problems } = checkRetentionRules(list, where);
  if (problems.length > 0) fail("INVALID_ARGUMENT", problems.join("\n"), { problems });
  return parsed;
}

/** Checks rules given as values (the /v1 JSON body, the stored rows); throws INVALID_ARGUMENT. */
export function parseRetentionRules(values: readonly unknown[]): RetentionRule[] {
  const { rules, problems } = checkRetentionRules(values, (index) => `rule ${index + 1}`);
  if (problems.length > 0) fail("INVALID_ARGUMENT", problems.join("\n"), { problems });
  return rules;
}

/** 1-based line numbers of each `[[rule]]` header. */
function ruleLines(text: string): number[] {
  const found: number[] = [];
  text.split("\n").forEach((line, i) => {
    if (/^\s*\[\[\s*rule\s*\]\]/.test(line)) found.push(i + 1);
  });
  return found;
}

/** The line of `field` inside rule `index`, or the rule's header line. */
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

const quote = (s: string) => JSON.stringify(s);

/** The rules as a TOML document, in their order; unset selectors are left out. */
export function formatRetentionToml(rules: readonly RetentionRule[]): string {
  if (rules.length === 0) return "# no retention rules: nothing is removed by retention\n";
  const blocks = rules.map((r) => {
    const lines = ["[[rule]]"];
    for (const field of RULE_FIELDS) {
      const value = r[field];
      if (value === null || (Array.isArray(value) && value.length === 0 && field !== "repositories")) continue;
      if ((field === "allow_empty" || field === "override_immutable") && value === false) continue;
      if (field === "description" && value === "") continue;
      const text = Array.isArray(value) ? `[${value.map(quote).join(", ")}]` : typeof value === "string" ? quote(value) : String(value);
      lines.push(`${field} = ${text}`);
    }
    return lines.join("\n");
  });
  return `${blocks.join("\n\n")}\n`;
}

/** The rules as a JSON document. */
export function formatRetentionJson(rules: readonly RetentionRule[]): string {
  return `${JSON.stringify({ rules }, null, 2)}\n`;
}
