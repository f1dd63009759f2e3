/**
 * @module The /v1 admin API: health, and admin sessions (login/logout).
 * Errors are `{"error": "..."}` with the status of the error table.
 */
import type { Authenticator } from "../../lib/auth/authenticator.ts";
import { createToken, revokeToken } from "../../lib/auth/tokens.ts";
import { fail } from "../../lib/errors.ts";
import type { Registry } from "../../lib/registry/registry.ts";
import { parseAuthorization } from "../auth/credentials.ts";
import type { RequestOrigin } from "../auth/guard.ts";
import { readBody } from "../http/body.ts";

/** Admin API sessions live this long. */
const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

type V1Handler = (req: Request, origin: RequestOrigin) => Promise<Response>;

/** Handlers by `METHOD /path`. */
export function v1Routes(reg: Registry, auth: Authenticator): Record<string, V1Handler> {
  return {
    "GET /v1/health": async () => Response.json({ status: "ok" }),

    "POST /v1/auth/login": async (req, origin) => {
      const body = await readJson(req);
      const username = typeof body.username === "string" ? body.username : "";
      const password = typeof body.password === "string" ? body.password : "";
      if (username === "" || password === "") fail("INVALID_ARGUMENT", "username and password are required");
      const identity = await auth.login(username, password, origin.source);
      const session = await createToken(reg, { user: identity.name, label: "admin session", kind: "session", expiresInMs: SESSION_TTL_MS }, identity.name);
      return Response.json({ token: session.token, expires_at: new Date(session.expiresAt!).toISOString() });
    },

    "POST /v1/auth/logout": async (req) => {
      const credentials = parseAuthorization(req.headers.get("authorization"));
      if (credentials?.scheme !== "bearer") fail("UNAUTHORIZED", "a session bearer token is required");
      const identity = await auth.fromAccessToken(credentials.token, "session");
      await revokeToken(reg, identity.tokenId!, identity.name, "session");
      return new Response(null, { status: 204 });
    },
  };
}

async function readJson(req: Request): Promise<Record<string, unknown>> {
  const bytes = await readBody(req, 64 * 1024, "INVALID_ARGUMENT");
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // answered below
  }
  fail("INVALID_ARGUMENT", "the body must be a JSON object");
}
