/**
 * @module The replica scenarios (test/support/replica-scenarios.ts) on one
 * box's storage: three `mcr serve` processes and `mcr gc` on ONE data
 * directory, SQLite metadata and file-system blobs.
 */
import { replicaScenarios } from "../support/replica-scenarios.ts";
import { tempDir } from "../support/temp.ts";

const dataDir = tempDir("replicas-");

replicaScenarios("three processes on one data directory (SQLite, file-system blobs)", false, async () => ({
  dataDir: () => dataDir,
  env: {},
  registry: {},
}));
