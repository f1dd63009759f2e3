/**
 * @module `mcr user` and `mcr token` run as child processes on a temp data
 * dir: exit codes, what is printed (secrets once, hashes never) and its effect.
 */
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Authenticator } from "../../lib/auth/authenticator.ts";
import { createDerivedToken } from "../../lib/auth/derived-tokens.ts";
import { ephemeralSigningKey } from "../../lib/auth/signing-key.ts";
import { createToken } from "../../lib/auth/tokens.ts";
import { openRegistry } from "../../lib/registry/registry.ts";
import { cliOk, runCli } from "../support/cli.ts";
import { tempDir } from "../support/temp.ts";

// Real processes, and the whole suite may run on a loaded machine: more than the default 5 s.
setDefaultTimeout(120_000);

const DAY_MS = 86_400_000;
const TOKEN_LINE = /^mcr_([0-9a-f]{16})_\S+$/gm;

/** Whether the account behind `name` accepts `secret` (a password or token) right now. */
async function canLogin(data: string, name: string, secret: string): Promise<boolean> {
  const reg = await openRegistry(data);
  try {
    await new Authenticator(reg, ephemeralSigningKey(), { tokenTtlSeconds: 60 }).login(name, secret, null);
    return true;
  } catch {
    return false;
  } finally {
    await reg.close();
  }
}

interface ListedUser {
  name: string;
  role: string;
  kind: string;
  disabled: boolean;
}
interface ListedToken {
  id: string;
  user: string;
  label: string;
  expiresAt: number | null;
  revokedAt: number | null;
}

