/**
 * @module The replica scenarios (test/support/replica-scenarios.ts) as on
 * separate boxes: three `mcr serve` processes and `mcr gc` share one
 * PostgreSQL database and one S3 bucket (a real Ceph RADOS Gateway) and
 * nothing else: each has a data directory of its own. They read one
 * signing key file (`auth.signing_key_file`, made once by `mcr auth
 * keygen`, docs/scale-out.md), as a secret mounted on every box, so a token
 * one issued works on the others.
 * Skips, saying why, without PostgreSQL or Ceph; fails instead under CI.
 */
import { expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import type { S3StoreOptions } from "../../lib/storage/s3-store.ts";
import { freshBucket, rgwUnavailable } from "../support/ceph-rgw.ts";
import { postgresAvailable, postgresDatabase } from "../support/postgres.ts";
import { runCli } from "../support/cli.ts";
import { replicaScenarios } from "../support/replica-scenarios.ts";
import { tempDir } from "../support/temp.ts";

const dirs = Array.from({ length: 4 }, (_, i) => tempDir(`replicas-box${i}-`));
const available = postgresAvailable("test/e2e/replicas-s3.test.ts") && rgwUnavailable() === null;

function s3Env(o: S3StoreOptions): Record<string, string> {
  return { MCR_S3_ENDPOINT: o.endpoint, MCR_S3_BUCKET: o.bucket, MCR_S3_PREFIX: o.prefix, MCR_S3_ACCESS_KEY_ID: o.accessKeyId, MCR_S3_SECRET_ACCESS_KEY: o.secretAccessKey };
}

replicaScenarios("three processes over one PostgreSQL and one S3 bucket, each its own data directory", !available, async () => {
  const [database, s3] = await Promise.all([postgresDatabase(), freshBucket("replicas/")]);
  // Outside every data directory, as a secret every box mounts.
  const keyFile = join(tempDir("replicas-secrets-"), "signing-key.pem");
  const made = await runCli(["auth", "keygen", keyFile]);
  if (made.code !== 0) throw new Error(`mcr auth keygen failed: ${made.stderr}`);
  return {
    dataDir: (i) => dirs[i]!,
    env: { MCR_DATABASE: database, MCR_AUTH_SIGNING_KEY_FILE: keyFile, ...s3Env(s3) },
    registry: { database, s3 },
  };
});

test.skipIf(!available)("after all of it, no box's data directory holds a blob, an upload or a signing key of its own", () => {
  for (const dir of dirs) {
    const files = readdirSync(dir, { recursive: true }).map(String);
    expect(files.filter((name) => /[a-f0-9]{64}/.test(name) || name.startsWith("blobs") || name.startsWith("uploads") || name.includes("signing-key"))).toEqual([]);
  }
});
