/**
 * @module Hostile-input fuzzing of a real `mcr serve`: thousands of seeded
 * malformed requests against every route, then the invariants: no 5xx, no
 * hang, errors in the API's format, no crash, no file written outside the
 * data directory, memory bounded, and the server still serving correctly.
 * `FUZZ_SEED`, `FUZZ_CASES` and `FUZZ_ONLY` replay or widen a run.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { dirname } from "node:path";
import { sha256Digest } from "../../lib/oci/digest.ts";
import { seedFrom } from "../support/random.ts";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";
import { categories, fuzzCase, type Fixture } from "./cases.ts";
import { describeViolation, runCases } from "./runner.ts";
import { changes, layoutViolations, sandbox, snapshot, type Sandbox } from "./sandbox.ts";

const SEED = seedFrom("FUZZ_SEED");
const CASES = Number(process.env.FUZZ_CASES ?? 3000);
const ONLY = process.env.FUZZ_ONLY ? process.env.FUZZ_ONLY.split(",").map(Number) : null;
const CONCURRENCY = 8;
/** Peak resident memory allowed to the server over the whole run. */
const PEAK_RSS_LIMIT = 512 * 1024 * 1024;

let sb: Sandbox;
let server: ServerProcess;
let fx: Fixture;
let before: { sandbox: Map<string, number>; neighbours: string[] };

async function call(method: string, path: string, auth: string, body?: Uint8Array | string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server.url}${path}`, { method, body, headers: { Authorization: auth, ...headers } });
}

/** Pushes a small image as `repo:tag` and returns the pieces the cases refer to. */
async function pushFixture(auth: string, repo: string, tag: string): Promise<Omit<Fixture, "sessions" | "auth" | "repo" | "tag">> {
  const push = async (bytes: Uint8Array | string) => {
    const digest = sha256Digest(bytes);
    const res = await call("POST", `/v2/${repo}/blobs/uploads/?digest=${digest}`, auth, bytes);
    if (res.status !== 201) throw new Error(`fixture blob: ${res.status} ${await res.text()}`);
    return { digest, size: typeof bytes === "string" ? new TextEncoder().encode(bytes).byteLength : bytes.byteLength };
  };
  const config = { mediaType: "application/vnd.oci.image.config.v1+json", ...(await push(`{"architecture":"amd64","os":"linux","seed":${SEED}}`)) };
  const layers = [
    { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...(await push(crypto.getRandomValues(new Uint8Array(3000)))) },
    { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...(await push(`layer of ${repo}`)) },
  ];
  const manifest = JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config, layers });
  const res = await call("PUT", `/v2/${repo}/manifests/${tag}`, auth, manifest, { "Content-Type": "application/vnd.oci.image.manifest.v1+json" });
  if (res.status !== 201) throw new Error(`fixture manifest: ${res.status} ${await res.text()}`);
  return { config, layers, manifestDigest: sha256Digest(manifest), manifestSize: manifest.length };
}

beforeAll(async () => {
  sb = sandbox();
  before = { sandbox: snapshot(sb.root, [sb.data]), neighbours: readdirSync(dirname(sb.root)) };
  server = await startServerProcess({ dataDir: sb.data, cwd: sb.cwd });
  const tokenRes = await call("POST", "/v1/tokens", server.authHeader, JSON.stringify({ user: "admin", name: "fuzz" }), { "Content-Type": "application/json" });
  const auth = `Bearer ${((await tokenRes.json()) as { token: string }).token}`;
  const parts = await pushFixture(auth, "fuzz/app", "v1");
  const sessions: string[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await call("POST", "/v2/fuzz/app/blobs/uploads/", auth);
    sessions.push(res.headers.get("docker-upload-uuid")!);
  }
  fx = { ...parts, repo: "fuzz/app", tag: "v1", sessions, auth };
}, 60_000);

afterAll(() => server.stop());

describe("hostile input", () => {
  test(`${ONLY ? ONLY.length : CASES} seeded malformed requests: no 5xx, no hang, errors in the API's format`, async () => {
    const started = performance.now();
    const indices = ONLY ?? Array.from({ length: CASES }, (_, i) => i);
    const { violations, statuses } = await runCases((i) => fuzzCase(SEED, i, fx), indices, CONCURRENCY, "127.0.0.1", Number(new URL(server.url).port));
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const histogram = [...statuses].sort(([a], [b]) => (a ?? 0) - (b ?? 0)).map(([s, n]) => `${s ?? "none"}×${n}`).join(" ");
    const peak = (server.peakRssBytes() / 2 ** 20).toFixed(0);
    console.log(`fuzz: seed ${SEED}, ${indices.length} cases in ${seconds} s over ${categories.length} categories, server peak RSS ${peak} MiB; answers ${histogram}`);
    if (violations.length > 0) {
      console.error(`fuzz: ${violations.length} case(s) broke an invariant (seed ${SEED}):\n${violations.slice(0, 25).map((v) => describeViolation(v, SEED)).join("\n")}`);
    }
    expect(violations.map((v) => `#${v.fuzzCase.index} ${v.fuzzCase.label}: ${v.problems.join("; ")}`)).toEqual([]);
  }, 240_000);

  test("the server is still up, logged no internal error, and kept its memory bounded", () => {
    expect(() => process.kill(server.pid, 0)).not.toThrow();
    const output = server.output();
    expect(output).not.toContain("internal error");
    expect(output.split("\n").filter((line) => / 5\d\d \S+B \S+ms$/.test(line))).toEqual([]);
    expect(server.peakRssBytes()).toBeLessThan(PEAK_RSS_LIMIT);
  });

  test("nothing was written outside the data directory, and inside it only what the layout allows", () => {
    expect(changes(before.sandbox, snapshot(sb.root, [sb.data]))).toEqual([]);
    expect(readdirSync(dirname(sb.root)).sort()).toEqual(before.neighbours.sort());
    expect(layoutViolations(sb.data)).toEqual([]);
  });

  test("afterwards it still serves correctly: a push pulls back byte-exact", async () => {
    expect((await call("GET", "/v2/", fx.auth)).status).toBe(200);
    const parts = await pushFixture(fx.auth, "fuzz/after", "ok");
    const manifest = await call("GET", "/v2/fuzz/after/manifests/ok", fx.auth, undefined, { Accept: "application/vnd.oci.image.manifest.v1+json" });
    expect(manifest.status).toBe(200);
    expect(sha256Digest(new Uint8Array(await manifest.arrayBuffer()))).toBe(parts.manifestDigest);
    for (const blob of [parts.config, ...parts.layers]) {
      const res = await call("GET", `/v2/fuzz/after/blobs/${blob.digest}`, fx.auth);
      expect(sha256Digest(new Uint8Array(await res.arrayBuffer()))).toBe(blob.digest);
    }
  });
});
