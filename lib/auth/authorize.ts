/**
 * @module The one authorization decision every request goes through. Until
 * the access policy lands the rule is built in: admins may do anything,
 * human users pull/push/delete, robots and guests only pull, anonymous
 * nothing. Every decision says why.
 */
import type { Action, Identity } from "./identity.ts";

/** An authorization answer and the reason for it. */
export interface Decision {
  allowed: boolean;
  reason: string;
}

/** May `identity` perform `action` on `repository`? */
export async function authorize(identity: Identity, action: Action, _repository: string): Promise<Decision> {
  if (identity.kind === "anonymous") return { allowed: false, reason: "anonymous access is not allowed" };
  if (identity.role === "admin") return { allowed: true, reason: "admins may do anything" };
  if (action === "pull" || action === "catalog") return { allowed: true, reason: "every account may pull" };
  if (identity.userKind === "human" && identity.role === "user") {
    return { allowed: true, reason: "human users may pull, push and delete" };
  }
  return { allowed: false, reason: `${identity.userKind === "robot" ? "robots" : "guests"} may only pull` };
}
