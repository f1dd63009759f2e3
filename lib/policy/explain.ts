/**
 * @module `mcr policy test`: the decision for a named account (or
 * anonymous), as the server would make it.
 */
import { ANONYMOUS, type Identity } from "../auth/identity.ts";
import { findUserByName } from "../db/queries/users.ts";
import { fail } from "../errors.ts";
import type { Registry } from "../registry/registry.ts";
import type { Decision } from "./evaluate.ts";
import { policyActions, type PolicyAction } from "./rule.ts";

/** The decision for `user` (a name, or "anonymous") doing `action` on `repository`. */
export async function explainDecision(reg: Registry, user: string, action: string, repository: string): Promise<Decision & { subject: string }> {
  if (!(policyActions as readonly string[]).includes(action)) fail("INVALID_ARGUMENT", `unknown action "${action}" (${policyActions.join(", ")})`);
  let identity: Identity = ANONYMOUS;
  if (user !== "anonymous") {
    const row = await findUserByName(reg.db, user);
    if (!row) fail("NOT_FOUND", `no user ${user}`);
    identity = { kind: "user", userId: row.id, name: row.name, role: row.role, userKind: row.kind, via: "password", tokenId: null };
    if (row.disabled !== 0) return { allowed: false, reason: `${user} is disabled`, decidedBy: [], matched: [], subject: user };
  }
  return { ...(await reg.policy.decide(identity, action as PolicyAction, repository)), subject: user };
}
