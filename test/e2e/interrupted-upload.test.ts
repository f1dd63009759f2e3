/**
 * @module A client that disconnects in the middle of a PUT: the session
 * keeps the bytes that arrived and resumes, and no partial blob is visible.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { sha256Digest } from "../../lib/oci/digest.ts";
import { startServer, type RunningServer } from "../../server/serve.ts";
import { ADMIN_AUTH, TEST_ADMIN } from "../support/credentials.ts";
import { tempDir } from "../support/temp.ts";

// Real processes, and the whole suite may run on a loaded machine: more than the default 5 s.
setDefaultTimeout(120_000);

const auth = { Authorization: ADMIN_AUTH };

let server: RunningServer;

beforeAll(async () => {
  server = await startServer({ hostname: "127.0.0.1", port: 0, dataDir: tempDir("srv-"), adminPassword: TEST_ADMIN.password });
});
afterAll(() => server.stop());

/** Sends `head` and `partial` body bytes on a raw socket, then hangs up. */
async function sendAndHangUp(head: string, partial: Uint8Array): Promise<void> {
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port: server.port,
    socket: { data() {}, error() {}, close() {} },
  });
  socket.write(head);
  socket.write(partial);
  socket.flush();
  await Bun.sleep(200);
  socket.end();
  await Bun.sleep(200);
}

describe("interrupted uploads", () => {
  test("a PUT cut off mid-body leaves a resumable session and no blob", async () => {
    const content = new Uint8Array(64 * 1024).map((_, i) => (i * 7) % 251);
    const digest = sha256Digest(content);
    const start = await fetch(`${server.url}/v2/cut/blobs/uploads/`, { method: "POST", headers: auth });
    const location = start.headers.get("location")!;
    const sent = content.subarray(0, 20_000);
    await sendAndHangUp(
      `PUT ${location}?digest=${digest} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${ADMIN_AUTH}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${content.byteLength}\r\n\r\n`,
      sent,
    );

    const blob = await fetch(`${server.url}/v2/cut/blobs/${digest}`, { method: "HEAD", headers: auth });
    expect(blob.status).toBe(404);

    const status = await fetch(`${server.url}${location}`, { headers: auth });
    expect(status.status).toBe(204);
    const held = Number(status.headers.get("range")!.split("-")[1]) + 1;
    expect(held).toBeGreaterThan(1);
    expect(held).toBeLessThanOrEqual(sent.byteLength);

    const patch = await fetch(`${server.url}${location}`, {
      method: "PATCH",
      body: content.subarray(held),
      headers: { ...auth, "Content-Range": `${held}-${content.byteLength - 1}` },
    });
    expect(patch.status).toBe(202);
    const done = await fetch(`${server.url}${location}?digest=${digest}`, { method: "PUT", headers: auth });
    expect(done.status).toBe(201);
    const back = await fetch(`${server.url}/v2/cut/blobs/${digest}`, { headers: auth });
    expect(sha256Digest(new Uint8Array(await back.arrayBuffer()))).toBe(digest);
  });
});
