/**
 * @module /v1 health and admin sessions: login returns a session token,
 * logout revokes it.
 */
import type { Authenticator } from "../../lib/auth/authenticator.ts";
import { createDerivedToken } from "../../lib/auth/derived-tokens.ts";
import { actorOf } from "../../lib/auth/identity.ts";
import { revokeToken } from "../../lib/auth/tokens.ts";
import { fail } from "../../lib/errors.ts";
import type { Registry } from "../../lib/registry/registry.ts";
import { parseAuthorization } from "../auth/credentials.ts";
import { MAX_UNAUTHENTICATED_JSON_BYTES, optionalString, readJson } from "./json.ts";
import type { V1Route } from "./router.ts";

/** Admin API sessions live this long. */
const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

/** Health and session routes. */
export function sessionRoutes(reg: Registry, auth: Authenticator): V1Route[] {
  return [
    { method: "GET", pattern: /^\/v1\/health$/, access: "public", handle: async () => Response.json({ status: "ok" }) },
    {
      method: "POST",
      pattern: /^\/v1\/auth\/login$/,
      access: "public",
      async handle(req, { origin }) {
        // Anyone may call this: what it buffers per connection stays small.
        const body = await readJson(req, MAX_UNAUTHENTICATED_JSON_BYTES);
        const username = optionalString(body, "username") ?? "";
        const password = optionalString(body, "password") ?? "";
        if (username === "" || password === "") fail("INVALID_ARGUMENT", "username and password are required");
        const identity = await auth.login(username, password, origin.source);
        // It ends when the password or token it was made with does, and never later than that token.
        const session = await createDerivedToken(reg, identity, { kind: "session", label: "admin session", ttlMs: SESSION_TTL_MS });
        return Response.json({ token: session.token, expires_at: new Date(session.expiresAt).toISOString() });
      },
    },
    {
      method: "POST",
      pattern: /^\/v1\/auth\/logout$/,
      access: "public",
      async handle(req) {
        const credentials = parseAuthorization(req.headers.get("authorization"));
        if (credentials?.scheme !== "bearer") fail("UNAUTHORIZED", "a session bearer token is required");
        const identity = await auth.fromAccessToken(credentials.token, "session");
        await revokeToken(reg, identity.tokenId!, actorOf(identity), "session");
        return new Response(null, { status: 204 });
      },
    },
  ];
}
