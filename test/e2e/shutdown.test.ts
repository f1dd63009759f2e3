/**
 * @module Graceful shutdown of a real `mcr serve`: on SIGTERM it stops
 * accepting, lets a request in flight finish, closes one still running at
 * the deadline, and that cut-off upload resumes after a restart.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { sha256Digest } from "../../lib/oci/digest.ts";
import { startServerProcess } from "../support/server-process.ts";
import { tempDir } from "../support/temp.ts";

// Real processes, and the whole suite may run on a loaded machine: more than the default 5 s.
setDefaultTimeout(120_000);

const CHUNK = 64 * 1024;

/** A request body that sends `first` bytes, then waits for `release` before sending `rest` (never, if it is not called). */
function gatedBody(first: Uint8Array, rest: Uint8Array) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let step = 0;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (step++ === 0) return controller.enqueue(first);
      await gate;
      if (rest.byteLength > 0) controller.enqueue(rest);
      controller.close();
    },
  });
  return { stream, release };
}

describe("SIGTERM", () => {
  test("finishes requests in flight, cuts the rest at the deadline, and the cut upload resumes after a restart", async () => {
    const dataDir = tempDir("shutdown-");
    const env = { MCR_SERVER_SHUTDOWN_TIMEOUT: "1500ms" };
    const first = await startServerProcess({ dataDir, env });
    const auth = { Authorization: first.authHeader };
    const content = new Uint8Array(4 * CHUNK).map((_, i) => (i * 31) % 253);
    const digest = sha256Digest(content);

    const open = async (name: string) => {
      const res = await fetch(`${first.url}/v2/${name}/blobs/uploads/`, { method: "POST", headers: auth });
      expect(res.status).toBe(202);
      return res.headers.get("location")!;
    };
    const stalledAt = await open("down/stalled");
    const finishingAt = await open("down/finishing");

    // One upload stalls after its first 64 KiB and never finishes; the other finishes shortly after SIGTERM.
    const stalled = gatedBody(content.subarray(0, CHUNK), content.subarray(CHUNK));
    const stalledPatch = fetch(`${first.url}${stalledAt}`, { method: "PATCH", headers: auth, body: stalled.stream, duplex: "half" } as RequestInit).then(
      (r) => r.status,
      () => "cut",
    );
    const finishing = gatedBody(content.subarray(0, CHUNK), content.subarray(CHUNK));
    const finishingPatch = fetch(`${first.url}${finishingAt}`, { method: "PATCH", headers: auth, body: finishing.stream, duplex: "half" } as RequestInit);
    await Bun.sleep(300);

    const signalled = Date.now();
    process.kill(first.pid, "SIGTERM");
    await Bun.sleep(200);
    // No new connections once stopping.
    expect(await fetch(`${first.url}/v1/health`).then(() => "served", () => "refused")).toBe("refused");
    finishing.release();
    expect((await finishingPatch).status).toBe(202);

    expect(await first.exited).toBe(0);
    const took = Date.now() - signalled;
    expect(took).toBeGreaterThanOrEqual(1400);
    expect(took).toBeLessThan(10_000);
    expect(await stalledPatch).toBe("cut");
    expect(first.output()).toContain("closed 1 request(s) still running at the deadline");

    // After a restart the cut session holds what arrived and takes the rest.
    const second = await startServerProcess({ dataDir });
    try {
      const status = await fetch(`${second.url}${stalledAt}`, { headers: auth });
      expect(status.status).toBe(204);
      const held = Number(status.headers.get("range")!.split("-")[1]) + 1;
      expect(held).toBe(CHUNK);
      const patch = await fetch(`${second.url}${stalledAt}`, {
        method: "PATCH",
        headers: { ...auth, "Content-Range": `${held}-${content.byteLength - 1}` },
        body: content.subarray(held),
      });
      expect(patch.status).toBe(202);
      const done = await fetch(`${second.url}${stalledAt}?digest=${digest}`, { method: "PUT", headers: auth });
      expect(done.status).toBe(201);
      const back = await fetch(`${second.url}/v2/down/stalled/blobs/${digest}`, { headers: auth });
      expect(sha256Digest(new Uint8Array(await back.arrayBuffer()))).toBe(digest);

      // The upload that finished before the stop kept all its bytes too.
      const other = await fetch(`${second.url}${finishingAt}`, { headers: auth });
      expect(other.headers.get("range")).toBe(`0-${content.byteLength - 1}`);
    } finally {
      await second.stop();
    }
  });
});
