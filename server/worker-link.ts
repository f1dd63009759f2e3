/**
 * @module A worker's end of the supervisor's IPC channel (see
 * supervisor.ts): it says when it is ready, answers the supervisor's
 * requests for its metrics, asks for the other workers' metrics when it is
 * scraped, and notices when the supervisor is gone (killed with -9), so no
 * orphan keeps the port.
 */
import type { WorkerMessage } from "./supervisor.ts";

/** How long a scrape waits for the other workers' series before answering with what it has. */
const GATHER_WAIT_MS = 3000;
const ORPHAN_CHECK_MS = 1000;

/** The channel, as the worker uses it. */
export interface WorkerLink {
  /** Tells the supervisor this worker listens. */
  ready(): void;
  /** The other workers' metrics expositions (those that answered in time). */
  gather(): Promise<string[]>;
}

/**
 * Connects to the supervisor. `render` gives this worker's own metrics;
 * `orphaned` runs once if the supervisor dies.
 */
export function linkToSupervisor(render: () => Promise<string>, orphaned: () => void): WorkerLink {
  const pending = new Map<number, (texts: string[]) => void>();
  let seq = 0;
  const send = (message: WorkerMessage) => {
    try {
      process.send?.(message);
    } catch {
      // The channel closed: the orphan check ends this worker.
    }
  };
  process.on("message", (raw) => {
    const message = raw as WorkerMessage;
    if (message.t === "collect") {
      render().then(
        (text) => send({ t: "exposition", n: message.n, text }),
        () => send({ t: "exposition", n: message.n, text: "" }),
      );
    } else if (message.t === "gathered") {
      pending.get(message.n)?.(message.texts);
      pending.delete(message.n);
    }
  });
  const parent = process.ppid;
  const watch = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(watch);
      orphaned();
    }
  }, ORPHAN_CHECK_MS);
  watch.unref();
  return {
    ready: () => send({ t: "ready" }),
    gather() {
      const n = ++seq;
      return new Promise<string[]>((resolve) => {
        const timer = setTimeout(() => {
          pending.delete(n);
          resolve([]);
        }, GATHER_WAIT_MS);
        pending.set(n, (texts) => {
          clearTimeout(timer);
          resolve(texts);
        });
        send({ t: "gather", n });
      });
    },
  };
}
