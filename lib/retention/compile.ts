/**
 * @module Rules prepared for evaluation: globs compiled once, durations in
 * milliseconds; and which rules cover a repository.
 */
import { globToRegExp } from "../policy/glob.ts";
import { durationMs, tagGlobToRegExp, type RetentionRule } from "./rule.ts";

/** A rule ready to evaluate. */
export interface CompiledRetentionRule {
  rule: RetentionRule;
  repositories: RegExp[];
  tags: RegExp[];
  keepPushedMs: number | null;
  keepPulledMs: number | null;
  untaggedAfterMs: number | null;
}

/** The enabled rules, compiled, in file order. */
export function compileRetention(rules: readonly RetentionRule[]): CompiledRetentionRule[] {
  return rules
    .filter((r) => r.enabled)
    .map((rule) => ({
      rule,
      repositories: rule.repositories.map(globToRegExp),
      tags: rule.keep_tags.map(tagGlobToRegExp),
      keepPushedMs: durationMs(rule.keep_pushed_within),
      keepPulledMs: durationMs(rule.keep_pulled_within),
      untaggedAfterMs: durationMs(rule.untagged_after),
    }));
}

/** The rules whose globs cover repository `name`. */
export function coveringRules(rules: readonly CompiledRetentionRule[], name: string): CompiledRetentionRule[] {
  return rules.filter((r) => r.repositories.some((p) => p.test(name)));
}

/** `40d`, `3h`, `12m`, `5s`: the largest whole unit, for explanations. */
export function roughly(ms: number): string {
  for (const [unit, size] of [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000]] as const) {
    if (ms >= size) return `${Math.floor(ms / size)}${unit}`;
  }
  return `${Math.max(0, Math.floor(ms / 1000))}s`;
}
