/**
 * @module fsck with blobs in S3 (a real Ceph RADOS Gateway): a clean
 * bucket; an object whose bytes were changed (same size) and one deleted
 * are found by reading every object back and hashing it, and `mcr fsck`
 * (configured by MCR_S3_*) exits 1 naming them; `--sample 0` finds the
 * missing and the resized objects from the listing alone; `--repair`
 * deletes the corrupt object and its memberships (HEAD and GET answer
 * BLOB_UNKNOWN, a push puts it back) and closes sessions whose record
 * is gone, as on the file-system store.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { fsck } from "../../../lib/maintenance/fsck.ts";
import { openRegistry } from "../../../lib/registry/registry.ts";
import { startUpload } from "../../../lib/registry/uploads.ts";
import { S3BlobStore, type S3StoreOptions } from "../../../lib/storage/s3-store.ts";
import { testApp, type TestApp } from "../../support/app.ts";
import { pushBlob, pushImage } from "../../support/blobs.ts";
import { freshBucket, rgwUnavailable } from "../../support/ceph-rgw.ts";
import { runCli } from "../../support/cli.ts";

setDefaultTimeout(120_000);
const unavailable = rgwUnavailable();

describe.skipIf(unavailable !== null)("fsck on S3", () => {
  let t: TestApp;
  let options: S3StoreOptions;
  let store: S3BlobStore;
  let layers: string[];
  const env = () => ({
    MCR_S3_ENDPOINT: options.endpoint,
    MCR_S3_BUCKET: options.bucket,
    MCR_S3_PREFIX: options.prefix,
    MCR_S3_ACCESS_KEY_ID: options.accessKeyId,
    MCR_S3_SECRET_ACCESS_KEY: options.secretAccessKey,
    // The CLI works on the registry's own database: on PostgreSQL under MCR_TEST_DATABASE=postgres.
    ...(t.database ? { MCR_DATABASE: t.database } : {}),
  });

  beforeAll(async () => {
    options = await freshBucket("f/");
    store = new S3BlobStore(options);
    t = await testApp({ s3: options });
    const { manifest } = await pushImage(t, "fsck/app", "v1", ["layer-one", "layer-two", "layer-three", "layer-four"]);
    layers = manifest.layers.map((l) => l.digest);
  });
  afterAll(() => t?.close());

  test("a bucket written by the registry is clean, every object read back and hashed", async () => {
    const report = await fsck(t.reg);
    expect(report.problems).toEqual([]);
    expect(report.blobs).toEqual({ checked: 5, hashed: 5, bytes: expect.any(Number) });
    const cli = await runCli(["fsck", "--data", t.dataDir], { env: env() });
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain("checked 5 blobs");
  });

  test("finds changed bytes, a deleted object and a resized one; --sample 0 finds the last two from the listing alone", async () => {
    await store.client.write(store.keys.blob(layers[0]!), "layer-0ne");
    await store.client.delete(store.keys.blob(layers[1]!));
    await store.client.write(store.keys.blob(layers[3]!), "layer-four, longer now");

    const report = await fsck(t.reg);
    expect(report.problems.map((p) => [p.kind, p.subject]).sort()).toEqual(
      [
        ["corrupt_blob", layers[0]!],
        ["missing_file", layers[1]!],
        ["corrupt_blob", layers[3]!],
      ].sort(),
    );
    const sampled = await fsck(t.reg, { sample: 0 });
    expect(sampled.blobs).toEqual({ checked: 5, hashed: 0, bytes: 0 });
    expect(sampled.problems.map((p) => [p.kind, p.subject]).sort()).toEqual(
      [
        ["missing_file", layers[1]!],
        ["size_mismatch", layers[3]!],
      ].sort(),
    );
    const some = await fsck(t.reg, { sample: 2 });
    expect([some.blobs.checked, some.blobs.hashed]).toEqual([5, 2]);

    const cli = await runCli(["fsck", "--data", t.dataDir], { env: env() });
    expect(cli.code).toBe(1);
    expect(cli.stdout).toMatch(new RegExp(`^corrupt_blob\\s+${layers[0]}: its bytes hash to sha256:`, "m"));
    expect(cli.stdout).toMatch(new RegExp(`^missing_file\\s+${layers[1]}: recorded, but its file is missing`, "m"));
    const sample = await runCli(["fsck", "--sample", "1", "--data", t.dataDir], { env: env() });
    expect(sample.code).toBe(1);
    expect(sample.stdout).toContain("1 hashed, the rest found with their size");
    expect((await runCli(["fsck", "--sample", "-3", "--data", t.dataDir], { env: env() })).stderr).toContain("--sample must be a whole number");
  });

  test("--repair deletes the corrupt objects (never served again, pushed again) and closes sessions whose record is gone", async () => {
    const session = await startUpload(t.reg, "fsck/app");
    await store.client.delete(store.keys.record(session.id));
    // fsck runs in its own process, which knows nothing of the server's sessions in memory.
    const other = await openRegistry(t.dataDir, { s3: options, database: t.database });
    const repaired = await fsck(other, { repair: true }).finally(() => other.close());
    const repair = repaired.problems.find((p) => p.subject === layers[0])?.repaired;
    expect(repair).toContain("deleted the corrupt file; no repository serves it until it is pushed again");
    expect(repaired.notes).toContainEqual(expect.objectContaining({ kind: "upload_without_bytes", subject: session.id, repaired: "closed the session" }));
    expect(await store.stat(layers[0]!)).toBeNull();
    for (const method of ["HEAD", "GET"]) expect((await t.request(method, `/v2/fsck/app/blobs/${layers[0]}`)).status).toBe(404);
    expect(await store.stat(layers[2]!)).toEqual({ size: "layer-three".length });

    expect(await pushBlob(t, "fsck/app", "layer-one")).toBe(layers[0]!);
    expect(await (await t.request("GET", `/v2/fsck/app/blobs/${layers[0]}`)).text()).toBe("layer-one");
    const after = await fsck(t.reg);
    expect(after.problems.map((p) => [p.kind, p.subject]).sort()).toEqual(
      [
        ["missing_file", layers[1]!],
        ["missing_file", layers[3]!],
      ].sort(),
    );
  });
});

if (unavailable) test.skip(unavailable, () => {});
