/**
 * @module Retention files: TOML (`[[rule]]` tables) or JSON (`{"rules": [...]}`),
 * parsed with messages that name the line, and written back in a stable
 * form so that `show > f; apply -f f` changes nothing.
 */
import { fail } from "../errors.ts";
import { detectFormat, quote, readRuleDocument, type PolicyFormat } from "../policy/policy-file.ts";
import { checkRetentionRules, RULE_FIELDS, type RetentionRule } from "./rule.ts";

/** Parses and validates a retention document; throws INVALID_ARGUMENT with every problem, by line for TOML. */
export function parseRetentionText(text: string, format: PolicyFormat = detectFormat(text)): RetentionRule[] {
  const { list, lineOf } = readRuleDocument(text, format, "a retention file");
  const where = (index: number, field: string | null) => {
    const line = lineOf(index, field);
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
