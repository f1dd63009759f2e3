/**
 * @module `mcr config check|print` and `mcr serve --config` as child
 * processes: exit codes, messages naming the key, precedence as the
 * server applies it, and secrets never printed.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli, startServe } from "../support/cli.ts";
import { basicAuth } from "../support/credentials.ts";
import { tempDir } from "../support/temp.ts";

// Real processes, and the whole suite may run on a loaded machine: more than the default 5 s.
setDefaultTimeout(120_000);

const dir = tempDir("cli-config-");
const SECRET = "metrics-token-0123456789";

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe("mcr config", () => {
  const good = write("good.toml", `[server]\nlisten = "127.0.0.1:0"\n\n[storage]\ndata_dir = "data"\n\n[metrics]\ntoken = "${SECRET}"\n`);
  const bad = write("bad.toml", `[server]\nlisten = "127.0.0.1:0"\nlisen = "x"\n\n[log]\nlevel = "loud"\n`);

  test("check: 0 and ok for a valid file; 2 naming every bad key otherwise", async () => {
    const ok = await runCli(["config", "check", good]);
    expect(ok).toMatchObject({ code: 0, stdout: `${good}: ok\n` });
    const viaEnv = await runCli(["config", "check"], { env: { MCR_CONFIG: good } });
    expect(viaEnv.code).toBe(0);
    const failed = await runCli(["config", "check", bad]);
    expect(failed.code).toBe(2);
    expect(failed.stderr).toContain("server.lisen: unknown key (did you mean server.listen?)");
    expect(failed.stderr).toContain(`log.level: expected one of debug, info, warn, error, got "loud"`);
    expect((await runCli(["config", "check"])).code).toBe(2);
  });

  test("check reads the TLS files a configuration names", async () => {
    const tls = write("tls.toml", `[server.tls]\ncert = "nope.pem"\nkey = "nope.key"\n`);
    const r = await runCli(["config", "check", tls]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`server.tls.cert: cannot read ${join(dir, "nope.pem")}: no such file`);
  });

  test("print: the effective configuration, flags over environment over file, the secret redacted", async () => {
    const r = await runCli(["config", "print", "--config", good, "--log-level", "debug"], { env: { MCR_LOG_LEVEL: "warn", MCR_GC_GRACE: "6h" } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`level = "debug"  # from --log-level`);
    expect(r.stdout).toContain(`grace = "6h"  # from MCR_GC_GRACE`);
    expect(r.stdout).toContain(`data_dir = "${join(dir, "data")}"  # from file`);
    expect(r.stdout).toContain(`token = "<redacted>"`);
    expect(r.stdout).not.toContain(SECRET);
    const json = await runCli(["config", "print", "--json"], { env: { MCR_CONFIG: good, MCR_METRICS_TOKEN: `${SECRET}-env` } });
    expect(json.code).toBe(0);
    expect(json.stdout).not.toContain(SECRET);
    const parsed = JSON.parse(json.stdout) as { config: { metrics: { token: string } }; sources: Record<string, string> };
    expect(parsed.config.metrics.token).toBe("<redacted>");
    expect(parsed.sources["metrics.token"]).toBe("env");
  });
});

describe("mcr serve with a configuration file", () => {
  test("an invalid file stops the start with exit 2, naming the key", async () => {
    const bad = write("serve-bad.toml", `[auth]\ntoken_ttl = "forever"\n`);
    const r = await runCli(["serve", "--config", bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`auth.token_ttl: invalid duration "forever"`);
    expect(r.stdout).not.toContain("listening");
  });

  test("listens and stores where the file says; the environment and flags override it", async () => {
    const path = write("serve.toml", `[server]\nlisten = "127.0.0.1:0"\n\n[storage]\ndata_dir = "from-file"\n`);
    const fromFile = await startServe(dir, { args: ["--config", path] });
    expect(fromFile.output()).toContain(`(data: ${join(dir, "from-file")})`);
    await fromFile.stop();

    const data = tempDir("serve-flag-");
    const overridden = await startServe(dir, { args: ["--data", data], env: { MCR_CONFIG: path, MCR_AUTH_TOKEN_TTL: "45s", MCR_ADMIN_PASSWORD: "admin-password-1" } });
    expect(overridden.output()).toContain(`(data: ${data})`);
    // auth.token_ttl reaches the token endpoint.
    const res = await fetch(`${overridden.url}/v2/token?service=x&scope=repository:a/b:pull`, { headers: { Authorization: basicAuth("admin", "admin-password-1") } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { expires_in: number }).expires_in).toBe(45);
    await overridden.stop();
  });
});
