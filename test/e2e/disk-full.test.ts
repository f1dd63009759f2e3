/**
 * @module A full disk (a small tmpfs as the data directory): an upload
 * that runs out of space is answered 507 and discarded, the space it took
 * comes back, nothing stored is damaged, and once there is room again the
 * registry takes pushes as before.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sha256Digest } from "../../lib/oci/digest.ts";
import { startServer, type RunningServer } from "../../server/serve.ts";
import { ADMIN_AUTH, TEST_ADMIN } from "../support/credentials.ts";
import { smallDisk, type SmallDisk } from "../support/small-disk.ts";

const MiB = 1024 * 1024;
const disk = await smallDisk(8 * MiB, "test/e2e/disk-full.test.ts");
const auth = { Authorization: ADMIN_AUTH };
let server: RunningServer;
let data: string;

const content = (n: number, fill: number) => new Uint8Array(n).fill(fill);

async function expectFull(res: Response): Promise<void> {
  const text = await res.text();
  expect({ status: res.status, text }).toMatchObject({ status: 507 });
  const body = JSON.parse(text) as { errors: { code: string; message: string }[] };
  expect(body.errors[0]!.code).toBe("INSUFFICIENT_STORAGE");
  expect(body.errors[0]!.message).toContain("space");
}

const uploadsLeft = () => readdirSync(join(data, "uploads"));

describe.skipIf(disk === null)("a full disk", () => {
  beforeAll(async () => {
    data = join((disk as SmallDisk).path, "data");
    server = await startServer({ hostname: "127.0.0.1", port: 0, dataDir: data, adminPassword: TEST_ADMIN.password });
  });
  afterAll(async () => {
    await server?.stop();
    await disk?.unmount();
  });

  test("a blob larger than the free space is answered 507 and leaves nothing behind", async () => {
    const small = content(MiB, 1);
    expect((await fetch(`${server.url}/v2/full/app/blobs/uploads/?digest=${sha256Digest(small)}`, { method: "POST", body: small, headers: auth })).status).toBe(201);
    const free = disk!.free();
    const big = content(12 * MiB, 2);
    await expectFull(await fetch(`${server.url}/v2/full/app/blobs/uploads/?digest=${sha256Digest(big)}`, { method: "POST", body: big, headers: auth }));
    expect(uploadsLeft()).toEqual([]);
    expect(disk!.free()).toBeGreaterThanOrEqual(free - 64 * 1024);
  });

  test("a chunk that runs out of space ends its session, and the space comes back", async () => {
    const start = await fetch(`${server.url}/v2/full/app/blobs/uploads/`, { method: "POST", headers: auth });
    const location = start.headers.get("location")!;
    const free = disk!.free();
    await expectFull(await fetch(`${server.url}${location}`, { method: "PATCH", body: content(12 * MiB, 3), headers: auth }));
    expect((await fetch(`${server.url}${location}`, { headers: auth })).status).toBe(404);
    expect(uploadsLeft()).toEqual([]);
    expect(disk!.free()).toBeGreaterThanOrEqual(free - 64 * 1024);
  });

  test("with the disk completely full, a manifest push is answered 507, and pulls still work", async () => {
    const config = content(1000, 4);
    const layer = content(MiB, 1);
    expect((await fetch(`${server.url}/v2/full/app/blobs/uploads/?digest=${sha256Digest(config)}`, { method: "POST", body: config, headers: auth })).status).toBe(201);
    const filler = join(disk!.path, "filler");
    try {
      writeFileSync(filler, content(disk!.free(), 0));
    } catch {
      // ENOSPC: full, which is what we want
    }
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha256Digest(config), size: 1000 },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: sha256Digest(layer), size: MiB }],
      annotations: { pad: "x".repeat(200_000) },
    });
    const put = await fetch(`${server.url}/v2/full/app/manifests/v1`, { method: "PUT", body: manifest, headers: { ...auth, "Content-Type": "application/vnd.oci.image.manifest.v1+json" } });
    await expectFull(put);
    const pulled = await fetch(`${server.url}/v2/full/app/blobs/${sha256Digest(layer)}`, { headers: auth });
    expect(pulled.status).toBe(200);
    expect(sha256Digest(new Uint8Array(await pulled.arrayBuffer()))).toBe(sha256Digest(layer));
    rmSync(filler, { force: true });
    const again = await fetch(`${server.url}/v2/full/app/manifests/v1`, { method: "PUT", body: manifest, headers: { ...auth, "Content-Type": "application/vnd.oci.image.manifest.v1+json" } });
    expect(again.status).toBe(201);
  });

  test("afterwards the store is intact and takes pushes as before", async () => {
    const blob = content(2 * MiB, 9);
    expect((await fetch(`${server.url}/v2/full/after/blobs/uploads/?digest=${sha256Digest(blob)}`, { method: "POST", body: blob, headers: auth })).status).toBe(201);
    const back = await fetch(`${server.url}/v2/full/after/blobs/${sha256Digest(blob)}`, { headers: auth });
    expect(sha256Digest(new Uint8Array(await back.arrayBuffer()))).toBe(sha256Digest(blob));
    const db = new Database(join(data, "mcr.db"), { readonly: true });
    expect(db.query("pragma integrity_check").get()).toEqual({ integrity_check: "ok" });
    db.close();
  });
});
