/**
 * @module HTTPS served by mcr itself: skopeo pushes and pulls through a
 * self-signed certificate it is told to trust (--dest-cert-dir), refuses it
 * otherwise, and SIGHUP swaps in a renewed certificate without a restart.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { requireTool } from "../support/container-tool.ts";
import { sha256, writeImageLayout, type ImageWritten } from "../support/oci-layout.ts";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";
import { tempDir } from "../support/temp.ts";
import { makeCertificate, presentedCommonName, requireOpenssl } from "../support/tls.ts";

// Real processes, and the whole suite may run on a loaded machine: more than the default 5 s.
setDefaultTimeout(120_000);

const FILE = "test/e2e/tls.test.ts";
const OPENSSL = requireOpenssl(FILE);
const SKOPEO = requireTool("skopeo", FILE);

describe.skipIf(!OPENSSL || !SKOPEO)("TLS", () => {
  const dir = tempDir("tls-");
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  const certDir = join(dir, "trusted");
  let server: ServerProcess;
  let image: ImageWritten;
  let layout: string;
  let port: number;

  /** skopeo with a private HOME, an accept-anything trust policy and no registries.conf marking anything insecure. */
  async function skopeo(args: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
    const home = join(dir, "home");
    mkdirSync(home, { recursive: true });
    writeFileSync(join(dir, "policy.json"), JSON.stringify({ default: [{ type: "insecureAcceptAnything" }] }));
    writeFileSync(join(dir, "registries.conf"), "unqualified-search-registries = []\n");
    const proc = Bun.spawn([SKOPEO!, "--policy", join(dir, "policy.json"), "--tmpdir", home, ...args], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, TMPDIR: home, XDG_RUNTIME_DIR: home, CONTAINERS_REGISTRIES_CONF: join(dir, "registries.conf") },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      timeout: 60_000,
    });
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { code, stdout, stderr };
  }

  beforeAll(async () => {
    makeCertificate(OPENSSL!, cert, key, "mcr-test-1");
    mkdirSync(certDir);
    // containers/image trusts the *.crt files of a --cert-dir as CAs.
    copyFileSync(cert, join(certDir, "ca.crt"));
    server = await startServerProcess({ args: ["--listen", "127.0.0.1:0", "--data", tempDir("tls-data-"), "--tls-cert", cert, "--tls-key", key] });
    port = Number(new URL(server.url).port);
    layout = tempDir("tls-layout-");
    image = writeImageLayout(layout, { tag: "v1", layers: 2 });
  });
  afterAll(() => server?.stop());

  test("the server announces and answers https", async () => {
    expect(server.url).toStartWith("https://127.0.0.1:");
    const res = await fetch(`${server.url}/v2/`, { headers: { Authorization: server.authHeader }, tls: { ca: readFileSync(cert, "utf8") } });
    expect(res.status).toBe(200);
    expect(await presentedCommonName("127.0.0.1", port)).toBe("mcr-test-1");
  });

  test("skopeo refuses the unknown certificate, then pushes and pulls trusting it with --cert-dir", async () => {
    const creds = `${server.username}:${server.password}`;
    const dest = `docker://${server.host}/tls/app:v1`;
    const untrusted = await skopeo(["copy", "--dest-creds", creds, `oci:${layout}:v1`, dest]);
    expect(untrusted.code).not.toBe(0);
    expect(untrusted.stderr).toMatch(/certificate|x509/i);

    const pushed = await skopeo(["copy", "--dest-cert-dir", certDir, "--dest-creds", creds, `oci:${layout}:v1`, dest]);
    expect(pushed.stderr + pushed.stdout).not.toContain("Error");
    expect(pushed.code).toBe(0);
    const raw = await skopeo(["inspect", "--raw", "--cert-dir", certDir, "--creds", creds, dest]);
    expect(raw.code).toBe(0);
    expect(sha256(raw.stdout)).toBe(image.manifestDigest);
    const out = tempDir("tls-out-");
    const pulled = await skopeo(["copy", "--src-cert-dir", certDir, "--src-creds", creds, dest, `oci:${out}:v1`]);
    expect(pulled.code).toBe(0);
  });

  test("SIGHUP reloads a renewed certificate; a broken one is refused and the current one kept", async () => {
    makeCertificate(OPENSSL!, cert, key, "mcr-test-2");
    process.kill(server.pid, "SIGHUP");
    const deadline = Date.now() + 5000;
    // A connection arriving at the instant the old listener closes may be reset: poll through that.
    const seen = () => presentedCommonName("127.0.0.1", port).catch(() => "");
    while ((await seen()) !== "mcr-test-2" && Date.now() < deadline) await Bun.sleep(50);
    expect(await seen()).toBe("mcr-test-2");
    expect(server.output()).toContain("TLS certificate reloaded");

    writeFileSync(key, "not a key");
    process.kill(server.pid, "SIGHUP");
    const until = Date.now() + 5000;
    while (!server.output().includes("keeping the current certificate") && Date.now() < until) await Bun.sleep(50);
    expect(server.output()).toContain("server.tls.key");
    expect(await presentedCommonName("127.0.0.1", port)).toBe("mcr-test-2");
    const res = await fetch(`${server.url}/v1/health`, { tls: { rejectUnauthorized: false } });
    expect(res.status).toBe(200);
  });
});
