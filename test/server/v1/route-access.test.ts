/**
 * @module Every /v1 route declares who may call it, and only health,
 * login and logout (the admin API's and the web UI's, and the UI's session
 * check) are open, and only the UI's browse routes serve any viewer (what
 * they show is filtered by the policy): a new admin route that forgot to say so
 * fails here, and each admin route refuses anonymous callers and
 * non-admins in fact, not only on paper.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { addUser } from "../../../lib/auth/users.ts";
import { v1Routes } from "../../../server/v1/routes.ts";
import { testApp, type TestApp } from "../../support/app.ts";
import { basicAuth } from "../../support/credentials.ts";

let t: TestApp;

beforeAll(async () => {
  t = await testApp();
  await addUser(t.reg, { name: "eve", password: "eve-password-1" }, "test");
});
afterAll(() => t.close());

/** A concrete path for a route pattern. */
function pathOf(pattern: RegExp): string {
  return pattern.source.replace(/^\^/, "").replace(/\$$/, "").replace(/\\\//g, "/").replace(/\(\?<\w+>\[\^\/\]\+\)/g, "x");
}

describe("/v1 route access", () => {
  test("the table: only health, login and logout are public; only /v1/browse serves any viewer", async () => {
    const table = v1Routes(t.reg, t.auth).map((r) => `${r.method} ${pathOf(r.pattern)} ${r.access}`);
    expect(table.filter((line) => line.endsWith(" public"))).toEqual([
      "GET /v1/health public",
      "POST /v1/auth/login public",
      "POST /v1/auth/logout public",
      "POST /v1/ui/login public",
      "GET /v1/ui/session public",
      "POST /v1/ui/logout public",
    ]);
    for (const line of table.filter((l) => l.endsWith(" viewer"))) expect(line).toMatch(/^\w+ \/v1\/browse\//);
    for (const line of table) expect(line).toMatch(/ (admin|public|viewer)$/);
  });

  test("every admin route answers 401 to no credentials and 403 to a non-admin, before doing anything", async () => {
    const admin = v1Routes(t.reg, t.auth).filter((r) => r.access === "admin");
    expect(admin.length).toBeGreaterThan(10);
    for (const route of admin) {
      const path = pathOf(route.pattern);
      const body = ["POST", "PUT", "PATCH"].includes(route.method) ? "{}" : undefined;
      const anonymous = await t.request(route.method, path, { body, headers: { Authorization: "" } });
      expect({ route: `${route.method} ${path}`, status: anonymous.status }).toEqual({ route: `${route.method} ${path}`, status: 401 });
      const eve = await t.request(route.method, path, { body, headers: { Authorization: basicAuth("eve", "eve-password-1") } });
      expect({ route: `${route.method} ${path}`, status: eve.status }).toEqual({ route: `${route.method} ${path}`, status: 403 });
    }
  });
});
