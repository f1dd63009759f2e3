/**
 * @module mcr on S3 (a real Ceph RADOS Gateway, test/support/ceph-rgw.ts):
 * `mcr serve` configured by MCR_S3_* pushes and pulls images, takes an
 * upload in odd PATCH sizes and serves ranges, with no blob in the data
 * directory; two processes take turns on one upload; redirect mode
 * answers 307 to a presigned URL that serves the bytes and ranges itself;
 * `mcr config check` reaches the bucket and says what is wrong; `config
 * print` never shows the secret; `mcr backup`, which copies only the data
 * directory, refuses.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RegistryError } from "../../lib/errors.ts";
import { backupDataDir } from "../../lib/maintenance/fs-backup.ts";
import { checkBucket } from "../../lib/storage/s3-config.ts";
import { sha256Digest } from "../../lib/oci/digest.ts";
import { S3BlobStore, type S3StoreOptions } from "../../lib/storage/s3-store.ts";
import { testApp } from "../support/app.ts";
import { pushBlob } from "../support/blobs.ts";
import { freshBucket, rgwUnavailable } from "../support/ceph-rgw.ts";
import { runCli } from "../support/cli.ts";
import { pullAndVerify, pushRandomImage } from "../support/http-registry.ts";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";
import { tempDir } from "../support/temp.ts";

const unavailable = rgwUnavailable();
const MiB = 1024 * 1024;

function s3Env(o: S3StoreOptions): Record<string, string> {
  return { MCR_S3_ENDPOINT: o.endpoint, MCR_S3_BUCKET: o.bucket, MCR_S3_PREFIX: o.prefix, MCR_S3_ACCESS_KEY_ID: o.accessKeyId, MCR_S3_SECRET_ACCESS_KEY: o.secretAccessKey };
}

describe.skipIf(unavailable !== null)("mcr serve on S3", () => {
  let options: S3StoreOptions;
  let server: ServerProcess;
  beforeAll(async () => {
    options = await freshBucket("reg/");
    server = await startServerProcess({ env: s3Env(options) });
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  test("pushes and pulls an image; the blobs are in the bucket, not the data directory", async () => {
    const image = await pushRandomImage(server.url, server.authHeader, "s3/app", "v1", 2, 300_000);
    expect(await pullAndVerify(server.url, server.authHeader, "s3/app", "v1")).toBe(image.manifestDigest);
    const store = new S3BlobStore(options);
    for (const digest of image.blobDigests) expect(await store.stat(digest)).not.toBeNull();
    // Only the database and the signing key are local.
    const files = readdirSync(server.dataDir, { recursive: true }).map(String);
    expect(files.filter((name) => /[a-f0-9]{64}$/.test(name) || name.startsWith("blobs") || name.startsWith("uploads"))).toEqual([]);
    expect(files.some((name) => name.endsWith(".db") || name.includes("sqlite") || name.includes("registry"))).toBe(true);
  }, 120_000);

  test("a chunked upload of 1 B, 9 MiB and 3 B completes (one 8 MiB part and a tail), and ranges read across the part boundary", async () => {
    const data = crypto.getRandomValues(new Uint8Array(65536));
    const whole = new Uint8Array(1 + 9 * MiB + 3);
    for (let at = 0; at < whole.byteLength; at += data.byteLength) whole.set(data.subarray(0, Math.min(data.byteLength, whole.byteLength - at)), at);
    whole[whole.byteLength - 1] = 7;
    const digest = sha256Digest(whole);
    const auth = { Authorization: server.authHeader };
    const start = await fetch(`${server.url}/v2/s3/chunks/blobs/uploads/`, { method: "POST", headers: auth });
    expect(start.status).toBe(202);
    let location = new URL(start.headers.get("location")!, server.url).toString();
    let at = 0;
    for (const size of [1, 9 * MiB]) {
      const res = await fetch(location, {
        method: "PATCH",
        body: whole.subarray(at, at + size),
        headers: { ...auth, "Content-Type": "application/octet-stream", "Content-Range": `${at}-${at + size - 1}` },
      });
      expect(res.status).toBe(202);
      at += size;
      expect(res.headers.get("range")).toBe(`0-${at - 1}`);
      location = new URL(res.headers.get("location")!, server.url).toString();
    }
    const done = await fetch(`${location}${location.includes("?") ? "&" : "?"}digest=${digest}`, { method: "PUT", body: whole.subarray(at), headers: auth });
    expect(done.status).toBe(201);
    const range = await fetch(`${server.url}/v2/s3/chunks/blobs/${digest}`, { headers: { ...auth, Range: `bytes=${8 * MiB - 2}-${8 * MiB + 4}` } });
    expect(range.status).toBe(206);
    expect([...new Uint8Array(await range.arrayBuffer())]).toEqual([...whole.subarray(8 * MiB - 2, 8 * MiB + 5)]);
    const full = await fetch(`${server.url}/v2/s3/chunks/blobs/${digest}`, { headers: auth });
    expect(full.status).toBe(200);
    expect(full.headers.get("location")).toBeNull();
    expect(sha256Digest(new Uint8Array(await full.arrayBuffer()))).toBe(digest);
  }, 120_000);
});

describe.skipIf(unavailable !== null)("two mcr serve processes on one database and one bucket", () => {
  test("an upload's chunks alternate between them (each part and tail continued from the bucket) and either serves the blob", async () => {
    const options = await freshBucket("two/");
    const dataDir = tempDir();
    const servers = [await startServerProcess({ dataDir, env: s3Env(options) }), await startServerProcess({ dataDir, env: s3Env(options) })];
    try {
      const whole = new Uint8Array(8 * MiB + 8 * MiB + 11).map((_, i) => (i * 7 + (i >> 16)) & 255);
      const digest = sha256Digest(whole);
      const auth = { Authorization: servers[0]!.authHeader };
      const start = await fetch(`${servers[0]!.url}/v2/two/app/blobs/uploads/`, { method: "POST", headers: auth });
      expect(start.status).toBe(202);
      let path = new URL(start.headers.get("location")!, servers[0]!.url).pathname + new URL(start.headers.get("location")!, servers[0]!.url).search;
      const sizes = [3, 8 * MiB - 3, 5, 8 * MiB];
      let at = 0;
      for (const [i, size] of sizes.entries()) {
        const server = servers[(i + 1) % 2]!;
        const res = await fetch(`${server.url}${path}`, {
          method: "PATCH",
          body: whole.subarray(at, at + size),
          headers: { ...auth, "Content-Type": "application/octet-stream", "Content-Range": `${at}-${at + size - 1}` },
        });
        expect(res.status).toBe(202);
        at += size;
        const next = new URL(res.headers.get("location")!, server.url);
        path = next.pathname + next.search;
      }
      const done = await fetch(`${servers[1]!.url}${path}${path.includes("?") ? "&" : "?"}digest=${digest}`, { method: "PUT", body: whole.subarray(at), headers: auth });
      expect(done.status).toBe(201);
      for (const server of servers) {
        const res = await fetch(`${server.url}/v2/two/app/blobs/${digest}`, { headers: auth });
        expect(sha256Digest(new Uint8Array(await res.arrayBuffer()))).toBe(digest);
      }
    } finally {
      for (const server of servers) await server.stop();
    }
  }, 120_000);
});

describe.skipIf(unavailable !== null)("redirect mode", () => {
  test("a blob GET answers 307 to a presigned URL that serves the blob and its ranges; an unknown blob is still 404", async () => {
    const options = await freshBucket("r/");
    const t = await testApp({ s3: { ...options, redirect: true, presignSeconds: 60 } });
    try {
      const digest = await pushBlob(t, "red/app", "bytes served by the bucket itself");
      const res = await t.request("GET", `/v2/red/app/blobs/${digest}`);
      expect(res.status).toBe(307);
      expect(res.headers.get("docker-content-digest")).toBe(digest);
      const location = res.headers.get("location")!;
      expect(location.startsWith(`${options.endpoint}/${options.bucket}/r/blobs/sha256/`)).toBe(true);
      expect(location).toContain("X-Amz-Expires=60");
      expect(await (await fetch(location)).text()).toBe("bytes served by the bucket itself");
      const ranged = await fetch(location, { headers: { Range: "bytes=6-11" } });
      expect(ranged.status).toBe(206);
      expect(await ranged.text()).toBe("served");
      expect((await t.request("GET", `/v2/red/app/blobs/${sha256Digest("absent")}`)).status).toBe(404);
      expect((await t.request("GET", `/v2/other/app/blobs/${digest}`)).status).toBe(404);
      // A backup of the data directory would hold no blob: refused, saying what to do instead.
      const refused = await backupDataDir(t.reg, join(tempDir(), "backup"), { mcrVersion: "test" }).catch((error: RegistryError) => error);
      expect((refused as RegistryError).code).toBe("UNSUPPORTED");
      expect((refused as RegistryError).message).toContain("back up the bucket");
    } finally {
      await t.close();
    }
  }, 60_000);
});

describe.skipIf(unavailable !== null)("mcr config check and print with [storage.s3]", () => {
  async function check(options: S3StoreOptions, overrides: Record<string, string> = {}) {
    const dir = tempDir();
    const file = join(dir, "mcr.toml");
    writeFileSync(file, `[storage]\ndata_dir = "${dir}/data"\n`);
    return runCli(["config", "check", file], { env: { ...s3Env(options), ...overrides } });
  }

  test("reaches the bucket, and names bad credentials and a missing bucket", async () => {
    const options = await freshBucket("c/");
    const ok = await check(options);
    expect(ok.stdout).toContain(`S3 bucket ${options.bucket}`);
    expect(ok.code).toBe(0);
    const badSecret = await check(options, { MCR_S3_SECRET_ACCESS_KEY: "wrong-secret-0123456789" });
    expect(badSecret.code).not.toBe(0);
    expect(badSecret.stderr).toContain("secret access key is wrong");
    const badKey = await check(options, { MCR_S3_ACCESS_KEY_ID: "NOSUCHKEY0000" });
    expect(badKey.stderr).toContain("access key id is not known");
    const noBucket = await check(options, { MCR_S3_BUCKET: "mcr-never-created" });
    expect(noBucket.stderr).toContain("bucket does not exist");
    const print = await runCli(["config", "print"], { env: s3Env(options) });
    expect(print.stdout).toContain(`bucket = "${options.bucket}"`);
    expect(print.stdout).not.toContain(options.secretAccessKey);
  }, 60_000);

  test("names a clock too far from the endpoint's: refused past 15 minutes, warned of past 5", async () => {
    const options = await freshBucket("k/");
    // The gateway refuses a request signed 30 minutes ago (RequestTimeTooSkewed).
    const refused = await checkBucket(options, () => Date.now() - 30 * 60_000).then(() => null, (error: RegistryError) => error);
    expect(refused?.code).toBe("UNAVAILABLE");
    expect(refused?.message).toContain("clock is too far from the endpoint's");
    // Ten minutes off, it still answers: the check compares its Date header and says by how much.
    const warned = await checkBucket(options, () => Date.now() + 10 * 60_000).then(() => null, (error: RegistryError) => error);
    expect(warned?.code).toBe("UNAVAILABLE");
    expect(warned?.message).toMatch(/S3 endpoint's clock is (9|10|11) minutes from this machine's/);
    await checkBucket(options);
  }, 60_000);
});

// Without Ceph, the reason shows in the run's report.
if (unavailable) test.skip(unavailable, () => {});
