/**
 * @module The /v1 admin API's health and session endpoints, and its
 * `{"error": "..."}` error format.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { testApp, type TestApp } from "../../support/app.ts";
import { TEST_ADMIN } from "../../support/credentials.ts";

let t: TestApp;
beforeAll(async () => {
  t = await testApp();
});
afterAll(() => t.close());

const ANON = { authorization: "" };
const json = (value: unknown) => ({ body: JSON.stringify(value), headers: { ...ANON, "content-type": "application/json" } });

describe("/v1", () => {
  test("health needs no credentials", async () => {
    const res = await t.request("GET", "/v1/health", { headers: ANON });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  test("login returns a session token; logout revokes it", async () => {
    const res = await t.request("POST", "/v1/auth/login", json(TEST_ADMIN));
    expect(res.status).toBe(200);
    const { token, expires_at } = (await res.json()) as { token: string; expires_at: string };
    expect(token).toStartWith("mcr_");
    expect(Date.parse(expires_at)).toBeGreaterThan(Date.now());
    const out = await t.request("POST", "/v1/auth/logout", { headers: { authorization: `Bearer ${token}` } });
    expect(out.status).toBe(204);
    const again = await t.request("POST", "/v1/auth/logout", { headers: { authorization: `Bearer ${token}` } });
    expect(again.status).toBe(401);
    expect(await again.json()).toEqual({ error: "invalid, expired or revoked token" });
  });

  test("a session token is not a registry credential", async () => {
    const { token } = (await (await t.request("POST", "/v1/auth/login", json(TEST_ADMIN))).json()) as { token: string };
    expect((await t.request("GET", "/v2/", { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
  });

  test("bad input gets a JSON error with the right status", async () => {
    const cases: [RequestInit, number][] = [
      [json({ username: "admin", password: "wrong-password" }), 401],
      [json({ username: "admin" }), 400],
      [{ body: "not json", headers: ANON }, 400],
      [json([1, 2]), 400],
      [{ body: "x".repeat(70_000), headers: ANON }, 400],
      // Before login, a body is held to 16 KiB, not the 1 MiB admin requests may send.
      [json({ username: "admin", password: "p".repeat(20_000) }), 400],
    ];
    for (const [init, status] of cases) {
      const res = await t.request("POST", "/v1/auth/login", init);
      expect(res.status).toBe(status);
      expect(typeof ((await res.json()) as { error: unknown }).error).toBe("string");
    }
    const missing = await t.request("GET", "/v1/nothing", { headers: ANON });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: "no such endpoint" });
    expect((await t.request("POST", "/v1/auth/logout", { headers: ANON })).status).toBe(401);
  });
});
