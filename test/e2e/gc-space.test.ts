/**
 * @module Space comes back: push images to a real `mcr serve`, delete
 * them, run `mcr gc` beside it, and the data directory is back to the size
 * it had before the push (blob and upload files exactly; the database and
 * its log within a few pages).
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { GcReport } from "../../lib/gc/report.ts";
import { runCli } from "../support/cli.ts";
import { noise, sha256 } from "../support/oci-layout.ts";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";

const MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const LAYER_BYTES = 512 * 1024;

/** Bytes of the files under `dir` whose path passes `include`. */
function bytesUnder(dir: string, include: (path: string) => boolean = () => true): number {
  let total = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    if (entry.isFile() && include(path)) total += statSync(path).size;
  }
  return total;
}

async function pushImage(server: ServerProcess, repo: string, seed: number): Promise<{ digest: string; bytes: number }> {
  const auth = { authorization: server.authHeader };
  const blobs = [noise(seed, LAYER_BYTES), noise(seed + 1, LAYER_BYTES), new TextEncoder().encode(`{"seed":${seed}}`)];
  for (const blob of blobs) {
    const res = await fetch(`${server.url}/v2/${repo}/blobs/uploads/?digest=${sha256(blob)}`, { method: "POST", body: blob, headers: auth });
    expect(res.status).toBe(201);
  }
  const [a, b, config] = blobs.map((bytes) => ({ digest: sha256(bytes), size: bytes.byteLength }));
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: MANIFEST,
    config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
    layers: [a, b].map((d) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar", ...d })),
  });
  const put = await fetch(`${server.url}/v2/${repo}/manifests/v${seed}`, { method: "PUT", body: manifest, headers: { ...auth, "content-type": MANIFEST } });
  expect(put.status).toBe(201);
  return { digest: put.headers.get("docker-content-digest")!, bytes: blobs.reduce((n, blob) => n + blob.byteLength, 0) };
}

describe("space", () => {
  test("push, delete, gc: the data directory returns to its size", async () => {
    const server = await startServerProcess();
    try {
      const store = (path: string) => /\/(blobs|uploads)\//.test(path);
      // mcr.db with its write-ahead log, and the signing key.
      const database = (path: string) => !store(path) && !path.endsWith("-shm");
      const before = { store: bytesUnder(server.dataDir, store), database: bytesUnder(server.dataDir, database) };

      const pushed = [];
      for (let i = 0; i < 4; i++) pushed.push({ repo: `space/app${i % 2}`, ...(await pushImage(server, `space/app${i % 2}`, 10 * i + 1)) });
      const pushedBytes = pushed.reduce((n, p) => n + p.bytes, 0);
      expect(bytesUnder(server.dataDir, store) - before.store).toBe(pushedBytes);

      for (const image of pushed) {
        const res = await fetch(`${server.url}/v2/${image.repo}/manifests/${image.digest}`, { method: "DELETE", headers: { authorization: server.authHeader } });
        expect(res.status).toBe(202);
      }
      // Deleting frees nothing by itself.
      expect(bytesUnder(server.dataDir, store) - before.store).toBe(pushedBytes);

      const run = await runCli(["gc", "--grace", "0s", "--json", "--data", server.dataDir]);
      expect(run.code).toBe(0);
      const report = JSON.parse(run.stdout) as GcReport;
      expect(report).toMatchObject({ blobsRemoved: 12, bytesFreed: pushedBytes, missing: [] });
      const after = { store: bytesUnder(server.dataDir, store), database: bytesUnder(server.dataDir, database) };
      console.log(
        `space: pushed ${pushedBytes} bytes; after delete + gc the store holds ${after.store} bytes (before: ${before.store}), ` +
          `the database ${after.database} bytes (before: ${before.database})`,
      );
      expect(after.store).toBe(before.store);
      // Freed database pages are reused, not returned; the rows GC and the audit log added are a few pages.
      expect(after.database - before.database).toBeLessThan(256 * 1024);
    } finally {
      await server.stop();
    }
  }, 60_000);
});
