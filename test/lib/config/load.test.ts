/**
 * @module Loading the configuration: defaults, file, environment, flags in
 * that order of precedence, and every kind of invalid input stopping the
 * load with a message that names the key.
 */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { databaseTarget } from "../../../lib/config/database.ts";
import { RegistryError } from "../../../lib/errors.ts";
import { loadConfig, type ConfigInputs } from "../../../lib/config/load.ts";
import { renderJson, renderToml, REDACTED } from "../../../lib/config/render.ts";
import { settings } from "../../../lib/config/settings.ts";
import { tempDir } from "../../support/temp.ts";

const dir = tempDir("config-");
let n = 0;
function file(text: string): string {
  const path = join(dir, `c${n++}.toml`);
  writeFileSync(path, text);
  return path;
}

/** The message of the error loading throws. */
function problem(inputs: ConfigInputs): string {
  try {
    loadConfig({ env: {}, cwd: dir, ...inputs });
  } catch (error) {
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).code).toBe("INVALID_ARGUMENT");
    return (error as Error).message;
  }
  throw new Error("loadConfig accepted it");
}

describe("loadConfig", () => {
  test("defaults without a file", () => {
    const { config, sources, file: f } = loadConfig({ env: {}, cwd: dir });
    expect(f).toBeNull();
    expect(config.server).toEqual({ listen: "127.0.0.1:5000", base_url: null, idle_timeout: 255_000, shutdown_timeout: 30_000, workers: 1, trusted_proxies: [], tls: { cert: null, key: null } });
    expect(config.storage.data_dir).toBe(join(dir, "mcr-data"));
    expect(config.auth).toEqual({ token_ttl: 300_000, anonymous: true, signing_key_file: null });
    expect(config.gc.grace).toBe(3_600_000);
    expect(config.audit.retention).toBe(90 * 86_400_000);
    expect(config.log).toEqual({ level: "info", format: "text" });
    expect(config.metrics).toEqual({ enabled: true, token: null });
    expect(Object.values(sources).every((s) => s === "default")).toBe(true);
  });

  test("precedence: flags > environment > file > defaults", () => {
    const path = file(`[server]\nlisten = "0.0.0.0:6000"\n[log]\nlevel = "warn"\nformat = "json"\n[auth]\ntoken_ttl = "10m"\n`);
    const env = { MCR_LISTEN: "127.0.0.1:7000", MCR_LOG_LEVEL: "debug" };
    const { config, sources } = loadConfig({ file: path, env, flags: { "server.listen": "127.0.0.1:8000" }, cwd: dir });
    expect(config.server.listen).toBe("127.0.0.1:8000");
    expect(sources["server.listen"]).toBe("flag");
    expect(config.log.level).toBe("debug");
    expect(sources["log.level"]).toBe("env");
    expect(config.log.format).toBe("json");
    expect(sources["log.format"]).toBe("file");
    expect(config.auth.token_ttl).toBe(600_000);
    expect(config.gc.grace).toBe(3_600_000);
    expect(sources["gc.grace"]).toBe("default");
  });

  test("MCR_CONFIG names the file when no flag does; --config wins over it", () => {
    const a = file(`[gc]\ngrace = "2h"\n`);
    const b = file(`[gc]\ngrace = "3h"\n`);
    expect(loadConfig({ env: { MCR_CONFIG: a }, cwd: dir }).config.gc.grace).toBe(7_200_000);
    expect(loadConfig({ file: b, env: { MCR_CONFIG: a }, cwd: dir }).config.gc.grace).toBe(10_800_000);
  });

  test("relative paths in a file resolve against the file's directory, elsewhere against the working directory", () => {
    const sub = tempDir("config-sub-");
    const path = join(sub, "mcr.toml");
    writeFileSync(path, `[storage]\ndata_dir = "data"\n[server.tls]\ncert = "tls/cert.pem"\nkey = "/etc/mcr/key.pem"\n`);
    const { config } = loadConfig({ file: path, env: {}, cwd: dir });
    expect(config.storage.data_dir).toBe(join(sub, "data"));
    expect(config.server.tls).toEqual({ cert: join(sub, "tls", "cert.pem"), key: "/etc/mcr/key.pem" });
    expect(loadConfig({ file: path, env: { MCR_DATA_DIR: "elsewhere" }, cwd: dir }).config.storage.data_dir).toBe(join(dir, "elsewhere"));
  });

  test("unknown keys and sections name the key, with a suggestion for a near miss", () => {
    expect(problem({ file: file(`[server]\nlisen = "1.2.3.4:5"\n`) })).toContain("server.lisen: unknown key (did you mean server.listen?)");
    expect(problem({ file: file(`[strage]\ndata_dir = "x"\n`) })).toContain("strage: unknown section (did you mean storage?)");
    expect(problem({ file: file(`listen = "1.2.3.4:5"\n`) })).toContain("listen: unknown key");
    expect(problem({ file: file(`server = "x"\n`) })).toContain("server: must be a table");
    expect(problem({ file: file(`[server.tls]\npassphrase = "x"\n`) })).toContain("server.tls.passphrase: unknown key");
  });

  test("every invalid value names its key and source; all problems are reported at once", () => {
    const path = file(
      [
        `[server]`,
        `listen = "nowhere"`,
        `base_url = "ftp://x"`,
        `idle_timeout = "300s"`,
        `[auth]`,
        `token_ttl = 5`,
        `anonymous = "maybe"`,
        `[gc]`,
        `grace = "1 hour"`,
        `[audit]`,
        `retention = "1h"`,
        `[log]`,
        `level = "verbose"`,
        `format = "xml"`,
        `[metrics]`,
        `enabled = "sometimes"`,
        `token = "short"`,
        `[storage]`,
        `data_dir = ""`,
      ].join("\n"),
    );
    const message = problem({ file: path });
    for (const expected of [
      `server.listen: invalid listen address "nowhere"`,
      `server.base_url: "ftp://x" must start with http:// or https://`,
      `server.idle_timeout: "300s" is out of range: between 0s and 255s`,
      "auth.token_ttl: expected a duration as a string, got number",
      `auth.anonymous: expected true or false, got "maybe"`,
      `gc.grace: invalid duration "1 hour"`,
      `audit.retention: "1h" is out of range`,
      `log.level: expected one of debug, info, warn, error, got "verbose"`,
      `log.format: expected one of text, json, got "xml"`,
      `metrics.enabled: expected true or false`,
      "metrics.token: a secret must have at least 16 characters",
      "storage.data_dir: expected a path, got an empty string",
    ]) {
      expect(message).toContain(expected);
    }
    expect(message).toContain(`[from ${path}]`);
  });

  test("invalid environment variables and flags name the key and where they came from", () => {
    expect(problem({ env: { MCR_LISTEN: "x" } })).toMatch(/server\.listen: .*\[from MCR_LISTEN\]/);
    expect(problem({ env: { MCR_AUTH_TOKEN_TTL: "1s" } })).toMatch(/auth\.token_ttl: "1s" is out of range.*\[from MCR_AUTH_TOKEN_TTL\]/);
    expect(problem({ flags: { "log.format": "yaml" } })).toMatch(/log\.format: .*\[from --log-format\]/);
    expect(problem({ flags: { "server.base_url": "https://reg.example/v2" } })).toContain("must be scheme, host and port only");
  });

  test("a TLS certificate without its key, a missing file and broken TOML stop the load", () => {
    expect(problem({ env: { MCR_SERVER_TLS_CERT: "/x.pem" } })).toContain("server.tls.key: server.tls.cert and server.tls.key must be set together");
    expect(problem({ file: join(dir, "absent.toml") })).toContain("absent.toml: no such file");
    expect(problem({ file: file(`[server\nlisten = 1`) })).toContain("invalid configuration file");
  });

  test("trusted_proxies: a TOML array or a comma-separated variable of IP addresses", () => {
    expect(loadConfig({ file: file(`[server]\ntrusted_proxies = ["127.0.0.1", "::1"]\n`), env: {}, cwd: dir }).config.server.trusted_proxies).toEqual(["127.0.0.1", "::1"]);
    expect(loadConfig({ env: { MCR_SERVER_TRUSTED_PROXIES: "10.0.0.1, 10.0.0.2" }, cwd: dir }).config.server.trusted_proxies).toEqual(["10.0.0.1", "10.0.0.2"]);
    expect(problem({ file: file(`[server]\ntrusted_proxies = ["nginx"]\n`) })).toContain(`server.trusted_proxies: "nginx" is not an IP address`);
    expect(problem({ file: file(`[server]\ntrusted_proxies = [1]\n`) })).toContain("server.trusted_proxies: expected a list of IP addresses");
    expect(loadConfig({ env: { MCR_SERVER_TRUSTED_PROXIES: "10.0.0.0/8,fd00::/8" }, cwd: dir }).config.server.trusted_proxies).toEqual(["10.0.0.0/8", "fd00::/8"]);
    expect(problem({ file: file(`[server]\ntrusted_proxies = ["10.0.0.0/33"]\n`) })).toContain("prefix length must be 0 to 32");
    expect(problem({ file: file(`[server]\ntrusted_proxies = ["10.0.0.0/8/1"]\n`) })).toContain("is not an IP address or CIDR range");
  });

  test("base_url is normalized to scheme://host[:port]", () => {
    expect(loadConfig({ env: { MCR_SERVER_BASE_URL: "https://Reg.Example.com:443/" }, cwd: dir }).config.server.base_url).toBe("https://reg.example.com");
  });
});

