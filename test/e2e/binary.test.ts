/**
 * @module The compiled executable: `bun run build` output, run from a
 * directory with a hostile bunfig.toml and .env, serving with a TOML
 * configuration, and the main scenario against it: skopeo logs in, pushes
 * an image and pulls it back with every digest intact; admin commands of
 * the same binary work on the data directory while it serves.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { containerTool, requireTool } from "../support/container-tool.ts";
import { sha256, writeImageLayout, type ImageWritten } from "../support/oci-layout.ts";
import { metricValue } from "../support/prometheus.ts";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";
import { tempDir } from "../support/temp.ts";

// Real processes, and the whole suite may run on a loaded machine: more than the default 5 s.
setDefaultTimeout(120_000);

const FILE = "test/e2e/binary.test.ts";
const ROOT = join(import.meta.dir, "..", "..");
const SKOPEO = requireTool("skopeo", FILE);

const buildDir = tempDir("build-");
const bin = join(buildDir, "mcr");
/** A working directory full of things a `bun` would pick up and the binary must not. */
const hostile = tempDir("hostile-cwd-");

function run(args: string[], env: Record<string, string> = {}) {
  const r = Bun.spawnSync([bin, ...args], { cwd: hostile, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: hostile, ...env }, stdin: "ignore" });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

beforeAll(() => {
  const started = performance.now();
  const build = Bun.spawnSync([process.execPath, join(ROOT, "script", "build.ts"), bin], { cwd: ROOT });
  if (build.exitCode !== 0) throw new Error(`build failed:\n${build.stdout}${build.stderr}`);
  console.log(`built ${bin} in ${Math.round(performance.now() - started)} ms`);
  writeFileSync(join(hostile, ".env"), "MCR_LISTEN=not-an-address\nMCR_LOG_LEVEL=loud\n");
  writeFileSync(join(hostile, "bunfig.toml"), `preload = ["./evil.ts"]\n[run]\npreload = ["./evil.ts"]\n`);
  writeFileSync(join(hostile, "evil.ts"), `require("node:fs").writeFileSync(${JSON.stringify(join(hostile, "evil-ran"))}, "yes");\n`);
});

describe("the compiled binary", () => {
  test("is one self-contained executable that prints its version and commit", () => {
    const r = run(["version"]);
    expect(r.code).toBe(0);
    // What script/build.ts bakes in: the short commit, or "unknown" outside a git checkout.
    const commit = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], { cwd: ROOT }).stdout.toString().trim() || "unknown";
    expect(r.stdout).toBe(`mcr ${JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version} (commit ${commit}, bun ${Bun.version})\n`);
  });

  test("ignores bunfig.toml and .env in the directory it starts in", () => {
    const r = run(["config", "print", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.stdout) as { config: { server: { listen: string }; log: { level: string } } };
    expect(printed.config.server.listen).toBe("127.0.0.1:5000");
    expect(printed.config.log.level).toBe("info");
    expect(existsSync(join(hostile, "evil-ran"))).toBe(false);
  });

  describe.skipIf(!SKOPEO)("serving", () => {
    let server: ServerProcess;
    let layout: string;
    let image: ImageWritten;
    const dataDir = join(tempDir("bin-data-"), "data");

    beforeAll(async () => {
      const config = join(tempDir("bin-config-"), "mcr.toml");
      writeFileSync(config, `[server]\nlisten = "127.0.0.1:0"\n\n[storage]\ndata_dir = "${dataDir}"\n\n[log]\nformat = "text"\n`);
      server = await startServerProcess({ cmd: [bin], args: ["--config", config], dataDir });
      layout = tempDir("bin-layout-");
      image = writeImageLayout(layout, { tag: "v1", layers: 3 });
    });
    afterAll(() => server?.stop());

    test("skopeo logs in, pushes an image and pulls it back with every digest intact", async () => {
      expect(server.output()).toContain(`(data: ${dataDir})`);
      const skopeo = containerTool("skopeo", { registryHost: server.host, server });
      await skopeo.login(server.username, server.password);
      const remote = `docker://${server.host}/bin/app:v1`;
      await skopeo.run(["copy", "--dest-tls-verify=false", `oci:${layout}:v1`, remote]);
      expect(sha256(await skopeo.run(["inspect", "--raw", "--tls-verify=false", remote]))).toBe(image.manifestDigest);
      const out = tempDir("bin-out-");
      await skopeo.run(["copy", "--src-tls-verify=false", remote, `oci:${out}:v1`]);
      for (const digest of [image.configDigest, ...image.layerDigests]) {
        const hex = digest.slice("sha256:".length);
        expect(sha256(readFileSync(join(out, "blobs", "sha256", hex)))).toBe(digest);
      }
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(metricValue(metrics, "mcr_http_requests_total", { route: "v2/manifest", method: "PUT", status: "201" })).toBe(1);
    });

    test("admin commands of the same binary work on the data directory while it serves", () => {
      const add = Bun.spawnSync([bin, "user", "add", "ci", "--robot", "--data", dataDir], { cwd: hostile, stdin: "ignore" });
      expect(add.exitCode).toBe(0);
      expect(run(["user", "list", "--data", dataDir]).stdout).toMatch(/^ci\s+user\s+robot\s+enabled/m);
      const fsck = run(["fsck", "--data", dataDir]);
      expect(fsck.stdout).toContain("no corruption");
      expect(fsck.code).toBe(0);
    });
  });
});
