/**
 * @module The one place /v2 requests are authenticated and authorized:
 * each route declares the access it needs; this answers 401 with a Bearer
 * challenge (so clients fetch a token for the right scope) or 403.
 */
import type { Authenticator } from "../../lib/auth/authenticator.ts";
import { ANONYMOUS, actorOf, type Action, type Identity } from "../../lib/auth/identity.ts";
import type { AccessClaim } from "../../lib/auth/jwt.ts";
import { claimsAllow } from "../../lib/auth/scope.ts";
import { isTokenString } from "../../lib/auth/tokens.ts";
import { fail, RegistryError } from "../../lib/errors.ts";
import type { PolicySnapshot } from "../../lib/policy/engine.ts";
import type { Registry } from "../../lib/registry/registry.ts";
import { parseAuthorization } from "./credentials.ts";

/** What a route needs: an action on its repository, or just a known caller. */
export type RouteAccess = Action | "authenticated";

/** Who made a request and what its token allows (null: whatever policy allows). */
export interface RequestAuth {
  identity: Identity;
  claims: AccessClaim[] | null;
}

/** Where a request came from and whom it addressed, for challenges and audit. */
export interface RequestOrigin {
  /** `scheme://host` the client used. */
  base: string;
  /** The host, used as the token `service` and audience. */
  service: string;
  source: string | null;
}

/**
 * Authenticates the request's credentials (anonymous when it has none).
 * `dataVersion`, the one the request's policy snapshot read, lets a JWT's
 * account check reuse rows read since the last change (Authenticator.fromJwt).
 */
export async function authenticate(auth: Authenticator, req: Request, origin: RequestOrigin, dataVersion: number): Promise<RequestAuth> {
  const credentials = parseAuthorization(req.headers.get("authorization"));
  if (credentials === null) return { identity: ANONYMOUS, claims: null };
  if (credentials.scheme === "basic") {
    return { identity: await auth.login(credentials.username, credentials.secret, origin.source, false), claims: null };
  }
  if (isTokenString(credentials.token)) return { identity: await auth.fromAccessToken(credentials.token, "token"), claims: null };
  const { identity, access } = await auth.fromJwt(credentials.token, origin.service, dataVersion);
  return { identity, claims: access };
}

/** Scope text a client should request for `access` on `name`. */
function scopeFor(access: RouteAccess, name: string): string | null {
  if (access === "authenticated") return null;
  if (access === "catalog") return "registry:catalog:*";
  return `repository:${name}:${access === "push" ? "pull,push" : access}`;
}

/**
 * The extra scope a cross-repository mount asks for: pull on `from`, which
 * Distribution's token flow puts in the challenge too, so a client that
 * fetches a token for the challenge can mount rather than upload again.
 */
export function mountScope(req: Request, url: URL): string | null {
  if (req.method !== "POST" || !url.searchParams.has("mount")) return null;
  const from = url.searchParams.get("from");
  // Only a well-formed name goes into a header value; anything else is refused later as NAME_INVALID.
  return from !== null && /^[a-z0-9._/-]{1,255}$/.test(from) ? `repository:${from}:pull` : null;
}

/** The `WWW-Authenticate` value sending a client to the token endpoint. */
export function challenge(origin: RequestOrigin, scope: string | null): string {
  const parts = [`realm="${origin.base}/v2/token"`, `service="${origin.service}"`];
  if (scope) parts.push(`scope="${scope}"`);
  return `Bearer ${parts.join(",")}`;
}

/**
 * Throws unless the request may have `access` on repository `name`:
 * UNAUTHORIZED (with the challenge in the detail) when it should log in
 * or get a token with that scope, DENIED when it is simply not allowed.
 */
export async function requireAccess(
  reg: Registry,
  ctx: RequestAuth,
  access: RouteAccess,
  name: string,
  origin: RequestOrigin,
  policy: PolicySnapshot,
  extraScope: string | null = null,
): Promise<void> {
  const scope = [scopeFor(access, name), extraScope].filter((s) => s !== null).join(" ") || null;
  const login = () => fail("UNAUTHORIZED", "authentication required", { challenge: challenge(origin, scope) });
  if (access === "authenticated") {
    if (ctx.identity.kind === "anonymous" && ctx.claims === null) login();
    return;
  }
  const decision = policy.decide(ctx.identity, access, name);
  if (!decision.allowed) {
    if (ctx.identity.kind === "anonymous") login();
    reg.audit.record({
      event: "access.denied",
      actor: actorOf(ctx.identity),
      outcome: "denied",
      source: origin.source,
      repository: name || null,
      detail: { action: access, reason: decision.reason, rules: decision.decidedBy.map((r) => r.id) },
    });
    fail("DENIED", `requested access to the resource is denied: ${decision.reason}`, { action: access, repository: name });
  }
  if (ctx.claims !== null && !claimsAllow(ctx.claims, access, name)) login();
}

/**
 * Whether the request may have `access` on `name` without asking: the policy
 * allows it and, when it came with a JWT, the token's scopes include it.
 * The check requireAccess makes, as a yes or no for a second repository.
 */
export function mayAccess(ctx: RequestAuth, access: Exclude<RouteAccess, "authenticated">, name: string, policy: PolicySnapshot): boolean {
  if (!policy.decide(ctx.identity, access, name).allowed) return false;
  return ctx.claims === null || claimsAllow(ctx.claims, access, name);
}

/** The challenge an UNAUTHORIZED error carries, if any. */
export function challengeOf(error: unknown): string | null {
  if (!(error instanceof RegistryError) || error.code !== "UNAUTHORIZED") return null;
  const value = (error.detail as { challenge?: unknown } | undefined)?.challenge;
  return typeof value === "string" ? value : null;
}
