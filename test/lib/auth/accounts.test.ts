/**
 * @module Accounts and access tokens: creation rules, the first admin,
 * and tokens that stop working the moment they are revoked or expire.
 */
import { describe, expect, test } from "bun:test";
import { createToken, listTokens, resolveToken, revokeToken } from "../../../lib/auth/tokens.ts";
import { addUser, ensureAdmin, listUsers, removeUser, setDisabled, setPassword } from "../../../lib/auth/users.ts";
import { recentAuditEvents } from "../../../lib/db/queries/audit.ts";
import { openRegistry, type Registry } from "../../../lib/registry/registry.ts";
import { tempDir } from "../../support/temp.ts";

async function registry(): Promise<Registry> {
  return openRegistry(tempDir());
}

async function code(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => "ok",
    (e: { code?: string }) => e.code ?? String(e),
  );
}

describe("accounts", () => {
  test("the first start creates admin once, with a generated password when none is given", async () => {
    const reg = await registry();
    const first = await ensureAdmin(reg, undefined);
    expect(first.created).toBe(true);
    expect(first.generated).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(await ensureAdmin(reg, undefined)).toEqual({ created: false, generated: null });
    expect(await ensureAdmin(reg, "another-password")).toEqual({ created: false, generated: null });
    expect((await listUsers(reg)).map((u) => [u.name, u.role])).toEqual([["admin", "admin"]]);
    await reg.close();
  });

  test("creation rules: names, roles, passwords for humans, none for robots", async () => {
    const reg = await registry();
    expect(await code(addUser(reg, { name: "alice", password: "long-enough" }, "t"))).toBe("ok");
    expect(await code(addUser(reg, { name: "alice", password: "long-enough" }, "t"))).toBe("ALREADY_EXISTS");
    expect(await code(addUser(reg, { name: "Bad Name", password: "long-enough" }, "t"))).toBe("INVALID_ARGUMENT");
    expect(await code(addUser(reg, { name: "bob", role: "root", password: "long-enough" }, "t"))).toBe("INVALID_ARGUMENT");
    expect(await code(addUser(reg, { name: "bob", password: "short" }, "t"))).toBe("INVALID_ARGUMENT");
    expect(await code(addUser(reg, { name: "bob" }, "t"))).toBe("INVALID_ARGUMENT");
    expect(await code(addUser(reg, { name: "ci", kind: "robot", password: "long-enough" }, "t"))).toBe("INVALID_ARGUMENT");
    expect(await code(addUser(reg, { name: "ci", kind: "robot" }, "t"))).toBe("ok");
    expect(await code(setPassword(reg, "ci", "long-enough", "t"))).toBe("INVALID_ARGUMENT");
    const listed = JSON.stringify(await listUsers(reg));
    expect(listed).not.toContain("argon2");
    expect(listed).not.toContain("password");
    await reg.close();
  });

  test("the last enabled admin can be neither disabled nor removed", async () => {
    const reg = await registry();
    await ensureAdmin(reg, "admin-password");
    expect(await code(setDisabled(reg, "admin", true, "t"))).toBe("CONFLICT");
    expect(await code(removeUser(reg, "admin", "t"))).toBe("CONFLICT");
    await addUser(reg, { name: "root2", role: "admin", password: "long-enough" }, "t");
    expect(await code(setDisabled(reg, "admin", true, "t"))).toBe("ok");
    expect(await code(removeUser(reg, "root2", "t"))).toBe("CONFLICT");
    await reg.close();
  });

  test("every account change is audited, without secrets", async () => {
    const reg = await registry();
    await addUser(reg, { name: "alice", password: "secret-password-1" }, "local:test");
    await setPassword(reg, "alice", "secret-password-2", "local:test");
    await setDisabled(reg, "alice", true, "local:test");
    await removeUser(reg, "alice", "local:test");
    await reg.audit.flush();
    const events = await recentAuditEvents(reg.db, 10);
    expect(events.map((e) => e.event)).toEqual(["user.added", "user.changed", "user.changed", "user.removed"]);
    expect(events.every((e) => e.actor === "local:test")).toBe(true);
    expect(JSON.stringify(events)).not.toContain("secret-password");
    await reg.close();
  });
});

describe("access tokens", () => {
  test("a token resolves to its live account until revoked, expired, or the account is disabled", async () => {
    const reg = await registry();
    await addUser(reg, { name: "ci", kind: "robot" }, "t");
    const { id, token } = await createToken(reg, { user: "ci", label: "pipeline" }, "t");
    expect(token).toStartWith(`mcr_${id}_`);
    expect((await resolveToken(reg, token, "token"))?.user.name).toBe("ci");
    expect(await resolveToken(reg, token, "session")).toBeNull();
    expect(await resolveToken(reg, `${token.slice(0, -2)}xx`, "token")).toBeNull();
    expect(await resolveToken(reg, "mcr_0000000000000000_notarealsecretatallxx", "token")).toBeNull();

    await setDisabled(reg, "ci", true, "t");
    expect(await resolveToken(reg, token, "token")).toBeNull();
    await setDisabled(reg, "ci", false, "t");
    await revokeToken(reg, id, "t");
    expect(await resolveToken(reg, token, "token")).toBeNull();
    expect(await code(revokeToken(reg, id, "t"))).toBe("NOT_FOUND");

    let clock = Date.now();
    reg.now = () => clock;
    const expiring = await createToken(reg, { user: "ci", label: "short", expiresInMs: 1000 }, "t");
    expect(await resolveToken(reg, expiring.token, "token")).not.toBeNull();
    clock += 1001;
    expect(await resolveToken(reg, expiring.token, "token")).toBeNull();
    await reg.close();
  });

  test("listing shows labels and use, never secrets or hashes", async () => {
    const reg = await registry();
    await addUser(reg, { name: "ci", kind: "robot" }, "t");
    const { token } = await createToken(reg, { user: "ci", label: "pipeline" }, "t");
    await resolveToken(reg, token, "token");
    const listed = await listTokens(reg, "ci");
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ user: "ci", label: "pipeline", revokedAt: null });
    expect(listed[0]!.lastUsedAt).not.toBeNull();
    const text = JSON.stringify(listed);
    expect(text).not.toContain(token.slice("mcr_".length + 17));
    expect(text).not.toContain("hash");
    expect(await code(listTokens(reg, "nobody"))).toBe("NOT_FOUND");
    await reg.close();
  });
});
