/**
 * @module Credentials derived from others (admin API sessions, OAuth2
 * refresh tokens, registry JWTs) never outlive their source, over HTTP
 * through the server's fetch: expiry, revocation and a password change of
 * the source end them on the next request; admins list and revoke every
 * kind; each account holds a bounded number of them.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createToken } from "../../../lib/auth/tokens.ts";
import { addUser } from "../../../lib/auth/users.ts";
import { recentAuditEvents } from "../../../lib/db/queries/audit.ts";
import { testApp, type TestApp } from "../../support/app.ts";
import { basicAuth } from "../../support/credentials.ts";

let t: TestApp;
const ANON = { authorization: "" };
const FORM = { "content-type": "application/x-www-form-urlencoded", ...ANON };

beforeAll(async () => {
  t = await testApp();
  await addUser(t.reg, { name: "root", role: "admin", password: "root-password" }, "test");
  await addUser(t.reg, { name: "boss", role: "admin", password: "boss-password" }, "test");
  await addUser(t.reg, { name: "bot", role: "admin", kind: "robot" }, "test");
  await addUser(t.reg, { name: "gwen", role: "guest", password: "guest-password" }, "test");
});
afterAll(() => t.close());

/** A session from /v1/auth/login with a password or an access token. */
async function session(username: string, password: string): Promise<{ token: string; expiresAt: number }> {
  const res = await t.request("POST", "/v1/auth/login", { headers: ANON, body: JSON.stringify({ username, password }) });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { token: string; expires_at: string };
  return { token: body.token, expiresAt: Date.parse(body.expires_at) };
}

/** A refresh token from the OAuth2 password grant with access_type=offline. */
async function refreshToken(username: string, password: string): Promise<string> {
  const form = new URLSearchParams({ grant_type: "password", username, password, service: "registry.test", access_type: "offline", client_id: "test" });
  const res = await t.request("POST", "/v2/token", { headers: FORM, body: form.toString() });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { refresh_token?: string };
  expect(body.refresh_token).toBeString();
  return body.refresh_token!;
}

/** The status of the refresh grant with `refresh`, and the JWT it gave, if any. */
async function refreshGrant(refresh: string): Promise<{ status: number; jwt: string | null }> {
  const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: refresh, service: "registry.test" });
  const res = await t.request("POST", "/v2/token", { headers: FORM, body: form.toString() });
  return { status: res.status, jwt: res.status === 200 ? ((await res.json()) as { token: string }).token : null };
}

