/**
 * @module Login throttling through the server's fetch: real clients that
 * each try a wrong password (retrying it, as they do) from one shared
 * address lock nobody out; guessing an admin from elsewhere does not stop
 * the admin's correct login; a flood of fresh names does not reset a
 * guesser; and throttled attempts are tallied, not written one row each.
 */
import { describe, expect, test } from "bun:test";
import { addUser } from "../../../lib/auth/users.ts";
import { recentAuditEvents } from "../../../lib/db/queries/audit.ts";
import { testApp, type TestApp } from "../../support/app.ts";
import { basicAuth, TEST_ADMIN } from "../../support/credentials.ts";

const CLIENTS = ["skopeo", "crane", "regctl", "oras", "podman", "buildah", "docker", "ctr"];
const SCOPE = "repository:app:pull,push";

/** Sends a request as if from `address`. */
function from(t: TestApp, address: string, method: string, path: string, init: RequestInit = {}): Promise<Response> {
  return t.app.fetch(new Request(`http://registry.test${path}`, { method, ...init }), { requestIP: () => ({ address }) });
}

/** Every way a client logs in with a password; returns the statuses. */
async function everyLogin(t: TestApp, address: string, user: string, password: string): Promise<number[]> {
  const basic = { authorization: basicAuth(user, password) };
  const form = new URLSearchParams({ grant_type: "password", username: user, password, service: "registry.test", scope: SCOPE });
  const responses = [
    await from(t, address, "GET", "/v2/", { headers: basic }),
    await from(t, address, "GET", `/v2/token?service=registry.test&scope=${encodeURIComponent(SCOPE)}`, { headers: basic }),
    await from(t, address, "POST", "/v2/token", { body: form, headers: { "content-type": "application/x-www-form-urlencoded" } }),
    await from(t, address, "POST", "/v1/auth/login", { body: JSON.stringify({ username: user, password }) }),
  ];
  return responses.map((r) => r.status);
}

describe("no lockout of the innocent", () => {
  test("eight clients on one address each fail their own account (and admin's) the way real clients do; every correct login then works", async () => {
    const t = await testApp();
    for (const name of CLIENTS) await addUser(t.reg, { name, password: `${name}-password` }, "test");
    for (const [i, name] of CLIENTS.entries()) {
      const stale = `${name}-stale-password`;
      // A client retries the stale password on its own: /v2/ with Basic, then the token endpoint.
      for (let retry = 0; retry < (i % 2 === 0 ? 3 : 1); retry++) {
        expect((await everyLogin(t, "127.0.0.1", name, stale)).every((s) => s === 401)).toBe(true);
      }
      expect((await everyLogin(t, "127.0.0.1", TEST_ADMIN.username, `${name}-wrong-admin-password`)).every((s) => s === 401)).toBe(true);
    }
    for (const name of CLIENTS) expect(await everyLogin(t, "127.0.0.1", name, `${name}-password`)).toEqual([200, 200, 200, 200]);
    expect(await everyLogin(t, "127.0.0.1", TEST_ADMIN.username, TEST_ADMIN.password)).toEqual([200, 200, 200, 200]);
    // Retries cost no argon2 check and no audit row each: one row per stale secret checked.
    await t.reg.audit.drain();
    const failures = (await recentAuditEvents(t.reg.db, 10_000)).filter((e) => e.event === "login" && e.outcome === "failure");
    expect(failures.filter((e) => e.detail === null)).toHaveLength(CLIENTS.length * 2);
    // The retries are tallied per account and client: 9 events, 80 retries (4 clients sent their
    // stale password 12 times, 4 sent it 4 times, and each sent its wrong admin password 4 times).
    const retries = failures.filter((e) => e.detail !== null).map((e) => JSON.parse(e.detail!) as { reason: string; count: number });
    expect(retries).toHaveLength(CLIENTS.length + 1);
    expect(retries.every((r) => r.reason === "repeated")).toBe(true);
    expect(retries.reduce((sum, r) => sum + r.count, 0)).toBe(4 * (12 - 1) + 4 * (4 - 1) + CLIENTS.length * 3);
    await t.close();
  });

  test("guessing admin's password from many addresses slows the guessers, never admin's correct login from a clean address", async () => {
    const t = await testApp();
    const clock = { now: Date.parse("2026-12-01T00:00:00Z") };
    t.reg.now = () => clock.now;
    for (let i = 0; i < 12; i++) expect((await everyLogin(t, "10.9.9.9", "admin", `guess-${i}`))[0]).toBe(i < 11 ? 401 : 429);
    for (let i = 0; i < 25; i++) expect((await everyLogin(t, `203.0.113.${i}`, "admin", `spray-${i}`))[0]).toBe(401);
    // The guesser is held back even with the right password; admin elsewhere is not.
    expect(await everyLogin(t, "10.9.9.9", "admin", TEST_ADMIN.password)).toEqual([429, 429, 429, 429]);
    expect(await everyLogin(t, "127.0.0.1", "admin", TEST_ADMIN.password)).toEqual([200, 200, 200, 200]);
    expect(await everyLogin(t, "2001:db8::1", "admin", TEST_ADMIN.password)).toEqual([200, 200, 200, 200]);
    // Throttled attempts are tallied: one event per account and client per minute, with the count
    // (the 11th guess's last three logins, the 12th's four, the correct password's four, and 50 more).
    for (let i = 0; i < 50; i++) expect((await from(t, "10.9.9.9", "GET", "/v2/", { headers: { authorization: basicAuth("admin", `x${i}`) } })).status).toBe(429);
    await t.reg.audit.drain();
    const throttled = (await recentAuditEvents(t.reg.db, 10_000)).filter((e) => e.event === "login" && e.outcome === "denied");
    expect(throttled).toHaveLength(1);
    expect(throttled[0]!.source).toBe("10.9.9.9");
    expect(JSON.parse(throttled[0]!.detail!)).toMatchObject({ reason: "throttled", count: 3 + 4 + 4 + 50 });
    await t.close();
  }, 60_000);

  test("10,000 failures with fresh user names from many addresses do not reset a guesser's record", async () => {
    const t = await testApp();
    await addUser(t.reg, { name: "victim", password: "victim-password" }, "test");
    const clock = { now: Date.parse("2026-12-01T00:00:00Z") };
    t.reg.now = () => clock.now;
    const guess = (password: string) => from(t, "198.51.100.66", "GET", "/v2/", { headers: { authorization: basicAuth("victim", password) } });
    for (let i = 0; i < 11; i++) expect((await guess(`guess-${i}`)).status).toBe(401);
    expect((await guess("victim-password")).status).toBe(429);
    // Names over 1,024 characters are refused without an argon2 check: a cheap flood.
    for (let i = 0; i < 10_000; i++) {
      const name = `fresh-${i}-`.padEnd(1100, "x");
      const address = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      expect((await from(t, address, "GET", "/v2/", { headers: { authorization: basicAuth(name, "whatever") } })).status).toBe(401);
    }
    expect((await guess("victim-password")).status).toBe(429);
    clock.now += 2000;
    expect((await guess("victim-password")).status).toBe(200);
    await t.close();
  }, 120_000);
});
