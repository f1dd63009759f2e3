/**
 * @module /v1 routing on its own: parameters are percent-decoded, and a
 * path the decoder cannot read is the client's error, never a 500.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { testApp, type TestApp } from "../../support/app.ts";

let t: TestApp;

beforeAll(async () => {
  t = await testApp();
});
afterAll(() => t.close());

describe("/v1 path parameters", () => {
  test("are percent-decoded before the handler sees them", async () => {
    const res = await t.request("GET", "/v1/users/%61dmin");
    expect(res.status).toBe(200);
    expect(((await res.json()) as { name: string }).name).toBe("admin");
  });

  for (const segment of ["%", "%zz", "%E0%A4%A", "%C0", "a%"]) {
    for (const route of ["/v1/users/", "/v1/tokens/", "/v1/policy/rules/"]) {
      test(`a malformed escape in ${route}${segment} answers 400 with a JSON error, before and after login`, async () => {
        for (const init of [undefined, { headers: { Authorization: "" } }]) {
          const res = await t.request("DELETE", `${route}${segment}`, init);
          expect(res.status).toBe(400);
          expect(((await res.json()) as { error: string }).error).toContain("percent-encoding");
        }
      });
    }
  }
});
