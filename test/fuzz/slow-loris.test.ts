/**
 * @module Slow clients: headers or bodies dribbled a byte at a time must
 * not stop the server answering everyone else, an unauthenticated body is
 * refused before it arrives, and a stalled upload keeps what it received.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sha256Digest } from "../../lib/oci/digest.ts";
import { rawRequest, requestHead, type RawResponse } from "../support/raw-http.ts";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";

let server: ServerProcess;
let port: number;

beforeAll(async () => {
  server = await startServerProcess();
  port = Number(new URL(server.url).port);
});
afterAll(() => server.stop());

/** A request whose body (or headers) arrive `step` bytes every `everyMs`, for about `forMs`. */
function dribble(head: string, payload: string, everyMs: number, forMs: number): Promise<RawResponse> {
  const parts: (string | number)[] = [head];
  for (let i = 0; i < Math.min(payload.length, Math.floor(forMs / everyMs)); i++) parts.push(payload[i]!, everyMs);
  return rawRequest({ host: "127.0.0.1", port, parts, timeoutMs: forMs + 2000 });
}

/** Times a normal request while the slow ones are in progress. */
async function timedPing(): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${server.url}/v2/`, { headers: { Authorization: server.authHeader } });
  expect(res.status).toBe(200);
  return performance.now() - started;
}

describe("slow clients", () => {
  test("dribbled headers and bodies do not slow down anyone else", async () => {
    const slow: Promise<RawResponse>[] = [];
    for (let i = 0; i < 16; i++) {
      // Headers that never end.
      slow.push(dribble(`GET /v2/ HTTP/1.1\r\nHost: x\r\n`, "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 100, 3000));
    }
    const start = await fetch(`${server.url}/v2/loris/app/blobs/uploads/`, { method: "POST", headers: { Authorization: server.authHeader } });
    const location = start.headers.get("location")!;
    for (let i = 0; i < 8; i++) {
      const head = requestHead("PATCH", location, "x", [
        ["Authorization", server.authHeader],
        ["Content-Length", "100000"],
      ]);
      slow.push(dribble(head, "b".repeat(100_000), 100, 3000));
    }
    await Bun.sleep(300);
    const pings: number[] = [];
    for (let i = 0; i < 20; i++) pings.push(await timedPing());
    // A server held up by the slow clients would answer only after they finish, 3 s from now.
    expect(Math.max(...pings)).toBeLessThan(2500);
    await Promise.all(slow);
  }, 30_000);

  test("a body sent without credentials is refused before it has arrived", async () => {
    const head = requestHead("POST", `/v2/loris/app/blobs/uploads/?digest=${sha256Digest("x")}`, "x", [["Content-Length", "1000000"]]);
    const res = await dribble(head, "x".repeat(1000), 200, 4000);
    expect(res.status).toBe(401);
    expect(res.ms).toBeLessThan(2000);
  }, 30_000);

  test("an upload whose client stalls keeps the bytes that arrived and resumes", async () => {
    const content = "resumable bytes ".repeat(64);
    const start = await fetch(`${server.url}/v2/loris/resume/blobs/uploads/`, { method: "POST", headers: { Authorization: server.authHeader } });
    const location = start.headers.get("location")!;
    const head = requestHead("PATCH", location, "x", [
      ["Authorization", server.authHeader],
      ["Content-Length", String(content.length)],
    ]);
    // Ten bytes arrive, then the client goes quiet and hangs up.
    await rawRequest({ host: "127.0.0.1", port, parts: [head, content.slice(0, 10), 300], timeoutMs: 600 });
    await Bun.sleep(200);
    const status = await fetch(`${server.url}${location}`, { headers: { Authorization: server.authHeader } });
    expect(status.status).toBe(204);
    const held = Number(status.headers.get("range")!.split("-")[1]) + 1;
    expect(held).toBe(10);
    const rest = await fetch(`${server.url}${location}?digest=${sha256Digest(content)}`, {
      method: "PUT",
      body: content.slice(held),
      headers: { Authorization: server.authHeader, "Content-Range": `${held}-${content.length - 1}` },
    });
    expect(rest.status).toBe(201);
  }, 30_000);
});
