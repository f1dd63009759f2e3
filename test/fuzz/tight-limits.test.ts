/**
 * @module The same hostile requests against a registry whose limits are
 * all tight (a small quota, two uploads per account, few sessions, small
 * headers and manifests), so the limit paths meet hostile input too: they
 * must answer 4xx, never 5xx, and leave the registry serving.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startServer, type RunningServer } from "../../server/serve.ts";
import { ADMIN_AUTH, TEST_ADMIN } from "../support/credentials.ts";
import { mix, seedFrom } from "../support/random.ts";
import { tempDir } from "../support/temp.ts";
import { fuzzCase, type Fixture } from "./cases.ts";
import { setUpFixture, stillServes } from "./fixture.ts";
import { describeViolation, runCases } from "./runner.ts";

const SEED = mix(seedFrom("FUZZ_SEED"), 7);
const CASES = Math.ceil(Number(process.env.FUZZ_CASES ?? 3000) / 3);

let server: RunningServer;
let fx: Fixture;

beforeAll(async () => {
  server = await startServer({
    hostname: "127.0.0.1",
    port: 0,
    dataDir: tempDir("tight-"),
    adminPassword: TEST_ADMIN.password,
    limits: {
      repositoryQuotaBytes: 256 * 1024,
      maxConcurrentUploadsPerUser: 2,
      maxConcurrentUploads: 3,
      maxUploadSessions: 40,
      maxHeaderBytes: 8192,
      maxManifestBytes: 64 * 1024,
    },
  });
  fx = await setUpFixture({ url: server.url, authHeader: ADMIN_AUTH });
});
afterAll(() => server.stop());

describe("hostile input under tight limits", () => {
  test(`${CASES} seeded malformed requests: limits answer 4xx, never 5xx`, async () => {
    const { violations, statuses } = await runCases((i) => fuzzCase(SEED, i, fx), Array.from({ length: CASES }, (_, i) => i), 8, "127.0.0.1", server.port);
    const histogram = [...statuses].sort(([a], [b]) => (a ?? 0) - (b ?? 0)).map(([s, n]) => `${s ?? "none"}×${n}`).join(" ");
    console.log(`fuzz under tight limits: seed ${SEED}, ${CASES} cases; answers ${histogram}`);
    if (violations.length > 0) console.error(violations.slice(0, 25).map((v) => describeViolation(v, SEED)).join("\n"));
    expect(violations.map((v) => `#${v.fuzzCase.index} ${v.fuzzCase.label}: ${v.problems.join("; ")}`)).toEqual([]);
  }, 120_000);

  test("afterwards it still serves correctly", async () => {
    expect(await stillServes({ url: server.url, authHeader: ADMIN_AUTH }, fx.auth)).toEqual([]);
  });
});
