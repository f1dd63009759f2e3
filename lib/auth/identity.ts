/**
 * @module Who is asking: an account (and how it proved it) or nobody.
 */
import type { Role, UserKind } from "../db/schema.ts";

/** The actions a request can need on a repository. */
export const actions = ["pull", "push", "delete", "catalog"] as const;
export type Action = (typeof actions)[number];

/** An authenticated account. */
export interface UserIdentity {
  kind: "user";
  userId: number;
  name: string;
  role: Role;
  userKind: UserKind;
  /** How the request proved it: a password, an access token, or a registry JWT. */
  via: "password" | "token" | "jwt" | "session";
  /** The access token used, directly or to obtain a JWT; its revocation ends access. */
  tokenId: string | null;
  /**
   * With `via: "password"`, the account's password version the password was
   * checked against: what it yields (a session, a refresh token, a JWT)
   * carries it and dies when the password changes.
   */
  passwordVersion?: number;
}

/** Someone who gave no credentials. */
export interface AnonymousIdentity {
  kind: "anonymous";
}

export type Identity = UserIdentity | AnonymousIdentity;

/** Who is calling and from where: what lib/ needs to decide and to audit. */
export interface Caller {
  identity: Identity;
  source: string | null;
}

/** The nobody identity. */
export const ANONYMOUS: AnonymousIdentity = { kind: "anonymous" };

/** The audit log's name for an identity: `user:NAME`, `robot:NAME` or `anonymous`. */
export function actorOf(identity: Identity): string {
  if (identity.kind === "anonymous") return "anonymous";
  return `${identity.userKind === "robot" ? "robot" : "user"}:${identity.name}`;
}
