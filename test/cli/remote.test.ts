/**
 * @module Remote admin: `mcr login` saves an admin token (0600), and `mcr
 * user` / `mcr token` with `--server` (or MCR_SERVER/MCR_TOKEN, or the saved
 * login) act through /v1 with the same output and exit codes as locally.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { runCli, type CliResult } from "../support/cli.ts";
import { basicAuth } from "../support/credentials.ts";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";
import { tempDir } from "../support/temp.ts";

// Real processes, and the whole suite may run on a loaded machine: more than the default 5 s.
setDefaultTimeout(120_000);

let server: ServerProcess;
const configHome = tempDir("remote-home-");
const loginsFile = join(configHome, "mcr", "logins.json");
const env = { XDG_CONFIG_HOME: configHome };

const mcr = (args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}) => runCli(args, { stdin: opts.stdin, env: { ...env, ...opts.env } });
const remote = (args: string[], stdin?: string) => mcr([...args, "--server", server.url], { stdin });
const local = (args: string[], stdin?: string) => mcr([...args, "--data", server.dataDir], { stdin });
const ok = (r: CliResult) => {
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stdout}${r.stderr}`);
  return r.stdout;
};

beforeAll(async () => {
  server = await startServerProcess();
});
afterAll(() => server?.stop());

describe("mcr login", () => {
  test("a wrong password is refused and nothing is saved", async () => {
    const r = await mcr(["login", server.url, "--password-stdin"], { stdin: "wrong" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("invalid username or password");
    expect(await Bun.file(loginsFile).exists()).toBe(false);
  });

  test("saves an admin access token, readable by the user only", async () => {
    const r = await mcr(["login", server.url, "--username", "admin", "--password-stdin"], { stdin: `${server.password}\n` });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`logged in to ${server.url} as admin; token `);
    expect(statSync(loginsFile).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(loginsFile)).mode & 0o777).toBe(0o700);
    const saved = JSON.parse(readFileSync(loginsFile, "utf8")) as { default: string; servers: Record<string, { token: string; user: string }> };
    expect(saved.default).toBe(server.url);
    expect(saved.servers[server.url]?.token).toStartWith("mcr_");
    expect(readFileSync(loginsFile, "utf8")).not.toContain(server.password);
    // The login session used to create it is gone; the token is listed like any other.
    const tokens = JSON.parse(ok(await remote(["token", "list", "--json"]))) as { label: string; user: string }[];
    expect(tokens.some((t) => t.label.startsWith("mcr login from ") && t.user === "admin")).toBe(true);
  });
});

describe("policy, repo and audit over /v1", () => {
  test("the same output remotely as locally", async () => {
    // Something to list: a pushed blob and manifest in two repositories.
    for (const repo of ["team/app", "public/base"]) {
      const config = new TextEncoder().encode(`{"repo":"${repo}"}`);
      const digest = `sha256:${new Bun.CryptoHasher("sha256").update(config).digest("hex")}`;
      expect((await fetch(`${server.url}/v2/${repo}/blobs/uploads/?digest=${digest}`, { method: "POST", body: config, headers: { Authorization: server.authHeader } })).status).toBe(201);
      const manifest = JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: { mediaType: "application/vnd.oci.image.config.v1+json", digest, size: config.byteLength }, layers: [] });
      const put = await fetch(`${server.url}/v2/${repo}/manifests/v1`, { method: "PUT", body: manifest, headers: { Authorization: server.authHeader, "Content-Type": "application/vnd.oci.image.manifest.v1+json" } });
      expect(put.status).toBe(201);
    }
    for (const args of [["repo", "list"], ["repo", "list", "--json"], ["repo", "show", "team/app"], ["repo", "show", "team/app", "--json"], ["policy", "show"], ["policy", "show", "--json"]]) {
      expect(ok(await remote(args))).toBe(ok(await local(args)));
    }
    const test = ["policy", "test", "--user", "anonymous", "--action", "pull", "--repo", "public/base"];
    expect(ok(await remote(test))).toBe(ok(await local(test)));

    const policy = join(tempDir("policy-"), "p.toml");
    writeFileSync(policy, `${ok(await local(["policy", "show"]))}\n[[rule]]\nid = "public-pull"\neffect = "allow"\nsubjects = ["anonymous"]\nactions = ["pull"]\nrepositories = ["public/**"]\n`);
    expect(ok(await remote(["policy", "apply", "-f", policy, "--dry-run"]))).toBe("+ public-pull: allow anonymous pull on public/**\ndry run: nothing applied\n");
    expect(ok(await remote(["policy", "apply", "-f", policy]))).toContain("policy applied");
    expect(ok(await local(test))).toStartWith("ALLOW");
    expect((await fetch(`${server.url}/v2/public/base/manifests/v1`)).status).toBe(200);

    const tail = ["audit", "tail", "-n", "5", "--json", "--event", "manifest.*"];
    const remoteTail = ok(await remote(tail));
    expect(remoteTail).toBe(ok(await local(tail)));
    expect(remoteTail.trim().split("\n").map((l) => (JSON.parse(l) as { event: string }).event)).toContain("manifest.pushed");

    expect(ok(await remote(["repo", "delete", "team/app", "--yes"]))).toStartWith("deleted team/app:");
    expect(ok(await local(["repo", "list", "--json"]))).not.toContain('"team/app"');

    // gc runs on the server and reports back; the deleted repository's blob goes with grace 0.
    const dry = JSON.parse(ok(await remote(["gc", "--dry-run", "--grace", "0s", "--json"]))) as { dryRun: boolean; blobsRemoved: number };
    expect(dry).toMatchObject({ dryRun: true });
    expect(dry.blobsRemoved).toBeGreaterThanOrEqual(1);
    const real = JSON.parse(ok(await remote(["gc", "--grace", "0s", "--json"]))) as { dryRun: boolean; blobsRemoved: number };
    expect(real).toMatchObject({ dryRun: false, blobsRemoved: dry.blobsRemoved });
    expect(ok(await local(["gc", "--grace", "0s"]))).toContain("0 blob");
  });
});

describe("user and token over /v1", () => {
  test("the same output and effect remotely as locally", async () => {
    // add: same line, and the account works.
    expect(ok(await remote(["user", "add", "alice", "--password-stdin"], "alice-password-1"))).toBe("created user alice (role user)\n");
    expect(ok(await local(["user", "add", "bob", "--password-stdin"], "bob-password-1"))).toBe("created user bob (role user)\n");
    expect((await fetch(`${server.url}/v2/`, { headers: { Authorization: basicAuth("alice", "alice-password-1") } })).status).toBe(200);
    const robot = ok(await remote(["user", "add", "ci", "--robot"]));
    expect(robot).toBe("created robot ci (role user)\ncreate its token with: mcr token create --user ci --name LABEL\n");

    // list: identical text and JSON.
    expect(ok(await remote(["user", "list"]))).toBe(ok(await local(["user", "list"])));
    expect(ok(await remote(["user", "list", "--json"]))).toBe(ok(await local(["user", "list", "--json"])));

    // passwd, disable, enable.
    // A session made from the old password ends with it, and the output says so.
    const login = await fetch(`${server.url}/v1/auth/login`, { method: "POST", body: JSON.stringify({ username: "alice", password: "alice-password-1" }) });
    const aliceSession = ((await login.json()) as { token: string }).token;
    expect(ok(await remote(["user", "passwd", "alice", "--password-stdin"], "alice-password-2"))).toBe(
      "password of alice changed; ended 1 admin session(s) and 0 refresh token(s) made from the old password\n",
    );
    expect((await fetch(`${server.url}/v1/auth/logout`, { method: "POST", headers: { Authorization: `Bearer ${aliceSession}` } })).status).toBe(401);
    expect((await fetch(`${server.url}/v2/`, { headers: { Authorization: basicAuth("alice", "alice-password-2") } })).status).toBe(200);
    expect(ok(await remote(["user", "disable", "alice"]))).toBe("alice disabled; ended 0 admin session(s) and 0 refresh token(s)\n");
    expect((await fetch(`${server.url}/v2/`, { headers: { Authorization: basicAuth("alice", "alice-password-2") } })).status).toBe(401);
    expect(ok(await remote(["user", "enable", "alice"]))).toBe("alice enabled\n");

    // token create / list / revoke.
    const created = JSON.parse(ok(await remote(["token", "create", "--user", "ci", "--name", "pipeline", "--expires", "30d", "--json"]))) as { id: string; token: string; expiresAt: number };
    expect(created.expiresAt).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    expect((await fetch(`${server.url}/v2/`, { headers: { Authorization: basicAuth("ci", created.token) } })).status).toBe(200);
    const text = ok(await remote(["token", "create", "--user", "ci", "--name", "other"]));
    expect(text).toMatch(/^token [0-9a-f]{16} for ci \(expires never\):\nmcr_\S+\nit is shown only now/);
    expect(ok(await remote(["token", "list", "--user", "ci"]))).toBe(ok(await local(["token", "list", "--user", "ci"])));
    expect(ok(await remote(["token", "list", "--json"]))).toBe(ok(await local(["token", "list", "--json"])));
    expect(ok(await remote(["token", "revoke", created.id]))).toBe(`token ${created.id} revoked\n`);
    expect((await fetch(`${server.url}/v2/`, { headers: { Authorization: basicAuth("ci", created.token) } })).status).toBe(401);

    // Every kind: sessions (alice's, ended above; mcr login's) listed with --all, and revoked like a token.
    const relogin = await fetch(`${server.url}/v1/auth/login`, { method: "POST", body: JSON.stringify({ username: "alice", password: "alice-password-2" }) });
    const session = ((await relogin.json()) as { token: string }).token;
    const sessionId = session.split("_")[1]!;
    const all = ok(await remote(["token", "list", "--all"]));
    expect(all).toBe(ok(await local(["token", "list", "--all"])));
    expect(all).toMatch(new RegExp(`^${sessionId}\\s+session\\s+alice\\s+admin session\\s+password\\s.*\\bactive$`, "m"));
    expect(ok(await remote(["token", "list", "--all", "--json"]))).toBe(ok(await local(["token", "list", "--all", "--json"])));
    expect(ok(await remote(["token", "list"]))).not.toContain(sessionId);
    expect(ok(await remote(["token", "revoke", sessionId]))).toBe(`token ${sessionId} revoked\n`);
    expect((await fetch(`${server.url}/v1/auth/logout`, { method: "POST", headers: { Authorization: `Bearer ${session}` } })).status).toBe(401);

    // remove.
    expect(ok(await remote(["user", "remove", "bob"]))).toBe("bob removed\n");
    expect(ok(await local(["user", "list"]))).not.toContain("bob");
  });

  test("errors: the same messages and exit codes as locally", async () => {
    const [r, l] = [await remote(["user", "add", "alice", "--password-stdin"], "whatever-1"), await local(["user", "add", "alice", "--password-stdin"], "whatever-1")];
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(l.stderr);
    const badRole = await remote(["user", "add", "carol", "--role", "king"]);
    expect(badRole.code).toBe(2);
    expect(badRole.stderr).toBe((await local(["user", "add", "carol", "--role", "king"])).stderr);
    expect((await remote(["user", "remove", "nobody"])).stderr).toBe((await local(["user", "remove", "nobody"])).stderr);
  });

  test("MCR_SERVER and MCR_TOKEN, the saved login as default, and a bad token", async () => {
    const saved = JSON.parse(readFileSync(loginsFile, "utf8")) as { servers: Record<string, { token: string }> };
    const token = saved.servers[server.url]!.token;
    const viaEnv = await runCli(["user", "list", "--json"], { env: { XDG_CONFIG_HOME: tempDir("empty-home-"), MCR_SERVER: server.url, MCR_TOKEN: token } });
    expect(viaEnv.code).toBe(0);
    expect(viaEnv.stdout).toBe(ok(await local(["user", "list", "--json"])));
    // No --server, --data or MCR_*: the server of the last login.
    expect(ok(await mcr(["user", "list", "--json"]))).toBe(viaEnv.stdout);

    const bad = await mcr(["user", "list", "--server", server.url, "--token", "mcr_0123456789abcdef_notavalidsecretatallxxxxxxxxxxxxx"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("log in again");
    const noToken = await runCli(["user", "list", "--server", server.url], { env: { XDG_CONFIG_HOME: tempDir("empty-home-") } });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain(`no token for ${server.url}`);
    expect((await mcr(["user", "list", "--server", server.url, "--data", server.dataDir])).code).toBe(2);
    const unreachable = await mcr(["user", "list", "--server", "http://127.0.0.1:9", "--token", token]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain("cannot reach http://127.0.0.1:9");
  });

  test("mcr logout revokes the saved token and forgets it", async () => {
    const saved = JSON.parse(readFileSync(loginsFile, "utf8")) as { servers: Record<string, { token: string }> };
    const token = saved.servers[server.url]!.token;
    const out = await mcr(["logout"]);
    expect(out.stdout).toBe(`logged out of ${server.url}; token revoked\n`);
    expect((await fetch(`${server.url}/v1/users`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(401);
    expect(readFileSync(loginsFile, "utf8")).not.toContain(token);
    expect((await mcr(["logout"])).code).toBe(2);
  });
});