/** A JWT from `GET /v2/token` with Basic credentials. */
async function jwtFor(username: string, password: string): Promise<string> {
  const res = await t.request("GET", "/v2/token?service=registry.test", { headers: { authorization: basicAuth(username, password) } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

/** Status of an admin API call with a session, and of a /v2 call with a JWT. */
const useSession = async (token: string) => (await t.request("GET", "/v1/users", { headers: { authorization: `Bearer ${token}` } })).status;
const useJwt = async (jwt: string) => (await t.request("GET", "/v2/", { headers: { authorization: `Bearer ${jwt}` } })).status;
const tokenId = (token: string) => token.split("_")[1]!;

interface Listed {
  id: string;
  kind: string;
  user: string;
  parentId: string | null;
  revokedAt: number | null;
}
async function listed(query: string): Promise<Listed[]> {
  const res = await t.request("GET", `/v1/tokens${query}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { tokens: Listed[] }).tokens;
}

describe("derived credentials end with their source", () => {
  test("a 5-second token's session and refresh token expire with it, not 12 hours or 30 days later", async () => {
    const pat = await createToken(t.reg, { user: "bot", label: "short", expiresInMs: 5000 }, "test");
    const s = await session("bot", pat.token);
    expect(s.expiresAt).toBeLessThanOrEqual(pat.expiresAt!);
    const refresh = await refreshToken("bot", pat.token);
    expect(await useSession(s.token)).toBe(200);
    expect((await refreshGrant(refresh)).status).toBe(200);
    const now = t.reg.now;
    t.reg.now = () => now() + 6000;
    try {
      expect(await useSession(s.token)).toBe(401);
      expect((await refreshGrant(refresh)).status).toBe(401);
    } finally {
      t.reg.now = now;
    }
  });

  test("revoking a token ends its session, its refresh token and JWTs issued from that refresh token on the next request", async () => {
    const pat = await createToken(t.reg, { user: "root", label: "laptop" }, "test");
    const s = await session("root", pat.token);
    const refresh = await refreshToken("root", pat.token);
    const { jwt } = await refreshGrant(refresh);
    expect(await useSession(s.token)).toBe(200);
    expect(await useJwt(jwt!)).toBe(200);
    const byKind = (await listed("?all=true")).filter((r) => r.parentId === pat.id).map((r) => r.kind);
    expect(byKind.sort()).toEqual(["refresh", "session"]);

    expect((await t.request("DELETE", `/v1/tokens/${pat.id}`)).status).toBe(204);
    expect(await useSession(s.token)).toBe(401);
    expect((await refreshGrant(refresh)).status).toBe(401);
    expect(await useJwt(jwt!)).toBe(401);
    await t.reg.audit.flush();
    const revoked = (await recentAuditEvents(t.reg.db, 50)).find((e) => e.event === "token.revoked" && e.detail?.includes(pat.id));
    expect(JSON.parse(revoked!.detail!)).toMatchObject({ id: pat.id, kind: "token", sessions: 1, refreshTokens: 1 });
  });

  test("a session made from a revoked admin token cannot create a token", async () => {
    const pat = await createToken(t.reg, { user: "root", label: "leaked" }, "test");
    const s = await session("root", pat.token);
    await t.request("DELETE", `/v1/tokens/${pat.id}`);
    const res = await t.request("POST", "/v1/tokens", { headers: { authorization: `Bearer ${s.token}` }, body: JSON.stringify({ user: "root", name: "backdoor" }) });
    expect(res.status).toBe(401);
    expect(JSON.stringify(await listed("?user=root"))).not.toContain("backdoor");
  });

  test("a password change ends the sessions, refresh tokens and JWTs made from the password, and says how many", async () => {
    const s = await session("boss", "boss-password");
    const refresh = await refreshToken("boss", "boss-password");
    const fromRefresh = (await refreshGrant(refresh)).jwt!;
    const fromPassword = await jwtFor("boss", "boss-password");
    // One made from an access token lives and dies with that token, not the password.
    const pat = await createToken(t.reg, { user: "boss", label: "ci" }, "test");
    const tokenSession = await session("boss", pat.token);
    for (const status of [await useSession(s.token), await useJwt(fromRefresh), await useJwt(fromPassword)]) expect(status).toBe(200);

    const res = await t.request("PATCH", "/v1/users/boss", { body: JSON.stringify({ password: "boss-password-2" }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ name: "boss", ended: { sessions: 1, refreshTokens: 1 } });
    expect(await useSession(s.token)).toBe(401);
    expect((await refreshGrant(refresh)).status).toBe(401);
    expect(await useJwt(fromRefresh)).toBe(401);
    expect(await useJwt(fromPassword)).toBe(401);
    expect(await useSession(tokenSession.token)).toBe(200);
    expect(await useJwt(await jwtFor("boss", "boss-password-2"))).toBe(200);
  });

  test("disabling an account ends all its sessions and refresh tokens; enabling it does not bring them back", async () => {
    await addUser(t.reg, { name: "temp", role: "admin", password: "temp-password" }, "test");
    const s = await session("temp", "temp-password");
    const refresh = await refreshToken("temp", "temp-password");
    const res = await t.request("PATCH", "/v1/users/temp", { body: JSON.stringify({ disabled: true }) });
    expect(await res.json()).toMatchObject({ disabled: true, ended: { sessions: 1, refreshTokens: 1 } });
    await t.request("PATCH", "/v1/users/temp", { body: JSON.stringify({ disabled: false }) });
    expect(await useSession(s.token)).toBe(401);
    expect((await refreshGrant(refresh)).status).toBe(401);
  });
});

describe("admins list and revoke every kind", () => {
  test("GET /v1/tokens lists personal tokens; ?all=true and ?kind= add sessions and refresh tokens, never secrets", async () => {
    const s = await session("gwen", "guest-password");
    const refresh = await refreshToken("gwen", "guest-password");
    expect((await listed("?user=gwen")).length).toBe(0);
    const all = await listed("?user=gwen&all=true");
    expect(all.map((r) => [r.id, r.kind, r.parentId])).toContainAllValues([
      [tokenId(s.token), "session", null],
      [tokenId(refresh), "refresh", null],
    ]);
    expect((await listed("?user=gwen&kind=refresh")).map((r) => r.id)).toEqual([tokenId(refresh)]);
    const text = await (await t.request("GET", "/v1/tokens?all=true")).text();
    expect(text).not.toContain(s.token.slice(22));
    expect(text).not.toContain(refresh.slice(22));
    for (const bad of ["?kind=bogus", "?all=maybe"]) {
      const res = await t.request("GET", `/v1/tokens${bad}`);
      expect(res.status).toBe(400);
      expect(await res.json()).toHaveProperty("error");
    }
  });

  test("DELETE /v1/tokens/<id> revokes a session or a refresh token, audited", async () => {
    const s = await session("root", "root-password");
    const refresh = await refreshToken("root", "root-password");
    expect((await t.request("DELETE", `/v1/tokens/${tokenId(s.token)}`)).status).toBe(204);
    expect((await t.request("DELETE", `/v1/tokens/${tokenId(refresh)}`)).status).toBe(204);
    expect(await useSession(s.token)).toBe(401);
    expect((await refreshGrant(refresh)).status).toBe(401);
    expect((await t.request("DELETE", `/v1/tokens/${tokenId(refresh)}`)).status).toBe(404);
    await t.reg.audit.flush();
    const kinds = (await recentAuditEvents(t.reg.db, 20))
      .filter((e) => e.event === "token.revoked")
      .map((e) => JSON.parse(e.detail!) as { id: string; kind: string })
      .filter((d) => d.id === tokenId(s.token) || d.id === tokenId(refresh))
      .map((d) => d.kind);
    expect(kinds.sort()).toEqual(["refresh", "session"]);
  });
});

describe("per-account bound", () => {
  test("many logins from one account keep at most the limit of each kind; every login succeeds; the newest work", async () => {
    const limit = t.reg.limits.maxSessionsPerAccount;
    expect(limit).toBe(50);
    const sessions: string[] = [];
    const refreshes: string[] = [];
    for (let i = 0; i < limit + 15; i++) {
      sessions.push((await session("gwen", "guest-password")).token);
      refreshes.push(await refreshToken("gwen", "guest-password"));
    }
    const rows = await listed("?user=gwen&all=true");
    expect(rows.filter((r) => r.kind === "session").length).toBe(limit);
    expect(rows.filter((r) => r.kind === "refresh").length).toBe(t.reg.limits.maxRefreshTokensPerAccount);
    expect((await refreshGrant(refreshes.at(-1)!)).status).toBe(200);
    expect((await refreshGrant(refreshes[0]!)).status).toBe(401);
    // A guest's session opens no admin route, but logout tells a live session from a dead one.
    const logout = async (token: string) => (await t.request("POST", "/v1/auth/logout", { headers: { authorization: `Bearer ${token}` } })).status;
    expect(await logout(sessions[0]!)).toBe(401);
    expect(await logout(sessions.at(-1)!)).toBe(204);
    // Other accounts keep theirs.
    expect(await useSession((await session("root", "root-password")).token)).toBe(200);
  });
});
