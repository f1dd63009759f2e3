/**
 * @module No secret leaves where it belongs: passwords (right and wrong),
 * access, session and refresh tokens, registry JWTs and the signing key
 * appear in no log line, no error, no audit event and no response other
 * than the one that hands a new token out once; the database keeps only
 * hashes of them.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { sha256Digest } from "../../lib/oci/digest.ts";
import { basicAuth } from "../support/credentials.ts";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";

let server: ServerProcess;
const output: string[] = [];
/** Every response seen, except the ones whose job is to hand out one new secret. */
const transcript: string[] = [];
/** Responses that hand out a secret, with the one secret each may contain. */
const issued: { text: string; secret: string }[] = [];
const secrets = new Map<string, string>();

async function call(method: string, path: string, init: { auth?: string; body?: string; headers?: Record<string, string> } = {}, issues?: (body: string) => string): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.auth) headers.Authorization = init.auth;
  const res = await fetch(`${server.url}${path}`, { method, body: init.body, headers });
  const text = `${res.status} ${[...res.headers].map(([k, v]) => `${k}: ${v}`).join("\n")}\n${await res.text()}`;
  if (issues && res.status < 300) issued.push({ text, secret: issues(text.slice(text.indexOf("\n{"))) });
  else transcript.push(text);
  return { status: res.status, text };
}

const json = (value: unknown) => ({ body: JSON.stringify(value), headers: { "Content-Type": "application/json" } });
const field = (name: string) => (body: string) => (JSON.parse(body.trim()) as Record<string, string>)[name]!;

beforeAll(async () => {
  server = await startServerProcess({ onLine: (line) => output.push(line) });
  const admin = server.authHeader;
  secrets.set("admin password", server.password);
  secrets.set("alice's password", "alice-first-password-77");
  secrets.set("alice's new password", "alice-second-password-88");
  secrets.set("a wrong password", "almost-the-admin-password-99");

  await call("POST", "/v1/users", { auth: admin, ...json({ name: "alice", password: secrets.get("alice's password") }) });
  await call("PATCH", "/v1/users/alice", { auth: admin, ...json({ password: secrets.get("alice's new password") }) });
  const alice = basicAuth("alice", secrets.get("alice's new password")!);
  const created = await call("POST", "/v1/tokens", { auth: admin, ...json({ user: "alice", name: "ci" }) }, field("token"));
  const token = field("token")(created.text.slice(created.text.indexOf("\n{")));
  secrets.set("alice's access token", token);
  const session = await call("POST", "/v1/auth/login", json({ username: "admin", password: server.password }), field("token"));
  secrets.set("an admin session", field("token")(session.text.slice(session.text.indexOf("\n{"))));
  const jwt = await call("GET", "/v2/token?service=x&scope=repository:sec/app:pull,push", { auth: alice }, field("token"));
  secrets.set("a registry JWT", field("token")(jwt.text.slice(jwt.text.indexOf("\n{"))));
  const form = `grant_type=password&username=alice&password=${secrets.get("alice's new password")}&access_type=offline&scope=repository:sec/app:pull`;
  const refresh = await call("POST", "/v2/token", { body: form, headers: { "Content-Type": "application/x-www-form-urlencoded" } }, field("refresh_token"));
  secrets.set("a refresh token", field("refresh_token")(refresh.text.slice(refresh.text.indexOf("\n{"))));
  const pem = readFileSync(join(server.dataDir, "signing-key.pem"), "utf8");
  secrets.set("the signing key", pem.split("\n")[1]!);

  // Use every secret, rightly and wrongly, everywhere it can go.
  const blob = "secret scan";
  await call("POST", `/v2/sec/app/blobs/uploads/?digest=${sha256Digest(blob)}`, { auth: `Bearer ${secrets.get("a registry JWT")}`, body: blob });
  await call("GET", "/v2/sec/app/tags/list", { auth: basicAuth("alice", token) });
  await call("GET", "/v2/sec/app/tags/list", { auth: `Bearer ${token}` });
  await call("GET", "/v2/", { auth: basicAuth("admin", secrets.get("a wrong password")!) });
  await call("GET", "/v2/", { auth: basicAuth("nobody", secrets.get("a wrong password")!) });
  await call("POST", "/v1/auth/login", json({ username: "admin", password: secrets.get("a wrong password") }));
  await call("POST", "/v2/token", { body: `grant_type=password&username=alice&password=${secrets.get("a wrong password")}`, headers: { "Content-Type": "application/x-www-form-urlencoded" } });
  await call("GET", `/v2/token?scope=repository:sec/app:pull&password=${secrets.get("a wrong password")}`, { auth: alice });
  // The refresh grant hands back a new JWT and the refresh token it was given (OAuth2 allows either).
  await call("POST", "/v2/token", { body: `grant_type=refresh_token&refresh_token=${secrets.get("a refresh token")}&scope=repository:sec/app:pull`, headers: { "Content-Type": "application/x-www-form-urlencoded" } }, field("refresh_token"));
  await call("GET", "/v1/users", { auth: `Bearer ${secrets.get("an admin session")}` });
  await call("GET", "/v1/tokens", { auth: admin });
  await call("GET", "/v1/users/alice", { auth: admin });
  await call("POST", "/v1/auth/logout", { auth: `Bearer ${secrets.get("an admin session")}` });
  await call("GET", "/v1/users", { auth: `Bearer ${secrets.get("an admin session")}` });
  const id = token.split("_")[1]!;
  await call("DELETE", `/v1/tokens/${id}`, { auth: admin });
  await call("GET", "/v2/sec/app/tags/list", { auth: `Bearer ${token}` });
  await call("GET", "/v2/sec/app/tags/list", { auth: `Bearer ${token.slice(0, -3)}abc` });
  await call("GET", "/v2/sec/app/tags/list", { auth: `Bearer ${secrets.get("a registry JWT")}x` });
  await Bun.sleep(100);
}, 60_000);

afterAll(() => server.stop());

function leaks(where: string, text: string): string[] {
  return [...secrets].filter(([, value]) => text.includes(value)).map(([name]) => `${name} in ${where}`);
}

describe("secrets", () => {
  test("appear in no log line", () => {
    expect(output.length).toBeGreaterThan(10);
    expect(leaks("the server's output", output.join("\n"))).toEqual([]);
  });

  test("appear in no response, and a response that hands one out holds only that one", () => {
    expect(transcript.flatMap((text, i) => leaks(`response #${i}`, text))).toEqual([]);
    for (const { text, secret } of issued) {
      const others = [...secrets].filter(([, value]) => value !== secret && !secret.includes(value));
      expect(others.filter(([, value]) => text.includes(value)).map(([name]) => name)).toEqual([]);
    }
  });

  test("appear in no audit event", async () => {
    await server.stop();
    const db = new Database(join(server.dataDir, "mcr.db"), { readonly: true });
    const events = db.query("select * from audit_events").all();
    db.close();
    expect(events.length).toBeGreaterThan(5);
    expect(leaks("the audit log", JSON.stringify(events))).toEqual([]);
  });

  test("are stored nowhere in the data directory but as hashes (the signing key apart)", () => {
    const files = readdirSync(server.dataDir).filter((f) => f.startsWith("mcr.db"));
    for (const file of files) {
      const bytes = readFileSync(join(server.dataDir, file)).toString("latin1");
      expect(leaks(file, bytes).filter((l) => !l.startsWith("the signing key"))).toEqual([]);
    }
  });
});
