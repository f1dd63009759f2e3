/**
 * @module /v1 accounts and access tokens (admin only): what `mcr user` and
 * `mcr token` do locally, over HTTP.
 */
import { createToken, listTokens, parseTokenListKind, revokeToken, type TokenListKind } from "../../lib/auth/tokens.ts";
import { addUser, getUser, listUsers, removeUser, setDisabled, setPassword, type EndedCredentials } from "../../lib/auth/users.ts";
import { fail } from "../../lib/errors.ts";
import type { Registry } from "../../lib/registry/registry.ts";
import { optionalString, readJson } from "./json.ts";
import type { V1Route } from "./router.ts";

const USER = /^\/v1\/users\/(?<name>[^/]+)$/;

/** `?kind=token|session|refresh|all`, or `?all=true` for every kind; personal tokens by default. */
function listKind(url: URL): TokenListKind {
  const kind = url.searchParams.get("kind");
  const all = url.searchParams.get("all");
  if (all !== null && all !== "true" && all !== "false") fail("INVALID_ARGUMENT", "all must be true or false");
  if (kind !== null) return parseTokenListKind(kind);
  return all === "true" ? "all" : "token";
}

/** User and token routes. */
export function userRoutes(reg: Registry): V1Route[] {
  return [
    { method: "GET", pattern: /^\/v1\/users$/, access: "admin", handle: async () => Response.json({ users: await listUsers(reg) }) },
    {
      method: "POST",
      pattern: /^\/v1\/users$/,
      access: "admin",
      async handle(req, { actor }) {
        const body = await readJson(req);
        const user = await addUser(
          reg,
          {
            name: optionalString(body, "name") ?? "",
            role: optionalString(body, "role"),
            kind: optionalString(body, "kind"),
            password: optionalString(body, "password"),
          },
          actor,
        );
        return Response.json(user, { status: 201 });
      },
    },
    { method: "GET", pattern: USER, access: "admin", handle: async (_req, { params }) => Response.json(await getUser(reg, params.name!)) },
    {
      method: "PATCH",
      pattern: USER,
      access: "admin",
      async handle(req, { params, actor }) {
        const body = await readJson(req);
        const password = optionalString(body, "password");
        if (body.disabled !== undefined && typeof body.disabled !== "boolean") fail("INVALID_ARGUMENT", "disabled must be a boolean");
        const ended: EndedCredentials = { sessions: 0, refreshTokens: 0 };
        const add = (more: EndedCredentials) => ((ended.sessions += more.sessions), (ended.refreshTokens += more.refreshTokens));
        if (password !== undefined) add(await setPassword(reg, params.name!, password, actor));
        if (body.disabled !== undefined) add(await setDisabled(reg, params.name!, body.disabled as boolean, actor));
        // What ended with the change (sessions and refresh tokens), so the caller can say so.
        return Response.json({ ...(await getUser(reg, params.name!)), ended });
      },
    },
    {
      method: "DELETE",
      pattern: USER,
      access: "admin",
      async handle(_req, { params, actor }) {
        await removeUser(reg, params.name!, actor);
        return new Response(null, { status: 204 });
      },
    },
    {
      method: "GET",
      pattern: /^\/v1\/tokens$/,
      access: "admin",
      handle: async (_req, { url }) => Response.json({ tokens: await listTokens(reg, url.searchParams.get("user") ?? undefined, listKind(url)) }),
    },
    {
      method: "POST",
      pattern: /^\/v1\/tokens$/,
      access: "admin",
      async handle(req, { actor }) {
        const body = await readJson(req);
        const expires = body.expires_in_ms;
        if (expires !== undefined && (typeof expires !== "number" || !Number.isSafeInteger(expires) || expires <= 0)) {
          fail("INVALID_ARGUMENT", "expires_in_ms must be a positive integer");
        }
        const created = await createToken(
          reg,
          { user: optionalString(body, "user") ?? "", label: optionalString(body, "name") ?? "", expiresInMs: (expires as number | undefined) ?? null },
          actor,
        );
        return Response.json(created, { status: 201 });
      },
    },
    {
      method: "DELETE",
      pattern: /^\/v1\/tokens\/(?<id>[^/]+)$/,
      access: "admin",
      async handle(_req, { params, actor }) {
        // Any kind: a personal token (with what was made from it), a session or a refresh token.
        await revokeToken(reg, params.id!, actor);
        return new Response(null, { status: 204 });
      },
    },
  ];
}
