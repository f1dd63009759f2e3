/**
 * @module `bun bench/micro-requests.ts`: the main thread's CPU cost of one
 * small request (HEAD blob, GET manifest, GET tags list), auth on (Bearer
 * token of a normal user) and off (anonymous allowed by a policy rule),
 * measured in process on the server's own fetch handler, wrapped as `mcr
 * serve` wraps it (request ids, metrics, one log line per request, written
 * to /dev/null). It counts the
 * thread's CPU time (schedstat), so it stays readable on a busy machine,
 * where wall-clock request rates do not.
 */
import { mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Authenticator } from "../lib/auth/authenticator.ts";
import { ephemeralSigningKey } from "../lib/auth/signing-key.ts";
import { addUser, ensureAdmin } from "../lib/auth/users.ts";
import { applyPolicy } from "../lib/policy/store.ts";
import { openRegistry } from "../lib/registry/registry.ts";
import { createApp } from "../server/app.ts";
import { createLogger } from "../server/observability/logger.ts";
import { observe } from "../server/observability/observe.ts";
import { ServerMetrics } from "../server/observability/server-metrics.ts";
import { ACCEPT_MANIFESTS, makeImage } from "./lib/client.ts";

const ROUNDS = Number(process.argv[2] ?? 3);
const N = Number(process.argv[3] ?? 3000);

const threadCpu = () => Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, "utf8").split(" ")[0]) / 1e9;

const dir = mkdtempSync(join(tmpdir(), "mcr-micro-"));
const reg = await openRegistry(dir);
await ensureAdmin(reg, "micro-admin-password");
await addUser(reg, { name: "bench", role: "user", kind: "human", password: "bench-password" }, "bench");
const rules = await reg.policy.rules();
await applyPolicy(
  reg,
  [...rules, { id: "anon", priority: 0, effect: "allow", subjects: ["anonymous"], actions: ["pull", "push", "delete", "overwrite", "catalog"], repositories: ["**"], enabled: true, description: "" }],
  "bench",
);
const auth = new Authenticator(reg, ephemeralSigningKey(), { tokenTtlSeconds: 300 });
const devNull = openSync("/dev/null", "w");
const logger = createLogger({ write: (line) => writeSync(devNull, `${line}\n`) });
const app = observe(createApp(reg, { auth }), { reg, logger, metrics: new ServerMetrics(reg, { version: "micro", commit: "micro" }), metricsToken: null });
const connection = { requestIP: () => ({ address: "127.0.0.1" }) };
const send = (method: string, path: string, headers: Record<string, string> = {}, body?: string | Uint8Array) =>
  app.fetch(new Request(`http://registry.test${path}`, { method, headers, body }), connection);

const repo = "bench/requests";
const image = makeImage("micro", 3, 16 * 1024);
for (const blob of image.blobs) {
  const res = await send("POST", `/v2/${repo}/blobs/uploads/?digest=${blob.digest}`, {}, blob.bytes);
  if (res.status !== 201) throw new Error(`push: ${res.status} ${await res.text()}`);
}
await send("PUT", `/v2/${repo}/manifests/latest`, { "Content-Type": "application/vnd.oci.image.manifest.v1+json" }, image.manifest);
const tokenRes = await send("GET", `/v2/token?service=registry.test&scope=repository:${repo}:pull`, {
  Authorization: `Basic ${Buffer.from("bench:bench-password").toString("base64")}`,
});
const { token } = (await tokenRes.json()) as { token: string };

const kinds = [
  ["HEAD blob", "HEAD", `/v2/${repo}/blobs/${image.blobs[1]!.digest}`, {}],
  ["GET manifest", "GET", `/v2/${repo}/manifests/latest`, { Accept: ACCEPT_MANIFESTS }],
  ["GET tags list", "GET", `/v2/${repo}/tags/list`, {}],
] as const;

const results = new Map<string, number[]>();
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, method, path, headers] of kinds) {
    for (const mode of ["off", "on"] as const) {
      const h: Record<string, string> = { ...headers, ...(mode === "on" ? { Authorization: `Bearer ${token}` } : {}) };
      const before = threadCpu();
      for (let i = 0; i < N; i++) {
        const res = await send(method, path, h);
        if (res.status !== 200) throw new Error(`${name}: ${res.status} ${await res.text()}`);
        await res.arrayBuffer();
      }
      const us = ((threadCpu() - before) / N) * 1e6;
      const key = `${name}, auth ${mode}`;
      results.set(key, [...(results.get(key) ?? []), us]);
    }
  }
}
for (const [key, runs] of results) {
  const sorted = [...runs].sort((a, b) => a - b);
  console.log(`${key.padEnd(24)} ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1).padStart(7)} µs/request (runs: ${runs.map((r) => r.toFixed(0)).join(", ")})`);
}
await reg.close();
rmSync(dir, { recursive: true, force: true });
