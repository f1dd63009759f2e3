/**
 * @module The web UI's sessions: `POST /v1/ui/login` trades a password or
 * access token for a /v1 session held in an HttpOnly cookie (the same
 * session, lifetime and revocation as `/v1/auth/login`), `GET
 * /v1/ui/session` says who is logged in and gives the CSRF token, and
 * `POST /v1/ui/logout` revokes the session and clears the cookie.
 */
import type { Authenticator } from "../../lib/auth/authenticator.ts";
import { createDerivedToken } from "../../lib/auth/derived-tokens.ts";
import { actorOf, type Identity } from "../../lib/auth/identity.ts";
import { isTokenString, revokeToken } from "../../lib/auth/tokens.ts";
import { fail } from "../../lib/errors.ts";
import type { Registry } from "../../lib/registry/registry.ts";
import type { RequestOrigin } from "../auth/guard.ts";
import { MAX_UNAUTHENTICATED_JSON_BYTES, optionalString, readJson } from "./json.ts";
import type { V1Route } from "./router.ts";
import { checkCsrf, checkSameSite, clearSessionCookie, csrfTokenFor, sessionCookie, setSessionCookie } from "./ui-cookie.ts";

/** UI sessions live as long as /v1/auth/login's. */
const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

/** What the UI learns about who is logged in. */
export interface UiSession {
  user: { name: string; role: string } | null;
  /** Send it as X-CSRF-Token on every state-changing call; null when logged out. */
  csrf: string | null;
  expiresAt: string | null;
}

const secure = (origin: RequestOrigin) => origin.base.startsWith("https:");

function userOf(identity: Identity): UiSession["user"] {
  return identity.kind === "anonymous" ? null : { name: identity.name, role: identity.role };
}

/** The UI session routes. */
export function uiSessionRoutes(reg: Registry, auth: Authenticator): V1Route[] {
  return [
    {
      method: "POST",
      pattern: /^\/v1\/ui\/login$/,
      access: "public",
      async handle(req, { origin }) {
        // A form on another site cannot send JSON without a preflight we never grant, nor pass this check.
        checkSameSite(req);
        if (!(req.headers.get("content-type") ?? "").startsWith("application/json")) fail("INVALID_ARGUMENT", "send the credentials as application/json");
        const body = await readJson(req, MAX_UNAUTHENTICATED_JSON_BYTES);
        const username = optionalString(body, "username") ?? "";
        const password = optionalString(body, "password") ?? "";
        if (username === "" || password === "") fail("INVALID_ARGUMENT", "enter a user name and a password or access token");
        const identity = await auth.login(username, password, origin.source);
        const session = await createDerivedToken(reg, identity, { kind: "session", label: "web UI session", ttlMs: SESSION_TTL_MS });
        const result: UiSession = { user: userOf(identity), csrf: csrfTokenFor(session.token), expiresAt: new Date(session.expiresAt).toISOString() };
        const maxAge = (session.expiresAt - reg.now()) / 1000;
        return Response.json(result, { headers: { "Set-Cookie": setSessionCookie(session.token, maxAge, secure(origin)), "Cache-Control": "no-store" } });
      },
    },
    {
      method: "GET",
      pattern: /^\/v1\/ui\/session$/,
      access: "public",
      async handle(req, { origin }) {
        const cookie = sessionCookie(req);
        const headers: Record<string, string> = { "Cache-Control": "no-store" };
        if (cookie !== null) {
          const identity = isTokenString(cookie) ? await auth.fromAccessToken(cookie, "session").catch(() => null) : null;
          if (identity) return Response.json({ user: userOf(identity), csrf: csrfTokenFor(cookie), expiresAt: null } satisfies UiSession, { headers });
          // Ended (expired, revoked, password changed): forget it.
          headers["Set-Cookie"] = clearSessionCookie(secure(origin));
        }
        return Response.json({ user: null, csrf: null, expiresAt: null } satisfies UiSession, { headers });
      },
    },
    {
      method: "POST",
      pattern: /^\/v1\/ui\/logout$/,
      access: "public",
      async handle(req, { origin }) {
        const cookie = sessionCookie(req);
        const headers = { "Set-Cookie": clearSessionCookie(secure(origin)) };
        if (cookie === null || !isTokenString(cookie)) return new Response(null, { status: 204, headers });
        checkCsrf(req, cookie);
        const identity = await auth.fromAccessToken(cookie, "session").catch(() => null);
        if (identity?.tokenId) await revokeToken(reg, identity.tokenId, actorOf(identity), "session");
        return new Response(null, { status: 204, headers });
      },
    },
  ];
}