describe("mcr user and mcr token", () => {
  const data = tempDir("cli-");
  const d = ["--data", data];
  const alicePassword = "alice-password-1";
  let bobPassword = "";
  const users = async () => JSON.parse(await cliOk(["user", "list", "--json", ...d])) as ListedUser[];
  const tokens = async (...extra: string[]) => JSON.parse(await cliOk(["token", "list", "--json", ...extra, ...d])) as ListedToken[];

  beforeAll(async () => {
    const alice = await runCli(["user", "add", "alice", "--password-stdin", ...d], { stdin: `${alicePassword}\n` });
    expect(alice).toMatchObject({ code: 0 });
    expect(alice.stdout).toContain("created user alice (role user)");
    expect(alice.stdout).not.toContain("password");
    const bob = await runCli(["user", "add", "bob", ...d]);
    expect(bob.code).toBe(0);
    const printed = [...bob.stdout.matchAll(/^password: (\S+)$/gm)];
    expect(printed).toHaveLength(1);
    bobPassword = printed[0]?.[1] ?? "";
  });

  test("user add: the piped and the generated password both work", async () => {
    expect(await canLogin(data, "alice", alicePassword)).toBe(true);
    expect(bobPassword.length).toBeGreaterThanOrEqual(16);
    expect(await canLogin(data, "bob", bobPassword)).toBe(true);
    expect(await canLogin(data, "bob", alicePassword)).toBe(false);
  });

  test("user list and --json show accounts but no password or hash", async () => {
    const text = await cliOk(["user", "list", ...d]);
    expect(text).toMatch(/^NAME\s+ROLE\s+KIND\s+STATUS/);
    expect(text).toMatch(/^alice\s+user\s+human\s+enabled/m);
    const json = await cliOk(["user", "list", "--json", ...d]);
    expect((JSON.parse(json) as ListedUser[]).map((u) => u.name).sort()).toEqual(["alice", "bob"]);
    for (const out of [text, json]) {
      for (const leak of ["argon2", "hash", "password", alicePassword, bobPassword]) expect(out).not.toContain(leak);
    }
  });

  test("user add refuses duplicates (1), bad names, roles and robot passwords (2)", async () => {
    const dup = await runCli(["user", "add", "alice", ...d]);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain("already exists");
    expect(dup.stdout).not.toContain("password:");
    for (const name of ["Alice", "bad!", "a b", ".dot", "a".repeat(65)]) {
      expect((await runCli(["user", "add", name, "--password-stdin", ...d], { stdin: "long-enough-pw" })).code).toBe(2);
    }
    const role = await runCli(["user", "add", "carl", "--role", "king", ...d]);
    expect(role.code).toBe(2);
    expect(role.stderr).toContain("role must be one of");
    expect((await runCli(["user", "add", "carl", "--password-stdin", ...d], { stdin: "short" })).code).toBe(2);
    const robot = await runCli(["user", "add", "ci", "--robot", "--password-stdin", ...d], { stdin: "robot-password" });
    expect(robot.code).toBe(2);
    expect((await users()).map((u) => u.name).sort()).toEqual(["alice", "bob"]);
  });

  test("user passwd sets a piped or a generated password", async () => {
    await cliOk(["user", "passwd", "alice", "--password-stdin", ...d], { stdin: "alice-password-2\n" });
    expect(await canLogin(data, "alice", "alice-password-2")).toBe(true);
    expect(await canLogin(data, "alice", alicePassword)).toBe(false);
    const out = await cliOk(["user", "passwd", "alice", ...d]);
    const generated = /^password: (\S+)$/m.exec(out)?.[1] ?? "";
    expect(await canLogin(data, "alice", generated)).toBe(true);
    expect((await runCli(["user", "passwd", "nobody", "--password-stdin", ...d], { stdin: "whatever-pw" })).code).toBe(1);
    await cliOk(["user", "passwd", "alice", "--password-stdin", ...d], { stdin: alicePassword });
  });

  test("user disable and enable", async () => {
    await cliOk(["user", "disable", "bob", ...d]);
    expect((await users()).find((u) => u.name === "bob")?.disabled).toBe(true);
    expect(await cliOk(["user", "list", ...d])).toMatch(/^bob\s+user\s+human\s+disabled/m);
    expect(await canLogin(data, "bob", bobPassword)).toBe(false);
    await cliOk(["user", "enable", "bob", ...d]);
    expect((await users()).find((u) => u.name === "bob")?.disabled).toBe(false);
    expect(await canLogin(data, "bob", bobPassword)).toBe(true);
    expect((await runCli(["user", "disable", "nobody", ...d])).code).toBe(1);
  });

  test("the last enabled admin can be neither removed nor disabled (exit 1)", async () => {
    // A refused operation is a failure (1), not a usage error (2); see cli/main.ts.
    const refusals: number[] = [];
    const refused = async (args: string[]) => {
      const r = await runCli([...args, ...d]);
      expect(r.stderr).toContain("last enabled admin");
      refusals.push(r.code);
    };
    await cliOk(["user", "add", "root", "--role", "admin", "--password-stdin", ...d], { stdin: "root-password" });
    await refused(["user", "remove", "root"]);
    await refused(["user", "disable", "root"]);
    expect((await users()).find((u) => u.name === "root")?.disabled).toBe(false);
    await cliOk(["user", "add", "root2", "--role", "admin", "--password-stdin", ...d], { stdin: "root2-password" });
    await cliOk(["user", "disable", "root", ...d]);
    await refused(["user", "remove", "root2"]);
    await cliOk(["user", "remove", "root", ...d]);
    expect(refusals).toEqual([1, 1, 1]);
  });

  test("user remove deletes the account and its tokens", async () => {
    await cliOk(["user", "add", "gone", "--password-stdin", ...d], { stdin: "gone-password" });
    await cliOk(["token", "create", "--user", "gone", "--name", "t", ...d]);
    expect(await cliOk(["user", "remove", "gone", ...d])).toContain("gone removed");
    expect((await users()).map((u) => u.name)).not.toContain("gone");
    expect((await tokens()).map((t) => t.user)).not.toContain("gone");
    const again = await runCli(["user", "remove", "gone", ...d]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("no user gone");
  });

  test("token create prints the token once; list never shows it; revoke stops it", async () => {
    const text = await cliOk(["token", "create", "--user", "alice", "--name", "laptop", ...d]);
    const printed = [...text.matchAll(TOKEN_LINE)];
    expect(printed).toHaveLength(1);
    const token = printed[0]?.[0] ?? "";
    const id = printed[0]?.[1] ?? "";
    expect(text).toContain(`token ${id} for alice (expires never)`);
    expect(await canLogin(data, "alice", token)).toBe(true);
    expect(await canLogin(data, "bob", token)).toBe(false);

    const created = JSON.parse(await cliOk(["token", "create", "--user", "alice", "--name", "ci", "--json", ...d])) as {
      id: string;
      token: string;
      expiresAt: number | null;
    };
    expect(created.token.startsWith(`mcr_${created.id}_`)).toBe(true);
    expect(created.expiresAt).toBeNull();

    const listed = [
      await cliOk(["token", "list", ...d]),
      await cliOk(["token", "list", "--json", ...d]),
      await cliOk(["token", "list", "--user", "alice", "--json", ...d]),
    ];
    for (const out of listed) {
      expect(out).toContain(id);
      expect(out).toContain(created.id);
      for (const secret of [token, created.token]) expect(out).not.toContain(secret.slice(`mcr_${id}_`.length));
      expect(out).not.toMatch(/"(token|secret|hash|secretHash)":/);
    }
    expect(listed[0]).toMatch(new RegExp(`^${id}\\s+alice\\s+laptop\\s.*\\bactive$`, "m"));
    expect(await tokens("--user", "bob")).toEqual([]);

    expect(await cliOk(["token", "revoke", id, ...d])).toContain(`token ${id} revoked`);
    expect(await canLogin(data, "alice", token)).toBe(false);
    expect(await canLogin(data, "alice", created.token)).toBe(true);
    expect((await tokens()).find((t) => t.id === id)?.revokedAt).toBeNumber();
    expect(await cliOk(["token", "list", ...d])).toMatch(new RegExp(`^${id}\\s.*\\brevoked$`, "m"));
    expect((await runCli(["token", "revoke", id, ...d])).code).toBe(1);
    expect((await runCli(["token", "revoke", "0123456789abcdef", ...d])).code).toBe(1);
  });

  test("a robot gets no password and works with a token", async () => {
    const out = await cliOk(["user", "add", "ci", "--robot", ...d]);
    expect(out).toContain("created robot ci");
    expect(out).not.toContain("password:");
    expect((await users()).find((u) => u.name === "ci")).toMatchObject({ kind: "robot", role: "user" });
    const { token } = JSON.parse(await cliOk(["token", "create", "--user", "ci", "--name", "ci", "--json", ...d])) as { token: string };
    expect(await canLogin(data, "ci", token)).toBe(true);
    expect((await runCli(["user", "passwd", "ci", "--password-stdin", ...d], { stdin: "robot-password" })).code).toBe(2);
  });

  test("token create --expires: a duration, or exit 2", async () => {
    const before = Date.now();
    const { id, expiresAt } = JSON.parse(
      await cliOk(["token", "create", "--user", "alice", "--name", "short", "--expires", "90d", "--json", ...d]),
    ) as { id: string; expiresAt: number };
    expect(expiresAt).toBeGreaterThanOrEqual(before + 90 * DAY_MS);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 90 * DAY_MS);
    expect((await tokens()).find((t) => t.id === id)?.expiresAt).toBe(expiresAt);
    const count = (await tokens()).length;
    for (const bad of ["3x", "90", "0d", "d", "1.5h", ""]) {
      const r = await runCli(["token", "create", "--user", "alice", "--name", "bad", "--expires", bad, ...d]);
      expect(r.code).toBe(2);
      expect(r.stdout).not.toMatch(TOKEN_LINE);
    }
    expect(await tokens()).toHaveLength(count);
  });

  test("token list --all shows sessions and refresh tokens with their kind; revoke ends them; passwd says what it ended", async () => {
    // Made in process, as /v1/auth/login and the OAuth2 offline grant make them.
    const reg = await openRegistry(data);
    const auth = new Authenticator(reg, ephemeralSigningKey(), { tokenTtlSeconds: 60 });
    const viaPassword = await auth.login("alice", alicePassword, null);
    const session = await createDerivedToken(reg, viaPassword, { kind: "session", label: "admin session", ttlMs: DAY_MS });
    const refresh = await createDerivedToken(reg, viaPassword, { kind: "refresh", label: "refresh:\u001b[31mdocker", ttlMs: DAY_MS });
    const pat = await createToken(reg, { user: "alice", label: "for-refresh" }, "t");
    const fromPat = await createDerivedToken(reg, await auth.login("alice", pat.token, null), { kind: "refresh", label: "refresh:ci", ttlMs: DAY_MS });
    await reg.close();

    expect(await cliOk(["token", "list", ...d])).not.toContain(session.id);
    const all = await cliOk(["token", "list", "--all", "--user", "alice", ...d]);
    expect(all).toMatch(/^ID\s+KIND\s+USER\s+LABEL\s+FROM\s+CREATED/);
    expect(all).toMatch(new RegExp(`^${session.id}\\s+session\\s+alice\\s+admin session\\s+password\\s.*\\bactive$`, "m"));
    expect(all).toMatch(new RegExp(`^${fromPat.id}\\s+refresh\\s+alice\\s+refresh:ci\\s+${pat.id}\\s.*\\bactive$`, "m"));
    // The client's escape sequence was stored as text.
    expect(all).not.toContain("\u001b");
    expect(all).toContain("refresh:?[31mdocker");
    const listed = JSON.parse(await cliOk(["token", "list", "--all", "--json", ...d])) as (ListedToken & { kind: string })[];
    expect(listed.find((t) => t.id === refresh.id)?.kind).toBe("refresh");

    expect(await cliOk(["token", "revoke", session.id, ...d])).toBe(`token ${session.id} revoked\n`);
    expect((await runCli(["token", "revoke", session.id, ...d])).code).toBe(1);
    const out = await cliOk(["user", "passwd", "alice", "--password-stdin", ...d], { stdin: alicePassword });
    expect(out).toBe("password of alice changed; ended 0 admin session(s) and 1 refresh token(s) made from the old password\n");
    const after = JSON.parse(await cliOk(["token", "list", "--all", "--json", ...d])) as ListedToken[];
    expect(after.find((t) => t.id === refresh.id)?.revokedAt).toBeNumber();
    expect(after.find((t) => t.id === fromPat.id)?.revokedAt).toBeNull();
    await cliOk(["token", "revoke", pat.id, ...d]);
    expect((JSON.parse(await cliOk(["token", "list", "--all", "--json", ...d])) as ListedToken[]).find((t) => t.id === fromPat.id)?.revokedAt).toBeNumber();
  });

  test("token create for an unknown user (1) or without --name (2)", async () => {
    expect((await runCli(["token", "create", "--user", "nobody", "--name", "x", ...d])).code).toBe(1);
    expect((await runCli(["token", "create", "--user", "alice", ...d])).code).toBe(2);
  });

  test("unknown commands and options exit 2", async () => {
    for (const args of [["user", "frob"], ["token", "frob"], ["frob"], ["user", "list", "--bogus"]]) {
      const r = await runCli([...args, ...d]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/unknown (command|option)/);
    }
  });
});
