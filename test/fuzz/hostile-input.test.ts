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
import { seedFrom } from "../support/random.ts";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";
import { categories, fuzzCase, type Fixture } from "./cases.ts";
import { setUpFixture, stillServes } from "./fixture.ts";
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
/** Lines the server logged about internal errors or 5xx answers: there must be none. */
const badLines: string[] = [];

beforeAll(async () => {
  sb = sandbox();
  before = { sandbox: snapshot(sb.root, [sb.data]), neighbours: readdirSync(dirname(sb.root)) };
  const onLine = (line: string) => {
    if (line.includes("internal error") || / 5\d\d \S+B \S+ms$/.test(line)) badLines.push(line);
  };
  server = await startServerProcess({ dataDir: sb.data, cwd: sb.cwd, onLine });
  fx = await setUpFixture(server);
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
    expect(badLines).toEqual([]);
    expect(server.peakRssBytes()).toBeLessThan(PEAK_RSS_LIMIT);
  });

  test("nothing was written outside the data directory, and inside it only what the layout allows", () => {
    expect(changes(before.sandbox, snapshot(sb.root, [sb.data]))).toEqual([]);
    expect(readdirSync(dirname(sb.root)).sort()).toEqual(before.neighbours.sort());
    expect(layoutViolations(sb.data)).toEqual([]);
  });

  test("afterwards it still serves correctly: a push pulls back byte-exact", async () => {
    expect(await stillServes(server, fx.auth)).toEqual([]);
  });
});