describe("storage.database", () => {
  test("empty means SQLite in the data directory; a postgres:// URL needs a host and a database", () => {
    expect(loadConfig({ cwd: dir }).config.storage.database).toBeNull();
    expect(databaseTarget(loadConfig({ cwd: dir }).config, {})).toEqual({});
    const url = "postgres://mcr@db.internal:5432/mcr";
    expect(loadConfig({ env: { MCR_DATABASE: url }, cwd: dir }).config.storage.database).toBe(url);
    expect(problem({ file: file(`[storage]\ndatabase = "mysql://db/x"\n`) })).toContain("storage.database");
    expect(problem({ env: { MCR_DATABASE: "postgres://db.internal" } })).toContain("names no database");
    expect(problem({ env: { MCR_DATABASE: "not a url" } })).toContain("postgres:// URL");
  });

  test("the password comes from a file or PGPASSWORD, and never prints", () => {
    const secret = "pg-secret-password";
    const passwordFile = join(dir, "pgpass");
    writeFileSync(passwordFile, `${secret}\n`);
    const loaded = loadConfig({ file: file(`[storage]\ndatabase = "postgres://mcr:${secret}@db.internal/mcr"\n`), cwd: dir });
    expect(renderToml(loaded)).not.toContain(secret);
    expect(JSON.stringify(renderJson(loaded))).not.toContain(secret);
    expect(renderToml(loaded)).toContain(`database = "postgres://mcr:redacted@db.internal/mcr"`);
    const config = loadConfig({ env: { MCR_DATABASE: "postgres://mcr@db.internal/mcr" }, cwd: dir }).config;
    expect(databaseTarget(config, { MCR_DATABASE_PASSWORD_FILE: passwordFile, PGPASSWORD: "other" })).toEqual({ database: "postgres://mcr@db.internal/mcr", databasePassword: secret });
    expect(databaseTarget(config, { PGPASSWORD: "other" }).databasePassword).toBe("other");
    expect(() => databaseTarget(config, { MCR_DATABASE_PASSWORD_FILE: join(dir, "missing") })).toThrow("MCR_DATABASE_PASSWORD_FILE");
  });
});

