/**
 * @module The policy as a running process sees it: rules loaded once and
 * compiled, reloaded only when they change. Another process's commit
 * moves SQLite's data_version; only then is the policy version read, and
 * only when that moved are the rules reloaded. So a `mcr policy apply`
 * from a script takes effect on the next request, and requests do not
 * re-read the rules.
 */
import type { Kysely } from "kysely";
import type { Identity } from "../auth/identity.ts";
import { dataVersion, loadRuleRows, policyVersion } from "../db/queries/policy.ts";
import type { DB } from "../db/schema.ts";
import { compilePolicy, evaluate, type CompiledPolicy, type Decision } from "./evaluate.ts";
import { parseRules, type PolicyAction, type Rule } from "./rule.ts";

/** The policy at one moment: see PolicyEngine.snapshot. */
export interface PolicySnapshot {
  /** SQLite's data_version when the rules were checked. */
  dataVersion: number;
  decide(identity: Identity, action: PolicyAction, repository: string): Decision;
}

/** Answers authorization questions from the stored policy. */
export class PolicyEngine {
  private compiled: CompiledPolicy | null = null;
  private version = -1;
  private seenDataVersion = -1;
  /** When false (auth.anonymous = false), no rule can grant anonymous callers anything. */
  allowAnonymous = true;

  constructor(private readonly db: Kysely<DB>) {}

  /** The current rule set, compiled. */
  async current(): Promise<CompiledPolicy> {
    const data = await dataVersion(this.db);
    if (this.compiled && data === this.seenDataVersion) return this.compiled;
    this.seenDataVersion = data;
    const version = await policyVersion(this.db);
    if (this.compiled && version === this.version) return this.compiled;
    const rules = parseRules(await loadRuleRows(this.db));
    this.compiled = compilePolicy(rules);
    this.version = version;
    return this.compiled;
  }

  /**
   * The rules as they are now and the data_version they were checked at,
   * with a decision function over them: one freshness check for a whole
   * request (the account check reuses its data_version, see changes.ts).
   */
  async snapshot(): Promise<PolicySnapshot> {
    const policy = await this.current();
    return {
      dataVersion: this.seenDataVersion,
      decide: (identity, action, repository) => this.anonymousRefusal(identity) ?? evaluate(policy, identity, action, repository),
    };
  }

  /** The stored rules, in priority order. */
  async rules(): Promise<readonly Rule[]> {
    return (await this.current()).rules;
  }

  /** May `identity` do `action` on `repository`? */
  async decide(identity: Identity, action: PolicyAction, repository: string): Promise<Decision> {
    return this.anonymousRefusal(identity) ?? evaluate(await this.current(), identity, action, repository);
  }

  /** The refusal every anonymous request gets when auth.anonymous is false; null otherwise. */
  private anonymousRefusal(identity: Identity): Decision | null {
    if (identity.kind !== "anonymous" || this.allowAnonymous) return null;
    return { allowed: false, reason: "anonymous access is turned off (auth.anonymous = false)", decidedBy: [], matched: [] };
  }

  /** Forgets the loaded rules; this process just changed them. */
  invalidate(): void {
    this.compiled = null;
  }
}
