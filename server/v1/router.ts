/**
 * @module The /v1 admin API's routing: anchored patterns with named
 * groups, each route declaring who may call it. Admin routes accept a
 * session token (from /v1/auth/login), an access token, or Basic
 * credentials of an admin account.
 */
import type { Authenticator } from "../../lib/auth/authenticator.ts";
import { actorOf, type UserIdentity } from "../../lib/auth/identity.ts";
import { isTokenString } from "../../lib/auth/tokens.ts";
import { fail } from "../../lib/errors.ts";
import { parseAuthorization } from "../auth/credentials.ts";
import type { RequestOrigin } from "../auth/guard.ts";

/** Who may call a route: anyone, or an admin account. */
export type V1Access = "public" | "admin";

/** What a /v1 handler gets. */
export interface V1Context {
  url: URL;
  origin: RequestOrigin;
  params: Record<string, string>;
  /** The admin calling (null on public routes). */
  identity: UserIdentity | null;
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

/** The admin behind the request's credentials; throws UNAUTHORIZED or DENIED. */
export async function requireAdmin(auth: Authenticator, req: Request, origin: RequestOrigin): Promise<UserIdentity> {
  const credentials = parseAuthorization(req.headers.get("authorization"));
  if (credentials === null) fail("UNAUTHORIZED", "credentials required: a session token, an access token, or Basic");
  let identity: UserIdentity;
  if (credentials.scheme === "basic") {
    identity = await auth.login(credentials.username, credentials.secret, origin.source, false);
  } else if (isTokenString(credentials.token)) {
    identity = await auth.fromAccessToken(credentials.token, "session").catch(() => auth.fromAccessToken(credentials.token, "token"));
  } else {
    fail("UNAUTHORIZED", "a session token or access token is required");
  }
  if (identity.role !== "admin") fail("DENIED", `${actorOf(identity)} is not an admin`);
  return identity;
}
