/**
 * @module Evaluating the policy: admins bypass it; otherwise every enabled
 * rule that matches the subject, action and repository is collected, any
 * deny wins, else any allow grants, else the default is deny. The
 * decision lists the rules that made it, so it can be explained.
 */
import type { Identity } from "../auth/identity.ts";
import { globToRegExp } from "./glob.ts";
import { sortRules, type Effect, type PolicyAction, type Rule } from "./rule.ts";

/** A rule that took part in a decision. */
export interface RuleRef {
  id: string;
  effect: Effect;
  description: string;
}

/** An authorization answer, why, and which rules made it. */
export interface Decision {
  allowed: boolean;
  reason: string;
  /** The rules that decided: the denies when denied, the allows when allowed, none by default. */
  decidedBy: RuleRef[];
  /** Every enabled rule that matched, in priority order. */
  matched: RuleRef[];
}

/** A rule set prepared for fast evaluation. */
export interface CompiledPolicy {
  rules: readonly Rule[];
  patterns: ReadonlyMap<string, RegExp[]>;
}

/** Sorts the rules and compiles their globs once. */
export function compilePolicy(rules: readonly Rule[]): CompiledPolicy {
  const sorted = sortRules(rules);
  return { rules: sorted, patterns: new Map(sorted.map((r) => [r.id, r.repositories.map(globToRegExp)])) };
}

/** Whether a rule's subject list covers `identity`. Roles name human accounts; robots are named or `robots`. */
export function subjectMatches(subject: string, identity: Identity): boolean {
  if (subject === "*") return true;
  if (identity.kind === "anonymous") return subject === "anonymous";
  if (subject === "authenticated") return true;
  if (identity.userKind === "robot") return subject === "robots" || subject === `robot:${identity.name}`;
  return subject === `user:${identity.name}` || subject === `role:${identity.role}`;
}

const ref = (r: Rule): RuleRef => ({ id: r.id, effect: r.effect, description: r.description });

/** May `identity` do `action` on `repository` under `policy`? */
export function evaluate(policy: CompiledPolicy, identity: Identity, action: PolicyAction, repository: string): Decision {
  if (identity.kind === "user" && identity.role === "admin") {
    return { allowed: true, reason: "admins bypass the policy", decidedBy: [], matched: [] };
  }
  const matched = policy.rules.filter(
    (r) =>
      r.enabled &&
      r.actions.includes(action) &&
      r.subjects.some((s) => subjectMatches(s, identity)) &&
      // The catalog is not about one repository: a catalog rule matches whatever its globs say.
      (action === "catalog" || (policy.patterns.get(r.id) ?? []).some((p) => p.test(repository))),
  );
  const denies = matched.filter((r) => r.effect === "deny");
  if (denies.length > 0) {
    return { allowed: false, reason: `denied by rule ${denies.map((r) => r.id).join(", ")}`, decidedBy: denies.map(ref), matched: matched.map(ref) };
  }
  const allows = matched.filter((r) => r.effect === "allow");
  if (allows.length > 0) {
    return { allowed: true, reason: `allowed by rule ${allows.map((r) => r.id).join(", ")}`, decidedBy: allows.map(ref), matched: matched.map(ref) };
  }
  return { allowed: false, reason: "no rule allows it (default deny)", decidedBy: [], matched: [] };
}
