/**
 * @module Terminal escape injection: strings clients send (a Basic auth user
 * name, an image config's os/architecture) reach `mcr audit tail` and `mcr repo
 * show` as visible escapes (`\x1b`), never as raw control bytes that move the
 * cursor or erase rows; `--json` keeps the exact value; an artifactType that
 * is not a media type is refused at push.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { AuditRecord } from "../../lib/audit/audit-events.ts";
import { safe, safeLines } from "../../cli/output.ts";
import { clientFor, digestOf, imageManifest, jsonBytes, OCI_LAYER, randomBytes, type Client } from "../conformance/client.ts";
import { cliOk, startCli } from "../support/cli.ts";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";

setDefaultTimeout(60_000);

/** What an attacker types as a user name: cursor up, erase line, then a right-to-left override. */
const EVIL_USER = "\u001b[1A\u001b[2Kmallory\u202e";
/** What an image config says its platform is: clear screen, and a C1 CSI. */
const EVIL_OS = "linux\u001b[2J";
const EVIL_ARCH = "amd64\u009b31m";
/** Raw bytes a terminal would act on. */
const RAW_CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

let server: ServerProcess;
let c: Client;

async function auditEvents(): Promise<AuditRecord[]> {
  const out = await cliOk(["audit", "tail", "--json", "-n", "100", "--data", server.dataDir]);
  return out.trimEnd().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as AuditRecord);
}

beforeAll(async () => {
  server = await startServerProcess();
  c = clientFor(server);
  const basic = `Basic ${Buffer.from(`${EVIL_USER}:wrong-password`).toString("base64")}`;
  expect((await fetch(`${server.url}/v2/`, { headers: { authorization: basic } })).status).toBe(401);

  const configBytes = jsonBytes({ architecture: EVIL_ARCH, os: EVIL_OS, rootfs: { type: "layers", diff_ids: [] } });
  const config = { mediaType: "application/vnd.oci.image.config.v1+json", digest: await c.pushBlob("esc/app", configBytes), size: configBytes.byteLength };
  const layerBytes = randomBytes(64);
  const layers = [{ mediaType: OCI_LAYER, digest: await c.pushBlob("esc/app", layerBytes), size: layerBytes.byteLength }];
  await c.pushManifest("esc/app", "v1", imageManifest({ config, layers }));
  // The audit log is written in batches: wait until the failed login is there.
  for (let i = 0; i < 100 && !(await auditEvents()).some((e) => e.event === "login" && e.outcome === "failure"); i++) await Bun.sleep(50);
});
afterAll(() => server.stop());

describe("a pushed artifactType must be a media type", () => {
  test("an artifactType or config.mediaType with control characters → 400 MANIFEST_INVALID", async () => {
    const configBytes = new TextEncoder().encode("{}");
    const config = { mediaType: "application/vnd.oci.empty.v1+json", digest: digestOf(configBytes), size: 2 };
    await c.pushBlob("esc/art", configBytes);
    for (const doc of [
      imageManifest({ config, layers: [], artifactType: "application/x\u001b[2K" }),
      imageManifest({ config: { ...config, mediaType: "application/x\u001b]0;pwned\u0007" }, layers: [] }),
    ]) {
      const res = await c.putManifest("esc/art", "v1", doc);
      expect(res.status).toBe(400);
      expect((res.json() as { errors: { code: string }[] }).errors[0]?.code).toBe("MANIFEST_INVALID");
    }
    const ok = await c.putManifest("esc/art", "v1", imageManifest({ config, layers: [], artifactType: "application/vnd.example.sbom.v1+json" }));
    expect(ok.status).toBe(201);
  });
});

describe("mcr audit tail", () => {
  test("the table shows the user name escaped: no raw control byte, `\\x1b` visible", async () => {
    const out = await cliOk(["audit", "tail", "-n", "100", "--data", server.dataDir]);
    expect(out).not.toMatch(RAW_CONTROLS);
    expect(out).toContain("user:\\x1b[1A\\x1b[2Kmallory\\u{202e}");
  });

  test("--json keeps the exact value", async () => {
    const login = (await auditEvents()).find((e) => e.event === "login" && e.outcome === "failure");
    expect(login?.actor).toBe(`user:${EVIL_USER}`);
  });

  test("-f on a pipe prints the follow lines escaped", async () => {
    const follow = startCli(["audit", "tail", "-f", "-n", "100", "--data", server.dataDir]);
    try {
      // The ACTOR column is 18 wide: the escaped name is cut there, after the first escape.
      const line = await follow.waitFor((text) => /\blogin\s+failure\b/.test(text), 15_000);
      expect(line.text).not.toMatch(RAW_CONTROLS);
      expect(line.text).toContain("\\x1b[1A");
    } finally {
      follow.proc.kill();
      await follow.proc.exited;
    }
  });
});

describe("mcr repo show", () => {
  test("the platform from a pushed config is shown escaped; --json keeps it exact", async () => {
    const out = await cliOk(["repo", "show", "esc/app", "--data", server.dataDir]);
    expect(out).not.toMatch(RAW_CONTROLS);
    expect(out).toContain("linux\\x1b[2J/amd64\\x9b31m");
    const json = JSON.parse(await cliOk(["repo", "show", "esc/app", "--json", "--data", server.dataDir])) as { tags: { platforms: string[] }[] };
    expect(json.tags[0]?.platforms).toEqual([`${EVIL_OS}/${EVIL_ARCH}`]);
  });
});

describe("safe", () => {
  test("C0, DEL, C1, line separators and bidi controls become visible escapes; other text is untouched", () => {
    expect(safe("a\u001bb\u0000c\u007fd\u0085e\u009bf\tg\r\n")).toBe("a\\x1bb\\x00c\\x7fd\\x85e\\x9bf\\x09g\\x0d\\x0a");
    expect(safe("\u2028\u2029\u202a\u202e\u2066\u2069\u200e\u061c")).toBe("\\u{2028}\\u{2029}\\u{202a}\\u{202e}\\u{2066}\\u{2069}\\u{200e}\\u{61c}");
    expect(safe("team/app:v1 é 日本 🐳 ‐")).toBe("team/app:v1 é 日本 🐳 ‐");
    expect(safeLines("line one\u001b[2K\nline two")).toBe("line one\\x1b[2K\nline two");
  });
});
