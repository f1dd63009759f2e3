/**
 * @module `[[upstream]]` entries: parsed with their defaults, every mistake
 * named with its entry and key (all at once, as `mcr config check` shows
 * them), passwords from a file or the environment and never printed.
 */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../../lib/config/load.ts";
import { renderJson, renderToml } from "../../../lib/config/render.ts";
import { RegistryError } from "../../../lib/errors.ts";
import { upstreamKeys } from "../../../lib/mirror/upstream-config.ts";
import { runCli } from "../../support/cli.ts";
import { tempDir } from "../../support/temp.ts";

const dir = tempDir("upstream-config-");
let n = 0;
function file(text: string): string {
  const path = join(dir, `u${n++}.toml`);
  writeFileSync(path, text);
  return path;
}

function problems(text: string, env: Record<string, string> = {}): string {
  try {
    loadConfig({ file: file(text), env, cwd: dir });
  } catch (error) {
    expect((error as RegistryError).code).toBe("INVALID_ARGUMENT");
    return (error as Error).message;
  }
  throw new Error("accepted");
}

describe("[[upstream]]", () => {
  test("entries with defaults; password from a file or the environment", () => {
    writeFileSync(join(dir, "hub-password"), "s3cret-from-file\n");
    const { config } = loadConfig({
      file: file(`
[[upstream]]
name = "docker.io"
url = "https://registry-1.docker.io/"
default = true

[[upstream]]
name = "ghcr.io"
url = "https://ghcr.io"
username = "bot"
password_file = "hub-password"
tag_ttl = "1m"
not_found_ttl = "0s"
timeout = "10s"
max_concurrent = 2

[[upstream]]
name = "quay.io"
url = "https://quay.io"
username = "robot"
password_env = "QUAY_PASSWORD"
`),
      env: { QUAY_PASSWORD: "s3cret-from-env" },
      cwd: dir,
    });
    expect(config.upstreams).toEqual([
      { name: "docker.io", url: "https://registry-1.docker.io", username: null, password: null, tagTtlMs: 300_000, notFoundTtlMs: 30_000, timeoutMs: 30_000, maxConcurrent: 8, tlsCa: null, isDefault: true },
      { name: "ghcr.io", url: "https://ghcr.io", username: "bot", password: "s3cret-from-file", tagTtlMs: 60_000, notFoundTtlMs: 0, timeoutMs: 10_000, maxConcurrent: 2, tlsCa: null, isDefault: false },
      { name: "quay.io", url: "https://quay.io", username: "robot", password: "s3cret-from-env", tagTtlMs: 300_000, notFoundTtlMs: 30_000, timeoutMs: 30_000, maxConcurrent: 8, tlsCa: null, isDefault: false },
    ]);
    const loaded = loadConfig({ file: file(`[[upstream]]\nname = "ghcr.io"\nurl = "https://ghcr.io"\nusername = "bot"\npassword = "inline-secret"\n`), env: {}, cwd: dir });
    const toml = renderToml(loaded);
    expect(toml).toContain("[[upstream]]");
    expect(toml).toContain('name = "ghcr.io"');
    expect(toml).not.toContain("inline-secret");
    expect(JSON.stringify(renderJson(loaded))).not.toContain("inline-secret");
  });

  test("every mistake is named with its entry and key, all at once", () => {
    const message = problems(`
[[upstream]]
name = "Docker.IO"
url = "ftp://example.com"
tag_ttl = "soon"
colour = "blue"

[[upstream]]
url = "https://user:pw@example.com"
max_concurrent = 0

[[upstream]]
name = "a"
url = "https://a.example"
password = "x"
password_env = "NOPE"

[[upstream]]
name = "a/b"
url = "https://b.example"
default = true

[[upstream]]
name = "c"
url = "https://c.example"
default = true
tls_ca = "missing.pem"
`);
    for (const expected of [
      'upstream[0].name: "Docker.IO" is not a repository name prefix',
      "upstream[0].url: must be an http:// or https:// URL",
      'upstream[0].tag_ttl: invalid duration "soon"',
      "upstream[0].colour: unknown key",
      "upstream[1].name: is required",
      "upstream[1].url: must not carry credentials",
      "upstream[1].max_concurrent: must be an integer from 1 to 1000",
      "upstream[2].password: set only one of password, password_file and password_env",
      "upstream[2].password_env: environment variable NOPE is not set",
      'upstream[3].name: "a/b" overlaps upstream "a"',
      "upstream.default: at most one upstream may be the default",
      "upstream[4].tls_ca: cannot read",
    ]) {
      expect(message).toContain(expected);
    }
    expect(problems(`[upstream]\nname = "x"\nurl = "https://x"\n`)).toContain("upstream: must be an array of tables: write each entry as [[upstream]]");
    writeFileSync(join(dir, "not.pem"), "hello");
    expect(problems(`[[upstream]]\nname = "x"\nurl = "https://x"\ntls_ca = "not.pem"\n`)).toContain("upstream[0].tls_ca: is not a PEM certificate bundle");
    expect(problems(`[[upstream]]\nname = "x"\nurl = "https://x"\nusername = "u"\n`)).toContain("upstream[0].username: username and a password must be set together");
    expect(problems(`[[upstream]]\nname = "x"\nurl = "https://x"\nnot_found_ttl = "2h"\n`)).toContain('upstream[0].not_found_ttl: "2h" is out of range: between 0s and 1h');
  });

  test("docs/configuration.md documents every key of an upstream", async () => {
    const doc = await Bun.file(join(import.meta.dir, "../../../docs/configuration.md")).text();
    for (const key of upstreamKeys) expect(doc).toContain(`\`${key}\``);
  });
});

describe("mcr config check", () => {
  test("names a bad upstream entry and exits 2; a good file is ok", async () => {
    const bad = await runCli(["config", "check", file(`[[upstream]]\nname = "docker.io"\nurl = "registry-1.docker.io"\n`)]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('upstream[0].url: "registry-1.docker.io" is not a URL');
    const good = await runCli(["config", "check", file(`[[upstream]]\nname = "docker.io"\nurl = "https://registry-1.docker.io"\n`)]);
    expect(good.code).toBe(0);
  });
});
