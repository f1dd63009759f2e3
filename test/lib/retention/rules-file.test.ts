/**
 * @module Retention files written back: `mcr retention show > f; apply -f f`
 * gives the same rules, whatever characters a description holds (DEL,
 * which TOML forbids raw, C1 controls and bidi overrides come out escaped),
 * and a stray quoted key is reported at its rule.
 */
import { describe, expect, test } from "bun:test";
import { formatRetentionToml, parseRetentionText } from "../../../lib/retention/rules-file.ts";

describe("retention files", () => {
  test("a description with DEL, a C1 control and a bidi override prints escaped and parses back exact", () => {
    const [rule] = parseRetentionText(`[[rule]]\nid = "ci"\nrepositories = ["ci/**"]\nkeep_last = 3\ndescription = "a\\u007fb\\u009bc\\u202ed"\n`);
    expect(rule!.description).toBe("a\u007fb\u009bc\u202ed");
    const text = formatRetentionToml([rule!]);
    expect(text).not.toMatch(/[\u007f\u009b\u202e]/);
    expect(text).toContain('description = "a\\u007fb\\u009bc\\u202ed"');
    expect(parseRetentionText(text)).toEqual([rule!]);
  });

  test("a quoted key that is no plain name is reported at its rule", () => {
    expect(() => parseRetentionText(`[[rule]]\nid = "ci"\nrepositories = ["ci/**"]\nkeep_last = 3\n"a(" = 1\n`)).toThrow(/line 1: rule 1 \("ci"\): .*a\(/);
  });
});
