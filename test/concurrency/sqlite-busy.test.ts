/**
 * @module Another process holding SQLite's write lock (as `mcr gc` or an
 * admin command may): requests wait for it up to `databaseBusyTimeoutMs`
 * and then succeed; past that they get 503 UNAVAILABLE with Retry-After,
 * never a 500; reads go on meanwhile, and nothing is left half done.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { sha256Digest } from "../../lib/oci/digest.ts";
import { startServer, type RunningServer } from "../../server/serve.ts";
import { Client } from "../conformance/client.ts";
import { ADMIN_AUTH, TEST_ADMIN } from "../support/credentials.ts";
import { tempDir } from "../support/temp.ts";

const BUSY_TIMEOUT_MS = 400;
let server: RunningServer;
let dataDir: string;
let client: Client;

beforeAll(async () => {
  dataDir = tempDir("busy-");
  server = await startServer({
    hostname: "127.0.0.1",
    port: 0,
    dataDir,
    adminPassword: TEST_ADMIN.password,
    limits: { databaseBusyTimeoutMs: BUSY_TIMEOUT_MS },
  });
  client = new Client(server.url, ADMIN_AUTH);
});
afterAll(() => server.stop());

/** Another process takes the write lock and holds it `ms` milliseconds; resolves once it holds it. */
async function holdWriteLock(ms: number): Promise<{ released: Promise<number> }> {
  const script = `
    import { Database } from "bun:sqlite";
    const db = new Database(${JSON.stringify(join(dataDir, "mcr.db"))});
    db.exec("pragma busy_timeout = 5000");
    db.exec("begin immediate");
    console.log("locked");
    await Bun.sleep(${ms});
    db.exec("commit");
  `;
  const proc = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "inherit" });
  const reader = proc.stdout.getReader();
  const { value } = await reader.read();
  expect(new TextDecoder().decode(value)).toContain("locked");
  return { released: proc.exited };
}

describe("the database held by another process", () => {
  test("a short hold: writes wait for it and succeed", async () => {
    const image = await client.pushImage("busy/app", "v1");
    const lock = await holdWriteLock(BUSY_TIMEOUT_MS / 4);
    const pushes = await Promise.all(Array.from({ length: 4 }, (_, i) => client.pushBlob("busy/app", `short hold ${i}`)));
    expect(pushes).toHaveLength(4);
    expect(await lock.released).toBe(0);
    expect((await client.request("GET", `/v2/busy/app/manifests/${image.digest}`)).status).toBe(200);
  });

  test("a long hold: writes get 503 UNAVAILABLE with Retry-After, never 500; reads go on", async () => {
    const image = await client.pushImage("busy/long", "v1");
    const lock = await holdWriteLock(BUSY_TIMEOUT_MS * 4);
    const content = "long hold";
    const push = await client.request("POST", `/v2/busy/long/blobs/uploads/?digest=${sha256Digest(content)}`, { body: content });
    expect(push.status).toBe(503);
    expect(push.headers.get("retry-after")).toBe("1");
    expect((push.json() as { errors: { code: string }[] }).errors[0]!.code).toBe("UNAVAILABLE");
    const tag = await client.request("PUT", "/v2/busy/long/manifests/v2", { body: image.manifest, headers: { "Content-Type": "application/vnd.oci.image.manifest.v1+json" } });
    expect(tag.status).toBe(503);
    const read = await client.request("GET", `/v2/busy/long/manifests/${image.digest}`);
    expect(read.status).toBe(200);
    expect(await lock.released).toBe(0);

    // Once the lock is gone the same requests succeed, and the refused ones left nothing behind.
    expect((await client.request("GET", "/v2/busy/long/tags/list")).json()).toEqual({ name: "busy/long", tags: ["v1"] });
    const again = await client.request("POST", `/v2/busy/long/blobs/uploads/?digest=${sha256Digest(content)}`, { body: content });
    expect(again.status).toBe(201);
    expect(client.serverErrors().filter((e) => !e.endsWith("503"))).toEqual([]);
  });

  test("while a write waits for the lock, the process goes on: timers fire on time and reads are answered", async () => {
    const image = await client.pushImage("busy/loop", "v1");
    const lock = await holdWriteLock(BUSY_TIMEOUT_MS * 4);
    // Every 10 ms, how long since the last tick: SQLite's own busy wait would stop the event loop for the whole timeout.
    let last = performance.now();
    let longestGap = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
    }, 10);
    try {
      const content = "waits for the lock";
      const push = client.request("POST", `/v2/busy/loop/blobs/uploads/?digest=${sha256Digest(content)}`, { body: content });
      let pushed = false;
      void push.then(() => (pushed = true));
      await Bun.sleep(BUSY_TIMEOUT_MS / 4);
      const started = performance.now();
      const read = await client.request("GET", `/v2/busy/loop/manifests/${image.digest}`);
      expect(read.status).toBe(200);
      expect(performance.now() - started).toBeLessThan(BUSY_TIMEOUT_MS / 2);
      expect(pushed).toBe(false);
      expect((await push).status).toBe(503);
    } finally {
      clearInterval(ticker);
    }
    expect(longestGap).toBeLessThan(BUSY_TIMEOUT_MS / 2);
    expect(await lock.released).toBe(0);
  });
});
