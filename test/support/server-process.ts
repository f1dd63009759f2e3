/**
 * @module A real `mcr serve` in a child process for end-to-end tests: started
 * on a free port and a temp data dir, with its memory readable from /proc.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ADMIN_AUTH, TEST_ADMIN } from "./credentials.ts";
import { tempDir } from "./temp.ts";

/** How to start the server; `cmd` replaces `bun cli/main.ts` (e.g. `["dist/mcr"]`). */
export interface ServerProcessOptions {
  dataDir?: string;
  cmd?: string[];
  /** Replaces `--listen 127.0.0.1:0 --data DIR` (e.g. `--config FILE`). */
  args?: string[];
  /** Added to the environment. */
  env?: Record<string, string>;
  /** Working directory of the process (default: the repository root). */
  cwd?: string;
  /** Sees every line the process writes (stderr lines prefixed `[stderr] `). */
  onLine?: (line: string) => void;
  /** How long to wait for the "listening" line, in milliseconds. */
  startTimeoutMs?: number;
}

/** A running server process. */
export interface ServerProcess {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  url: string;
  /** `HOST:PORT`, the form clients put in image references. */
  host: string;
  pid: number;
  dataDir: string;
  /** The admin account the server was started with (MCR_ADMIN_PASSWORD). */
  username: string;
  password: string;
  /** The admin's `Authorization: Basic` value. */
  authHeader: string;
  /** The last lines the process wrote to stdout and stderr. */
  output(): string;
  /** SIGTERM, wait for exit; SIGKILL if it has not exited after a few seconds. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash would: no cleanup runs. Resolves once the process is gone. */
  kill(): Promise<void>;
  /** Resolves with the exit code when the process ends. */
  exited: Promise<number>;
  /** Resident set size now (VmRSS), in bytes. */
  rssBytes(): number;
  /** Peak resident set size so far (VmHWM), in bytes. */
  peakRssBytes(): number;
}

const ROOT = join(import.meta.dir, "..", "..");
const KEEP_LINES = 200;
const KILL_AFTER_MS = 5000;
const LISTENING = /^mcr listening on (https?:\/\/(\S+)) \(data: /;

/** The last `KEEP_LINES` lines of a process's output, kept as it streams. */
class LineTail {
  readonly lines: string[] = [];
  private waiters: ((line: string) => void)[] = [];

  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > KEEP_LINES) this.lines.shift();
    for (const waiter of this.waiters) waiter(line);
  }

  onLine(waiter: (line: string) => void): void {
    this.waiters.push(waiter);
  }

  text(): string {
    return this.lines.join("\n");
  }
}

/** Reads a stream to its end, line by line, so the pipe never fills. */
async function drain(stream: ReadableStream<Uint8Array>, tail: LineTail, prefix: string): Promise<void> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of stream) {
    pending += decoder.decode(chunk, { stream: true });
    const parts = pending.split("\n");
    pending = parts.pop() ?? "";
    for (const line of parts) tail.push(prefix + line);
  }
  if (pending !== "") tail.push(prefix + pending);
}

/** Reads one `kB` field of /proc/PID/status, in bytes. */
export function procStatusBytes(pid: number, field: "VmRSS" | "VmHWM"): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
  if (!match?.[1]) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** Starts `mcr serve` on 127.0.0.1 port 0 and waits until it is listening. */
export async function startServerProcess(opts: ServerProcessOptions = {}): Promise<ServerProcess> {
  const dataDir = opts.dataDir ?? tempDir("server-");
  const cmd = opts.cmd ?? [process.execPath, join(ROOT, "cli", "main.ts")];
  const args = opts.args ?? ["--listen", "127.0.0.1:0", "--data", dataDir];
  const proc = Bun.spawn([...cmd, "serve", ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, MCR_ADMIN_PASSWORD: TEST_ADMIN.password, ...opts.env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const tail = new LineTail();
  if (opts.onLine) tail.onLine(opts.onLine);
  const listening = new Promise<string>((resolve) => {
    tail.onLine((line) => {
      const url = LISTENING.exec(line)?.[1];
      if (url) resolve(url);
    });
  });
  void drain(proc.stdout, tail, "");
  void drain(proc.stderr, tail, "[stderr] ");

  const timeoutMs = opts.startTimeoutMs ?? 15_000;
  let timer: Timer | undefined;
  const failed = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`server not listening after ${timeoutMs} ms`)), timeoutMs);
    void proc.exited.then((code) => reject(new Error(`server exited with ${code} before listening`)));
  });
  // Race attaches handlers to both, so a later exit is no unhandled rejection.
  let url: string;
  try {
    url = await Promise.race([listening, failed]);
  } catch (error) {
    proc.kill("SIGKILL");
    await proc.exited;
    throw new Error(`${(error as Error).message}; command: ${cmd.join(" ")}\n${tail.text()}`);
  } finally {
    clearTimeout(timer);
  }

  const pid = proc.pid;
  return {
    url,
    host: new URL(url).host,
    pid,
    dataDir,
    username: TEST_ADMIN.username,
    password: TEST_ADMIN.password,
    authHeader: ADMIN_AUTH,
    output: () => tail.text(),
    exited: proc.exited,
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
      await proc.exited;
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill("SIGTERM");
      const killer = setTimeout(() => proc.kill("SIGKILL"), KILL_AFTER_MS);
      await proc.exited;
      clearTimeout(killer);
    },
    rssBytes: () => procStatusBytes(pid, "VmRSS"),
    peakRssBytes: () => procStatusBytes(pid, "VmHWM"),
  };
}
