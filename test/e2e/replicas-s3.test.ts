/**
 * @module The replica scenarios (test/support/replica-scenarios.ts) as on
 * separate boxes: three `mcr serve` processes and `mcr gc` share one
 * PostgreSQL database and one S3 bucket (a real Ceph RADOS Gateway) and
 * nothing else: each has a data directory of its own. The operator copies
 * the first box's signing key to the others (docs/scale-out.md), as here.
 * Skips, saying why, without PostgreSQL or Ceph; fails instead under CI.
 */
import { expect, test } from "bun:test";
import { copyFileSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { S3StoreOptions } from "../../lib/storage/s3-store.ts";
import { freshBucket, rgwUnavailable } from "../support/ceph-rgw.ts";
import { postgresAvailable, postgresDatabase } from "../support/postgres.ts";
import { replicaScenarios } from "../support/replica-scenarios.ts";
import { tempDir } from "../support/temp.ts";

const dirs = Array.from({ length: 4 }, (_, i) => tempDir(`replicas-box${i}-`));
const available = postgresAvailable("test/e2e/replicas-s3.test.ts") && rgwUnavailable() === null;

function s3Env(o: S3StoreOptions): Record<string, string> {
  return { MCR_S3_ENDPOINT: o.endpoint, MCR_S3_BUCKET: o.bucket, MCR_S3_PREFIX: o.prefix, MCR_S3_ACCESS_KEY_ID: o.accessKeyId, MCR_S3_SECRET_ACCESS_KEY: o.secretAccessKey };
}

replicaScenarios("three processes over one PostgreSQL and one S3 bucket, each its own data directory", !available, async () => {
  const [database, s3] = await Promise.all([postgresDatabase(), freshBucket("replicas/")]);
  return {
    dataDir: (i) => dirs[i]!,
    env: { MCR_DATABASE: database, ...s3Env(s3) },
    registry: { database, s3 },
    afterFirstStart(first) {
      for (const dir of dirs.slice(1)) {
        mkdirSync(dir, { recursive: true });
        copyFileSync(join(first.dataDir, "signing-key.pem"), join(dir, "signing-key.pem"));
      }
    },
  };
});

test.skipIf(!available)("after all of it, no box's data directory holds a blob or an upload: they are all in the bucket", () => {
  for (const dir of dirs) {
    const files = readdirSync(dir, { recursive: true }).map(String);
    expect(files.filter((name) => /[a-f0-9]{64}/.test(name) || name.startsWith("blobs") || name.startsWith("uploads"))).toEqual([]);
  }
});
