/**
 * @module The second half of `npm test`: the suites that open registries
 * through test/support (HTTP API, conformance, GC, auth, policy, audit,
 * maintenance, concurrency) again, with every test registry on a real
 * PostgreSQL (test/support/postgres.ts starts a throwaway cluster). Without
 * PostgreSQL it says why and skips, unless CI or MCR_TEST_REQUIRE_POSTGRES
 * is set, where a missing server fails the run.
 */
import { postgresSkipReason } from "../test/support/postgres.ts";

const SUITES = ["test/server", "test/lib", "test/conformance", "test/concurrency"];

const reason = postgresSkipReason();
if (reason !== null) {
  const required = Boolean(process.env.CI || process.env.MCR_TEST_REQUIRE_POSTGRES);
  console.log(`${required ? "fail" : "skip"}: the PostgreSQL pass of ${SUITES.join(", ")}: ${reason}`);
  process.exit(required ? 1 : 0);
}
console.log(`the PostgreSQL pass: ${SUITES.join(", ")} with every test registry on PostgreSQL`);
const run = Bun.spawnSync([process.execPath, "test", "--timeout", "120000", ...SUITES], {
  env: { ...process.env, MCR_TEST_DATABASE: "postgres" },
  stdio: ["inherit", "inherit", "inherit"],
});
process.exit(run.exitCode ?? 1);
