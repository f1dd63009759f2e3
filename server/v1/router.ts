/**
 * @module The /v1 API's routing: anchored patterns with named groups,
 * each route declaring who may call it: anyone, any viewer (anonymous
 * included; the handler shows only what the policy lets them pull), or an
 * admin. Credentials are a session token (from /v1/auth/login), an access
 * token, Basic, or the web UI's session cookie (with its CSRF check).
 */
import type { Authenticator } from "../../lib/auth/authenticator.ts";
import { ANONYMOUS, actorOf, type Identity, type UserIdentity } from "../../lib/auth/identity.ts";
import { isTokenString } from "../../lib/auth/tokens.ts";
import { fail } from "../../lib/errors.ts";
import { parseAuthorization } from "../auth/credentials.ts";
import type { RequestOrigin } from "../auth/guard.ts";
import { checkCsrf, sessionCookie } from "./ui-cookie.ts";

/** Who may call a route: anyone, anyone with their credentials checked (anonymous included), or an admin account. */
export type V1Access = "public" | "viewer" | "admin";

/** What a /v1 handler gets. */
export interface V1Context {
  url: URL;
  origin: RequestOrigin;
  params: Record<string, string>;
  /** The admin calling (null on public and viewer routes). */
  identity: UserIdentity | null;
  /** Who is calling (anonymous on public routes, where nothing is checked). */
  viewer: Identity;
  /** The audit log's name for the caller. */
  actor: string;
}

/** One /v1 endpoint. */
export interface V1Route {
  method: string;
  pattern: RegExp;
  access: V1Access;
  handle(req: Request, ctx: V1Context): Promise<Response>;
}

/** The route for `method` and `path`, with its path parameters; throws NOT_FOUND. */
export function matchV1(routes: readonly V1Route[], method: string, path: string): { route: V1Route; params: Record<string, string> } {
  let pathMatched = false;
  for (const route of routes) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    pathMatched = true;
    if (route.method !== method) continue;
    const params = Object.fromEntries(Object.entries(match.groups ?? {}).map(([k, v]) => [k, decodePathParam(v)]));
    return { route, params };
  }
  if (pathMatched) fail("UNSUPPORTED", `${method} is not supported on this endpoint`);
  fail("NOT_FOUND", "no such endpoint");
}

/** A percent-encoded path segment; a malformed escape (`%zz`, a cut UTF-8 sequence) is the client's error. */
function decodePathParam(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    fail("INVALID_ARGUMENT", "malformed percent-encoding in the path", { segment: value.slice(0, 100) });
  }
}

/**
 * Who the request's credentials name: an Authorization header (Basic,
 * access token or session token) or else the UI's session cookie, whose
 * state-changing calls must pass the CSRF check; anonymous without either.
 * Throws UNAUTHORIZED for credentials that do not check out.
 */
export async function resolveCaller(auth: Authenticator, req: Request, origin: RequestOrigin): Promise<Identity> {
  const credentials = parseAuthorization(req.headers.get("authorization"));
  if (credentials === null) {
    const cookie = sessionCookie(req);
    if (cookie === null) return ANONYMOUS;
    if (!isTokenString(cookie)) fail("UNAUTHORIZED", "the session has ended: log in again");
    const identity = await auth.fromAccessToken(cookie, "session");
    checkCsrf(req, cookie);
    return identity;
  }
  if (credentials.scheme === "basic") return auth.login(credentials.username, credentials.secret, origin.source, false);
  if (!isTokenString(credentials.token)) fail("UNAUTHORIZED", "a session token or access token is required");
  return auth.fromAccessToken(credentials.token, "session").catch(() => auth.fromAccessToken(credentials.token, "token"));
}

/** `identity` if it is an admin; throws UNAUTHORIZED (anonymous) or DENIED. */
export function adminOf(identity: Identity): UserIdentity {
  if (identity.kind === "anonymous") fail("UNAUTHORIZED", "credentials required: a session token, an access token, or Basic");
  if (identity.role !== "admin") fail("DENIED", `${actorOf(identity)} is not an admin`);
  return identity;
}
