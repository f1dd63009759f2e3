/**
 * @module `mcr audit tail` as a child process: the table, NDJSON, filters
 * and usage errors, and `-f` following what a separate `mcr serve`
 * process writes, each event within a second.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { AuditRecord } from "../../lib/audit/audit-events.ts";
import { openRegistry } from "../../lib/registry/registry.ts";
import { cliOk, runCli, startCli } from "../support/cli.ts";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";
import { tempDir } from "../support/temp.ts";

// These tests start processes or build large fixtures; a loaded machine needs more than 5 s (bunfig.toml's timeout is not applied).
setDefaultTimeout(60_000);

describe("mcr audit tail", () => {
  const data = tempDir("cli-audit-");
  const d = ["--data", data];

  beforeAll(async () => {
    const reg = await openRegistry(data);
    let clock = Date.parse("2026-11-01T10:00:00Z");
    reg.now = () => clock;
    for (let i = 0; i < 30; i++) {
      const repo = i % 3 === 0 ? "team/web" : "team/db";
      reg.audit.record({ event: i % 2 ? "manifest.pulled" : "manifest.pushed", actor: i % 5 ? "user:alice" : "robot:ci", outcome: "success", source: "10.1.2.3", repository: repo, tag: `v${i}`, digest: `sha256:${String(i).padStart(64, "0")}` });
      clock += 60_000;
    }
    reg.audit.record({ event: "login", actor: "user:mallory", outcome: "failure", source: "203.0.113.9" });
    await reg.close();
  });

  test("the last 20 events as a table, oldest first", async () => {
    const out = await cliOk(["audit", "tail", ...d]);
    const lines = out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^TIME\s+EVENT\s+OUTCOME\s+ACTOR\s+SOURCE\s+REPOSITORY\s+REFERENCE\s+DETAIL$/);
    expect(lines).toHaveLength(21);
    expect(lines[1]).toMatch(/^2026-11-01 10:11:00\s+manifest\.pulled\s+success\s+user:alice\s+10\.1\.2\.3\s+team\/db\s+v11@sha256:000000000000$/);
    expect(lines[20]).toMatch(/^2026-11-01 10:30:00\s+login\s+failure\s+user:mallory\s+203\.0\.113\.9\s+-\s+-$/);
  });

  test("--json: one event per line; -n and filters narrow it", async () => {
    const out = await cliOk(["audit", "tail", "--json", "-n", "3", "--repo", "team/web", "--event", "manifest.*", ...d]);
    const events = out.trimEnd().split("\n").map((l) => JSON.parse(l) as AuditRecord);
    expect(events.map((e) => e.tag)).toEqual(["v21", "v24", "v27"]);
    expect(events[0]).toMatchObject({ event: "manifest.pulled", repository: "team/web", actor: "user:alice", time: "2026-11-01T10:21:00.000Z" });
    const ci = (await cliOk(["audit", "tail", "--json", "--actor", "ci", ...d])).trimEnd().split("\n");
    expect(ci.map((l) => (JSON.parse(l) as AuditRecord).tag)).toEqual(["v0", "v5", "v10", "v15", "v20", "v25"]);
    expect(await cliOk(["audit", "tail", "--json", "--event", "nothing.like.this", ...d])).toBe("");
  });

  test("--since without -n prints every event since then", async () => {
    const out = await cliOk(["audit", "tail", "--json", "--since", "2026-11-01T10:05:00Z", ...d]);
    expect(out.trimEnd().split("\n")).toHaveLength(26);
    const limited = await cliOk(["audit", "tail", "--json", "--since", "2026-11-01T10:05:00Z", "-n", "2", ...d]);
    expect(limited.trimEnd().split("\n")).toHaveLength(2);
  });

  test("bad -n or --since is a usage error (2)", async () => {
    for (const args of [["-n", "x"], ["--since", "last tuesday"], ["--repo", ""], ["--bogus"]]) {
      const r = await runCli(["audit", "tail", ...args, ...d]);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).not.toBe("");
    }
  });
});

describe("mcr audit tail -f against a running server", () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServerProcess();
  });
  afterAll(() => server.stop());

  /** `mcr audit tail -f ARGS` on the server's data directory. */
  const follow = (args: string[]) => startCli(["audit", "tail", "-f", ...args, "--data", server.dataDir]);

  /** Pushes a one-blob image over HTTP to the server process; returns when (performance.now()) the manifest PUT was answered. */
  async function pushOver(repo: string, tag: string): Promise<number> {
    const config = new TextEncoder().encode(JSON.stringify({ tag }));
    const digest = `sha256:${new Bun.CryptoHasher("sha256").update(config).digest("hex")}`;
    const headers = { authorization: server.authHeader };
    expect((await fetch(`${server.url}/v2/${repo}/blobs/uploads/?digest=${digest}`, { method: "POST", body: config, headers })).status).toBe(201);
    const manifest = { schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: { mediaType: "application/vnd.oci.image.config.v1+json", digest, size: config.byteLength }, layers: [] };
    const res = await fetch(`${server.url}/v2/${repo}/manifests/${tag}`, { method: "PUT", body: JSON.stringify(manifest), headers: { ...headers, "content-type": manifest.mediaType } });
    expect(res.status).toBe(201);
    return performance.now();
  }

  test("--json sees each event the server writes within a second, one flushed line each", async () => {
    const tail = follow(["--json", "-n", "1", "--event", "manifest.pushed"]);
    try {
      // Nothing matches yet; give the follower time to start before the first push.
      await Bun.sleep(1500);
      for (const tag of ["one", "two", "three"]) {
        const pushed = await pushOver("live/app", tag);
        const line = await tail.waitFor((t) => t.includes(`"tag":"${tag}"`), 1000);
        const event = JSON.parse(line.text) as AuditRecord;
        expect(event).toMatchObject({ event: "manifest.pushed", actor: "user:admin", source: "127.0.0.1", repository: "live/app", tag });
        console.log(`audit tail -f --json: ${tag} printed ${(line.at - pushed).toFixed(0)} ms after the server answered its push`);
        expect(line.at - pushed).toBeLessThan(1000);
      }
      expect(tail.lines.map((l) => (JSON.parse(l.text) as AuditRecord).tag)).toEqual(["one", "two", "three"]);
    } finally {
      tail.proc.kill("SIGINT");
      expect(await tail.proc.exited).toBe(0);
    }
  });

  test("without --json and without a terminal: a header, then fixed-width lines as events come", async () => {
    const tail = follow(["-n", "0", "--repo", "plain/*"]);
    try {
      await tail.waitFor((t) => t.startsWith("TIME"), 10_000);
      await pushOver("plain/app", "latest");
      const line = await tail.waitFor((t) => t.includes("manifest.pushed"), 1000);
      expect(line.text).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}  manifest\.pushed\s+success  user:admin\s+127\.0\.0\.1\s+plain\/app\s+latest@sha256:[0-9a-f]{12}\s+mediaType=/);
    } finally {
      tail.proc.kill("SIGTERM");
      expect(await tail.proc.exited).toBe(0);
    }
  });
});
