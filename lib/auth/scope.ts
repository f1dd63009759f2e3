/**
 * @module Docker token scopes (`repository:NAME:pull,push`,
 * `registry:catalog:*`) and the access a token grants for them.
 */
import type { PolicyEngine } from "../policy/engine.ts";
import type { Action, Identity } from "./identity.ts";
import type { AccessClaim } from "./jwt.ts";

/** One requested scope. */
export interface Scope {
  type: "repository" | "registry";
  name: string;
  actions: string[];
}

/** Most scopes honoured in one token request. */
const MAX_SCOPES = 32;

/** Parses `scope` parameters (each may hold several, space-separated); malformed ones are dropped. */
export function parseScopes(values: readonly string[]): Scope[] {
  const scopes: Scope[] = [];
  for (const value of values.flatMap((v) => v.split(" "))) {
    const match = /^(repository|registry)(?:\([a-z0-9]+\))?:([^:]{1,255}):([a-z*,]{1,64})$/.exec(value);
    if (!match) continue;
    scopes.push({ type: match[1] as Scope["type"], name: match[2]!, actions: match[3]!.split(",").filter(Boolean) });
    if (scopes.length >= MAX_SCOPES) break;
  }
  return scopes;
}

const repositoryActions: readonly Action[] = ["pull", "push", "delete"];

/** The subset of `scopes` that `identity` may have, as token access claims. */
export async function grantScopes(policy: PolicyEngine, identity: Identity, scopes: readonly Scope[]): Promise<AccessClaim[]> {
  const claims: AccessClaim[] = [];
  for (const scope of scopes) {
    if (scope.type === "registry") {
      if (scope.name === "catalog" && (await policy.decide(identity, "catalog", "")).allowed) {
        claims.push({ type: "registry", name: "catalog", actions: ["*"] });
      }
      continue;
    }
    const wanted = scope.actions.includes("*") ? repositoryActions : repositoryActions.filter((a) => scope.actions.includes(a));
    const granted: string[] = [];
    for (const action of wanted) {
      if ((await policy.decide(identity, action, scope.name)).allowed) granted.push(action);
    }
    claims.push({ type: "repository", name: scope.name, actions: granted });
  }
  return claims;
}

/** Whether token claims include `action` on repository `name` (or the catalog). */
export function claimsAllow(claims: readonly AccessClaim[], action: Action, name: string): boolean {
  if (action === "catalog") return claims.some((c) => c.type === "registry" && c.name === "catalog");
  return claims.some((c) => c.type === "repository" && c.name === name && (c.actions.includes(action) || c.actions.includes("*")));
}
