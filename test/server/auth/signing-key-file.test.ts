/**
 * @module auth.signing_key_file: replicas with data directories of their
 * own read one key file, so a registry token one issued works on the
 * other; a key file group or others can read, a missing one, or one that
 * is no key stops the start (and `mcr config check`) with a message
 * naming the setting; `mcr auth keygen` creates it 0600 and never
 * replaces it, even when several run at once.
 */
import { afterAll, expect, test } from "bun:test";
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startServer, type RunningServer } from "../../../server/serve.ts";
import { runCli } from "../../support/cli.ts";
import { tempDir } from "../../support/temp.ts";

const dir = tempDir("sigkey-file-");
const keyFile = join(dir, "shared-signing-key.pem");
const running: RunningServer[] = [];
afterAll(async () => {
  for (const s of running) await s.stop();
});

const basic = `Basic ${btoa("admin:correct horse battery")}`;
const serve = async (dataDir: string, signingKeyFile: string | null) => {
  // One public URL, as behind a load balancer: the token's audience is the same for both.
  const server = await startServer({ hostname: "127.0.0.1", port: 0, dataDir, adminPassword: "correct horse battery", baseUrl: "http://registry.test", signingKeyFile });
  running.push(server);
  return server;
};
const issue = async (s: RunningServer) => {
  const res = await fetch(`${s.url}/v2/token?service=registry.test`, { headers: { Authorization: basic } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { token: string }).token;
};
const withToken = (s: RunningServer, token: string) => fetch(`${s.url}/v2/`, { headers: { Authorization: `Bearer ${token}` } }).then((r) => r.status);

test("mcr auth keygen creates the file 0600, and refuses to replace it", async () => {
  const made = await runCli(["auth", "keygen", keyFile]);
  expect(made.code).toBe(0);
  expect(made.stdout).toContain("created signing key");
  expect(statSync(keyFile).mode & 0o777).toBe(0o600);
  const before = readFileSync(keyFile, "utf8");
  const again = await runCli(["auth", "keygen", keyFile]);
  expect(again.code).not.toBe(0);
  expect(again.stderr).toContain("already exists");
  expect(readFileSync(keyFile, "utf8")).toBe(before);
});

test("three keygens at once leave one key: two never make two different ones", async () => {
  const file = join(dir, "raced.pem");
  const results = await Promise.all([0, 1, 2].map(() => runCli(["auth", "keygen", "--json", file])));
  const won = results.filter((r) => r.code === 0);
  expect(won.length).toBe(1);
  const kid = (JSON.parse(won[0]!.stdout) as { kid: string }).kid;
  const check = await runCli(["config", "check", writeConfig("raced.toml", file)]);
  expect(check.code).toBe(0);
  expect(kid).toMatch(/^[\w-]{16}$/);
});

test("two servers with data directories of their own and one key file accept each other's tokens", async () => {
  const [a, b] = [await serve(tempDir("sigkey-a-"), keyFile), await serve(tempDir("sigkey-b-"), keyFile)];
  expect(await withToken(b, await issue(a))).toBe(200);
  expect(await withToken(a, await issue(b))).toBe(200);
});

test("without the setting each data directory makes its own key, and the other server refuses the token (the bug the setting fixes)", async () => {
  const [a, b] = [await serve(tempDir("sigkey-c-"), null), await serve(tempDir("sigkey-d-"), null)];
  expect(await withToken(b, await issue(a))).toBe(401);
});

test("a key file group or others can read stops the start, and the file is left as it was", async () => {
  const loose = join(dir, "loose.pem");
  writeFileSync(loose, readFileSync(keyFile));
  chmodSync(loose, 0o640);
  await expect(serve(tempDir("sigkey-e-"), loose)).rejects.toThrow(/auth\.signing_key_file: .*loose\.pem.*mode 640.*chmod 600/);
  expect(statSync(loose).mode & 0o777).toBe(0o640);
  const check = await runCli(["config", "check", writeConfig("loose.toml", loose)]);
  expect(check.code).not.toBe(0);
  expect(check.stderr).toContain("chmod 600");
});

test("a missing key file stops the start saying how to create it, and creates nothing", async () => {
  const missing = join(dir, "missing.pem");
  await expect(serve(tempDir("sigkey-f-"), missing)).rejects.toThrow(/does not exist; create it once with: mcr auth keygen .*missing\.pem/);
  expect(existsSync(missing)).toBe(false);
  const check = await runCli(["config", "check", writeConfig("missing.toml", missing)]);
  expect(check.code).not.toBe(0);
  expect(check.stderr).toContain("mcr auth keygen");
});

test("a file that is not a key stops the start", async () => {
  const junk = join(dir, "junk.pem");
  writeFileSync(junk, "not a key\n", { mode: 0o600 });
  await expect(serve(tempDir("sigkey-g-"), junk)).rejects.toThrow(/is not a PEM private key/);
});

test("MCR_AUTH_SIGNING_KEY_FILE reaches mcr serve", async () => {
  const loose = join(dir, "loose.pem");
  const result = await runCli(["serve", "--listen", "127.0.0.1:0", "--data", tempDir("sigkey-h-")], { env: { MCR_AUTH_SIGNING_KEY_FILE: loose } });
  expect(result.code).not.toBe(0);
  expect(result.stderr).toContain("auth.signing_key_file");
});

function writeConfig(name: string, keyPath: string): string {
  const file = join(dir, name);
  writeFileSync(file, `[storage]\ndata_dir = ${JSON.stringify(join(dir, "data"))}\n\n[auth]\nsigning_key_file = ${JSON.stringify(keyPath)}\n`);
  return file;
}