describe("rendering", () => {
  test("TOML and JSON show every setting with its source and redact secrets", () => {
    const token = "s3cret-metrics-token-value";
    const loaded = loadConfig({ file: file(`[metrics]\ntoken = "${token}"\n`), env: { MCR_GC_GRACE: "2h" }, flags: { "server.listen": "127.0.0.1:1" }, cwd: dir });
    const toml = renderToml(loaded);
    expect(toml).not.toContain(token);
    expect(toml).toContain(`token = "${REDACTED}"  # from file`);
    expect(toml).toContain(`grace = "2h"  # from MCR_GC_GRACE`);
    expect(toml).toContain(`listen = "127.0.0.1:1"  # from --listen`);
    expect(toml).toContain("[server.tls]");
    // What it prints is itself a valid configuration file (secrets aside).
    const reparsed = Bun.TOML.parse(toml) as Record<string, Record<string, unknown>>;
    expect(reparsed.gc?.grace).toBe("2h");
    const json = renderJson(loaded);
    expect(JSON.stringify(json)).not.toContain(token);
    expect(json.sources["gc.grace"]).toBe("env");
    expect((json.config.auth as Record<string, unknown>).token_ttl).toBe("5m");
    expect(Object.keys(json.sources).sort()).toEqual(Object.keys(settings).sort());
  });

  test("docs/configuration.md documents every setting and its environment variable", async () => {
    const doc = await Bun.file(join(import.meta.dir, "../../../docs/configuration.md")).text();
    for (const [key, s] of Object.entries(settings)) {
      expect(doc).toContain(`\`${key}\``);
      expect(doc).toContain(s.env);
    }
  });
});
