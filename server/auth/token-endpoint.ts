/**
 * @module The Docker token endpoint, `/v2/token`: `GET` with optional Basic
 * credentials, and the OAuth2 `POST` form (grant_type password or
 * refresh_token; access_type=offline returns a refresh token).
 */
import type { Authenticator, IssuedToken } from "../../lib/auth/authenticator.ts";
import { ANONYMOUS, type Identity } from "../../lib/auth/identity.ts";
import { parseScopes, type Scope } from "../../lib/auth/scope.ts";
import { createDerivedToken } from "../../lib/auth/derived-tokens.ts";
import { fail } from "../../lib/errors.ts";
import type { Registry } from "../../lib/registry/registry.ts";
import { readBody } from "../http/body.ts";
import { parseAuthorization } from "./credentials.ts";
import type { RequestOrigin } from "./guard.ts";

/** Refresh tokens live this long, or until the password or token they were made with ends, whichever is first. */
const REFRESH_TTL_MS = 30 * 24 * 60 * 60 * 1000;
/** Anyone may post this form: what it buffers per connection stays small (scopes included, it fits many times over). */
const MAX_FORM_BYTES = 16 * 1024;

function tokenResponse(issued: IssuedToken, refreshToken?: string): Response {
  return Response.json(
    {
      token: issued.token,
      access_token: issued.token,
      expires_in: issued.expiresIn,
      issued_at: issued.issuedAt,
      ...(refreshToken ? { refresh_token: refreshToken } : {}),
    },
    { headers: { "Cache-Control": "no-store" } },
  );
}

/**
 * Handles a request to `/v2/token`. `expand` adds scopes a request implies
 * (the pull-through cache's local names for mirrored ones).
 */
export async function handleTokenRequest(
  reg: Registry,
  auth: Authenticator,
  req: Request,
  url: URL,
  origin: RequestOrigin,
  expand: (scopes: Scope[]) => Promise<Scope[]> = async (scopes) => scopes,
): Promise<Response> {
  if (req.method === "GET") {
    const credentials = parseAuthorization(req.headers.get("authorization"));
    if (credentials !== null && credentials.scheme !== "basic") fail("UNAUTHORIZED", "the token endpoint takes Basic credentials");
    const identity: Identity = credentials ? await auth.login(credentials.username, credentials.secret, origin.source) : ANONYMOUS;
    const issued = await auth.issue(identity, await expand(parseScopes(url.searchParams.getAll("scope"))), origin.service);
    return tokenResponse(issued);
  }
  if (req.method !== "POST") fail("UNSUPPORTED", `${req.method} is not supported on the token endpoint`);

  const form = new URLSearchParams(new TextDecoder().decode(await readBody(req, MAX_FORM_BYTES, "INVALID_ARGUMENT")));
  const scopes = await expand(parseScopes(form.getAll("scope")));
  const grant = form.get("grant_type");
  if (grant === "password") {
    const username = form.get("username") ?? "";
    const identity = await auth.login(username, form.get("password") ?? "", origin.source);
    const issued = await auth.issue(identity, scopes, origin.service);
    if (form.get("access_type") !== "offline") return tokenResponse(issued);
    const label = `refresh:${(form.get("client_id") ?? "client").slice(0, 80)}`;
    const refresh = await createDerivedToken(reg, identity, { kind: "refresh", label, ttlMs: REFRESH_TTL_MS });
    return tokenResponse(issued, refresh.token);
  }
  if (grant === "refresh_token") {
    const refreshToken = form.get("refresh_token") ?? "";
    const identity = await auth.fromAccessToken(refreshToken, "refresh");
    return tokenResponse(await auth.issue(identity, scopes, origin.service), refreshToken);
  }
  fail("INVALID_ARGUMENT", "grant_type must be password or refresh_token", { grant_type: grant?.slice(0, 40) ?? null });
}
