/**
 * @module `mcr serve --workers N`: one supervisor process starts N worker
 * processes that share the port (reusePort: the kernel spreads new
 * connections over them) and the data directory. It restarts a worker
 * that dies, passes SIGHUP on (each worker reloads its certificate), and
 * on SIGTERM stops every worker gracefully and waits for them. It holds
 * no registry state: it only relays messages, e.g. a /metrics scrape
 * gathering every worker's series.
 */
import type { Subprocess } from "bun";
import type { Logger } from "./observability/logger.ts";

/** What a worker and the supervisor tell each other over the IPC channel. */
export type WorkerMessage =
  | { t: "ready" }
  | { t: "gather"; n: number }
  | { t: "collect"; n: number }
  | { t: "exposition"; n: number; text: string }
  | { t: "gathered"; n: number; texts: string[] };

/** How to run the workers. */
export interface SupervisorOptions {
  workers: number;
  /** The command line of one worker (this program again, with the same arguments). */
  command: string[];
  /** Environment of every worker; MCR_WORKER_ID is added. */
  env: Record<string, string | undefined>;
  logger: Logger;
  /** How long to wait for a worker to stop after SIGTERM before killing it (its own deadline, plus a margin). */
  stopTimeoutMs: number;
}

/** A running set of workers. */
export interface Supervisor {
  /** Resolves once every worker listens; rejects when one dies before it does. */
  ready: Promise<void>;
  /** Sends SIGHUP to every worker. */
  reload(): void;
  /** SIGTERM to every worker, then waits for all to exit (SIGKILL past the timeout). */
  stop(): Promise<void>;
}

/** Restart delays grow while a worker keeps dying young, up to this. */
const MAX_BACKOFF_MS = 10_000;
/** A worker that lived this long is healthy again: its next restart is immediate. */
const HEALTHY_AFTER_MS = 10_000;
/** How long a metrics scrape waits for the other workers. */
const GATHER_TIMEOUT_MS = 2000;

interface Slot {
  id: number;
  proc: Subprocess | null;
  ready: boolean;
  startedAt: number;
  backoff: number;
}

/** Starts the workers and keeps them running until `stop`. */
export function superviseWorkers(options: SupervisorOptions): Supervisor {
  const { logger } = options;
  const slots: Slot[] = Array.from({ length: options.workers }, (_, i) => ({ id: i + 1, proc: null, ready: false, startedAt: 0, backoff: 0 }));
  let stopping = false;
  let started = false;
  let resolveReady!: () => void;
  let rejectReady!: (error: Error) => void;
  const ready = new Promise<void>((resolve, reject) => ((resolveReady = resolve), (rejectReady = reject)));
  let gatherSeq = 0;
  /** Scrapes in progress: who asked (and under which number), what came back, who has yet to answer. */
  const gathers = new Map<number, { from: Slot; ask: number; texts: string[]; waiting: Set<number>; timer: Timer }>();

  const send = (slot: Slot, message: WorkerMessage) => {
    try {
      slot.proc?.send(message);
    } catch {
      // Gone meanwhile: its exit handler deals with it.
    }
  };

  const finishGather = (n: number) => {
    const gather = gathers.get(n);
    if (!gather) return;
    gathers.delete(n);
    clearTimeout(gather.timer);
    send(gather.from, { t: "gathered", n: gather.ask, texts: gather.texts });
  };

  const onMessage = (slot: Slot, message: WorkerMessage) => {
    if (message.t === "ready") {
      slot.ready = true;
      logger.info(`worker ${slot.id} ready (pid ${slot.proc?.pid})`, { worker: slot.id });
      if (!started && slots.every((s) => s.ready)) {
        started = true;
        resolveReady();
      }
    } else if (message.t === "gather") {
      const others = slots.filter((s) => s !== slot && s.ready && s.proc);
      const n = ++gatherSeq;
      const timer = setTimeout(() => finishGather(n), GATHER_TIMEOUT_MS);
      gathers.set(n, { from: slot, ask: message.n, texts: [], waiting: new Set(others.map((s) => s.id)), timer });
      for (const other of others) send(other, { t: "collect", n });
      if (others.length === 0) finishGather(n);
    } else if (message.t === "exposition") {
      const gather = gathers.get(message.n);
      if (!gather) return;
      gather.texts.push(message.text);
      gather.waiting.delete(slot.id);
      if (gather.waiting.size === 0) finishGather(message.n);
    }
  };

  const spawn = (slot: Slot) => {
    slot.ready = false;
    slot.startedAt = Date.now();
    const proc = Bun.spawn(options.command, {
      env: { ...options.env, MCR_WORKER_ID: String(slot.id) },
      stdin: "ignore",
      stdout: "inherit",
      stderr: "inherit",
      ipc: (message) => onMessage(slot, message as WorkerMessage),
      onExit: (_proc, code, signal) => onExit(slot, code, signal),
    });
    slot.proc = proc;
    logger.info(`worker ${slot.id} started (pid ${proc.pid})`, { worker: slot.id, pid: proc.pid });
  };

  const onExit = (slot: Slot, code: number | null, signal: number | string | null) => {
    slot.proc = null;
    const wasReady = slot.ready;
    slot.ready = false;
    for (const [n, gather] of gathers) {
      if (gather.waiting.delete(slot.id) && gather.waiting.size === 0) finishGather(n);
    }
    if (stopping) return;
    const how = signal ? `signal ${signal}` : `code ${code}`;
    if (!started && !wasReady) {
      // A worker that cannot start (bad configuration, port taken) would only die again.
      logger.error(`worker ${slot.id} exited with ${how} before it was ready`, { worker: slot.id });
      rejectReady(new Error(`worker ${slot.id} exited with ${how} before it was ready`));
      return;
    }
    const lived = Date.now() - slot.startedAt;
    slot.backoff = lived >= HEALTHY_AFTER_MS ? 0 : Math.min(MAX_BACKOFF_MS, Math.max(100, slot.backoff * 2));
    logger.warn(`worker ${slot.id} exited with ${how}; restarting in ${slot.backoff} ms`, { worker: slot.id });
    setTimeout(() => !stopping && spawn(slot), slot.backoff);
  };

  for (const slot of slots) spawn(slot);
  return {
    ready,
    reload() {
      for (const slot of slots) slot.proc?.kill("SIGHUP");
    },
    async stop() {
      stopping = true;
      const running = slots.map((s) => s.proc).filter((p): p is Subprocess => p !== null);
      for (const proc of running) proc.kill("SIGTERM");
      const killer = setTimeout(() => running.forEach((p) => p.kill("SIGKILL")), options.stopTimeoutMs);
      await Promise.all(running.map((p) => p.exited));
      clearTimeout(killer);
    },
  };
}

/** The command that runs this program again with the same arguments (a compiled binary, or bun and the entry script). */
export function selfCommand(): string[] {
  const args = process.argv.slice(2);
  // A compiled binary's entry lives in Bun's embedded file system and is not passed again.
  const compiled = Bun.main.startsWith("/$bunfs/") || /^[A-Z]:[\\/]~BUN[\\/]/.test(Bun.main);
  return compiled ? [process.execPath, ...args] : [process.execPath, Bun.main, ...args];
}
