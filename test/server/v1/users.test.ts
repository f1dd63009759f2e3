/**
 * @module /v1 accounts and tokens: admin only, same rules as the CLI,
 * JSON errors.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { addUser } from "../../../lib/auth/users.ts";
import { testApp, type TestApp } from "../../support/app.ts";
import { basicAuth, TEST_ADMIN } from "../../support/credentials.ts";

let t: TestApp;
beforeAll(async () => {
  t = await testApp();
  await addUser(t.reg, { name: "alice", password: "alice-password" }, "test");
});
afterAll(() => t.close());

const send = (method: string, path: string, body?: unknown, authorization?: string) =>
  t.request(method, path, {
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: authorization === undefined ? {} : { authorization },
  });

describe("/v1/users and /v1/tokens", () => {
  test("only admins: anonymous 401, a non-admin 403, with a JSON error", async () => {
    const anon = await send("GET", "/v1/users", undefined, "");
    expect(anon.status).toBe(401);
    expect(await anon.json()).toHaveProperty("error");
    const user = await send("GET", "/v1/users", undefined, basicAuth("alice", "alice-password"));
    expect(user.status).toBe(403);
    expect(((await user.json()) as { error: string }).error).toContain("not an admin");
  });

  test("an admin session token works on admin routes", async () => {
    const login = await send("POST", "/v1/auth/login", TEST_ADMIN, "");
    const { token } = (await login.json()) as { token: string };
    const res = await send("GET", "/v1/users", undefined, `Bearer ${token}`);
    expect(res.status).toBe(200);
    const { users } = (await res.json()) as { users: { name: string }[] };
    expect(users.map((u) => u.name)).toEqual(["admin", "alice"]);
  });

  test("create, change, list, delete users; create and revoke tokens", async () => {
    const created = await send("POST", "/v1/users", { name: "ci", kind: "robot" });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ name: "ci", kind: "robot", role: "user", disabled: false });
    expect((await send("POST", "/v1/users", { name: "ci", kind: "robot" })).status).toBe(409);
    expect((await send("POST", "/v1/users", { name: "x y", password: "long-enough" })).status).toBe(400);

    const token = await send("POST", "/v1/tokens", { user: "ci", name: "pipeline", expires_in_ms: 60_000 });
    expect(token.status).toBe(201);
    const { id, token: secret } = (await token.json()) as { id: string; token: string };
    expect((await t.request("GET", "/v2/", { headers: { authorization: basicAuth("ci", secret) } })).status).toBe(200);
    const listed = await (await send("GET", "/v1/tokens?user=ci")).text();
    expect(listed).toContain(id);
    expect(listed).not.toContain(secret.slice("mcr_".length + 17));
    expect((await send("DELETE", `/v1/tokens/${id}`)).status).toBe(204);
    expect((await t.request("GET", "/v2/", { headers: { authorization: basicAuth("ci", secret) } })).status).toBe(401);
    expect((await send("DELETE", `/v1/tokens/${id}`)).status).toBe(404);

    const disabled = await send("PATCH", "/v1/users/alice", { disabled: true });
    expect(await disabled.json()).toMatchObject({ name: "alice", disabled: true });
    expect((await send("PATCH", "/v1/users/alice", { disabled: "yes" })).status).toBe(400);
    expect((await send("DELETE", "/v1/users/ci")).status).toBe(204);
    expect((await send("GET", "/v1/users/ci")).status).toBe(404);
    expect((await send("DELETE", "/v1/users/admin")).status).toBe(409);
    expect((await send("PUT", "/v1/users/admin")).status).toBe(405);
  });

  test("a malformed percent-escape in a path is a 400 with a JSON error, not a 500", async () => {
    const res = await send("GET", "/v1/users/%E0%A4");
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "malformed percent-encoding in the path" });
  });
});
