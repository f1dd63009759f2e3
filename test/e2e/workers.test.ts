/**
 * @module `mcr serve --workers 2`: one port, two processes under a
 * supervisor. A chunked upload whose PATCHes land on both workers makes
 * the right blob; a worker killed with -9 is restarted while the other
 * keeps serving; /metrics on any worker shows both, labelled; SIGHUP
 * reaches every worker; SIGTERM stops them all gracefully.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { sha256Digest } from "../../lib/oci/digest.ts";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";

// Real processes, and the whole suite may run on a loaded machine: more than the default 5 s.
setDefaultTimeout(120_000);

let server: ServerProcess;
const lines: string[] = [];

beforeAll(async () => {
  server = await startServerProcess({ args: ["--listen", "127.0.0.1:0", "--workers", "2", "--data", (await import("../support/temp.ts")).tempDir("workers-")], onLine: (l) => lines.push(l) });
});
afterAll(() => server.stop());

/** A request on a connection of its own, so the kernel picks a worker for each. */
function fresh(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("Authorization", server.authHeader);
  headers.set("Connection", "close");
  return fetch(`${server.url}${path}`, { ...init, headers, keepalive: false });
}

/** Worker numbers and pids as the supervisor reported them ready. */
function readyPids(): Map<number, number> {
  const pids = new Map<number, number>();
  for (const line of lines) {
    const m = /^worker (\d+) ready \(pid (\d+)\)/.exec(line);
    if (m) pids.set(Number(m[1]), Number(m[2]));
  }
  return pids;
}

async function waitFor(what: string, check: () => boolean, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n${lines.slice(-30).join("\n")}`);
    await Bun.sleep(50);
  }
}

describe("mcr serve --workers 2", () => {
  test("a chunked upload whose PATCHes land on both workers makes the right blob", async () => {
    const chunk = 64 * 1024;
    const content = new Uint8Array(40 * chunk).map((_, i) => (i * 7 + (i >> 12)) & 255);
    const digest = sha256Digest(content);
    const start = await fresh("/v2/spread/app/blobs/uploads/", { method: "POST" });
    expect(start.status).toBe(202);
    const location = start.headers.get("location")!;
    const id = location.split("/").pop()!;
    for (let i = 0; i < 40; i++) {
      const res = await fresh(location, {
        method: "PATCH",
        body: content.subarray(i * chunk, (i + 1) * chunk),
        headers: { "Content-Range": `${i * chunk}-${(i + 1) * chunk - 1}`, "Content-Type": "application/octet-stream" },
      });
      expect(res.status).toBe(202);
      expect(res.headers.get("range")).toBe(`0-${(i + 1) * chunk - 1}`);
    }
    const done = await fresh(`${location}?digest=${digest}`, { method: "PUT" });
    expect(done.status).toBe(201);
    const back = await fresh(`/v2/spread/app/blobs/${digest}`);
    expect(sha256Digest(new Uint8Array(await back.arrayBuffer()))).toBe(digest);
    // Which worker answered each PATCH of this session, from the request log.
    const workers = new Set(lines.filter((l) => l.startsWith("PATCH ") && l.includes(id) && / 202 /.test(l)).map((l) => /worker=(\d+)/.exec(l)?.[1]));
    expect([...workers].sort()).toEqual(["1", "2"]);
  });

  test("/metrics on either worker shows both workers' series, labelled", async () => {
    for (let i = 0; i < 4; i++) {
      const res = await fresh("/metrics");
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toContain('mcr_http_requests_total{worker="1",');
      expect(text).toContain('mcr_http_requests_total{worker="2",');
      // One HELP per family, however many workers report it.
      expect(text.match(/^# HELP mcr_http_requests_total /gm)?.length).toBe(1);
    }
  });

  test("SIGHUP reaches every worker", async () => {
    const before = lines.length;
    process.kill(server.pid, "SIGHUP");
    await waitFor("both workers to see SIGHUP", () => {
      const seen = lines.slice(before).filter((l) => l.includes("SIGHUP received, nothing to reload"));
      return seen.some((l) => l.includes("worker=1")) && seen.some((l) => l.includes("worker=2"));
    });
  });

  test("a worker killed with -9 is restarted, and the other serves meanwhile", async () => {
    const pids = readyPids();
    const victim = pids.get(1)!;
    process.kill(victim, "SIGKILL");
    // Connections the kernel had already queued on the dying worker's socket are reset (a client
    // retries them); once it is gone, every new one goes to a live worker.
    await waitFor("worker 1 to be gone", () => !alive(victim));
    for (let i = 0; i < 20; i++) expect((await fresh("/v2/")).status).toBe(200);
    await waitFor("worker 1 to be ready again", () => {
      const now = readyPids().get(1);
      return now !== undefined && now !== victim;
    });
    expect(lines.some((l) => /worker 1 exited with signal SIGKILL; restarting/.test(l))).toBe(true);
    for (let i = 0; i < 10; i++) expect((await fresh("/v2/")).status).toBe(200);
  });

  test("SIGTERM stops every worker and then the supervisor, cleanly", async () => {
    const pids = [...readyPids().values()];
    const latest = new Map<number, number>();
    for (const [w, pid] of readyPids()) latest.set(w, pid);
    await server.stop();
    expect(await server.exited).toBe(0);
    for (const pid of latest.values()) expect(alive(pid)).toBe(false);
    expect(pids.length).toBeGreaterThanOrEqual(2);
    // The pipe may still hold the last lines when the process is gone.
    await waitFor("the last lines", () => lines.at(-1) === "mcr: stopped", 5000);
    const stopped = lines.filter((l) => /^mcr: stopped worker=\d/.test(l));
    expect(new Set(stopped.map((l) => l.slice(-1)))).toEqual(new Set(["1", "2"]));
  });
});

describe("mcr serve --workers 2 on a port already taken", () => {
  test("refuses to start, rather than sharing the port with a stranger through reusePort", async () => {
    const stranger = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const dataDir = (await import("../support/temp.ts")).tempDir("workers-taken-");
      const run = Bun.spawn([process.execPath, "cli/main.ts", "serve", "--listen", `127.0.0.1:${stranger.port}`, "--data", dataDir, "--workers", "2"], {
        cwd: `${import.meta.dir}/../..`,
        env: { ...process.env, MCR_ADMIN_PASSWORD: server.password },
        stdout: "pipe",
        stderr: "pipe",
      });
      expect(await run.exited).toBe(1);
      expect(await new Response(run.stderr).text()).toContain("Failed to listen");
    } finally {
      stranger.stop(true);
    }
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
