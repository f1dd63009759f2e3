/**
 * @module The replica scenarios (test/support/replica-scenarios.ts) over
 * one PostgreSQL database: three `mcr serve` processes and `mcr gc` share
 * the database (MCR_DATABASE) and one data directory for the blobs, as
 * boxes sharing a mounted file system would. Skips, saying why, without
 * PostgreSQL; fails instead under MCR_TEST_REQUIRE_POSTGRES (CI).
 */
import { postgresAvailable, postgresDatabase } from "../support/postgres.ts";
import { replicaScenarios } from "../support/replica-scenarios.ts";
import { tempDir } from "../support/temp.ts";

const available = postgresAvailable("test/e2e/replicas-postgres.test.ts");

replicaScenarios("three processes over one PostgreSQL, blobs in one shared data directory", !available, async () => {
  const database = await postgresDatabase();
  const dataDir = tempDir("replicas-pg-");
  return { dataDir: () => dataDir, env: { MCR_DATABASE: database }, registry: { database } };
});
