/**
 * @module Policy files: TOML and JSON, errors by line, and a stable
 * form so that printing and applying again changes nothing.
 */
import { describe, expect, test } from "bun:test";
import { RegistryError } from "../../../lib/errors.ts";
import { defaultRules } from "../../../lib/policy/defaults.ts";
import { diffRules, isEmptyDiff } from "../../../lib/policy/diff.ts";
import { formatPolicyJson, formatPolicyToml, parsePolicyText } from "../../../lib/policy/policy-file.ts";

const example = `# The issue's example.
[[rule]]
id = "ci-push"
priority = 10
effect = "allow"
subjects = ["robot:ci"]
actions = ["pull", "push"]
repositories = ["ci/*"]
description = "CI may push to ci/*"

[[rule]]
id = "public-pull"
effect = "allow"
subjects = ["*"]
actions = ["pull"]
repositories = ["public/**"]
`;

function problems(text: string): string {
  try {
    parsePolicyText(text);
  } catch (error) {
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).code).toBe("INVALID_ARGUMENT");
    return (error as Error).message;
  }
  throw new Error("accepted");
}

describe("policy files", () => {
  test("TOML fills defaults (priority 0, enabled, empty description)", () => {
    const rules = parsePolicyText(example);
    expect(rules).toHaveLength(2);
    expect(rules[1]).toEqual({ id: "public-pull", priority: 0, effect: "allow", subjects: ["*"], actions: ["pull"], repositories: ["public/**"], enabled: true, description: "" });
  });

  test("printing and parsing again gives the same rules, in TOML and JSON", () => {
    const rules = [...parsePolicyText(example), ...defaultRules];
    for (const text of [formatPolicyToml(rules), formatPolicyJson(rules)]) {
      expect(isEmptyDiff(diffRules(rules, parsePolicyText(text)))).toBe(true);
    }
    expect(formatPolicyToml(parsePolicyText(formatPolicyToml(rules)))).toBe(formatPolicyToml(rules));
  });

  test("semantic problems are reported all at once, each with its line", () => {
    const text = `[[rule]]
id = "a"
effect = "allow"
subjects = ["robot:ci"]
actions = ["pull", "pushh"]
repositories = ["ci/***"]

[[rule]]
id = "a"
effect = "maybe"
subjects = ["nobody"]
actions = ["pull"]
repositories = ["x"]
enabled = "yes"
colour = "red"
`;
    const message = problems(text);
    expect(message).toContain('line 5: rule 1 ("a"): unknown action "pushh"');
    expect(message).toContain('line 6: rule 1 ("a"): bad repository glob "ci/***"');
    expect(message).toContain('line 10: rule 2 ("a"): effect must be "allow" or "deny"');
    expect(message).toContain('line 11: rule 2 ("a"): unknown subject "nobody"');
    expect(message).toContain("line 14: rule 2");
    expect(message).toContain('line 15: rule 2 ("a"): unknown field "colour"');
  });

  test("duplicate ids, wrong types, syntax errors and stray keys are refused", () => {
    expect(problems(`${example}\n[[rule]]\nid = "ci-push"\neffect = "deny"\nsubjects = ["*"]\nactions = ["pull"]\nrepositories = ["x"]\n`)).toContain('duplicate id "ci-push"');
    expect(problems(`[[rule]]\nid = "x"\neffect = "allow"\nsubjects = "robot:ci"\nactions = ["pull"]\nrepositories = ["x"]\n`)).toContain("subjects must be a non-empty list");
    expect(problems(`[[rule]]\nid = "x"\npriority = 1.5\neffect = "allow"\nsubjects = ["*"]\nactions = []\nrepositories = ["x"]\n`)).toMatch(/priority must be an integer[\s\S]*actions must be a non-empty list/);
    expect(problems(`[[rule]]\nid = "x"\nactions = ["pull"`)).toContain("not valid TOML");
    expect(problems(`title = "x"\n`)).toContain('unknown top-level key "title"');
    expect(problems(`{"rules": [{"id": "x"}]}`)).toContain("rule 1");
    expect(problems(`{"rules": 5}`)).toContain('"rules" must be a list');
    // A quoted key that is no plain name is reported at its rule, not taken for a pattern.
    expect(problems(`[[rule]]\nid = "x"\neffect = "allow"\nsubjects = ["*"]\nactions = ["pull"]\nrepositories = ["x"]\n"a(" = 1\n`)).toContain('line 1: rule 1 ("x"): unknown field "a("');
  });

  test("an empty document is an empty policy (everything denied but admins)", () => {
    expect(parsePolicyText("")).toEqual([]);
    expect(parsePolicyText('{"rules": []}')).toEqual([]);
  });
});
