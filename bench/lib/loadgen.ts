/**
 * @module A closed-loop HTTP/1.1 load generator on raw keep-alive sockets,
 * run as its own process: N connections each send a request, wait for the
 * whole answer, and send the next, for a fixed time. It exists because wrk
 * (Debian's 4.1) hangs on HEAD answers that carry a Content-Length.
 * Usage: bun loadgen.ts URL METHOD CONNECTIONS SECONDS, with extra request
 * headers as JSON in BENCH_HEADERS; prints its measurements as JSON.
 */
const [rawUrl, method = "GET", connArg = "32", secArg = "10"] = process.argv.slice(2);
if (!rawUrl) {
  console.error("usage: loadgen.ts URL METHOD CONNECTIONS SECONDS");
  process.exit(2);
}
const url = new URL(rawUrl);
const headers = JSON.parse(process.env.BENCH_HEADERS ?? "{}") as Record<string, string>;
const request = Buffer.from(
  `${method} ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("")}\r\n`,
);
const connections = Number(connArg);
const durationMs = Number(secArg) * 1000;
const HEADER_END = Buffer.from("\r\n\r\n");
const CHUNKED_END = Buffer.from("\r\n0\r\n\r\n");

let latencies = new Float64Array(1 << 16);
let count = 0;
let errors = 0;
let open = 0;
const started = performance.now();
const deadline = started + durationMs;

function record(ms: number, ok: boolean): void {
  if (count === latencies.length) {
    const bigger = new Float64Array(latencies.length * 2);
    bigger.set(latencies);
    latencies = bigger;
  }
  latencies[count++] = ms;
  if (!ok) errors++;
}

/** Bytes a complete answer takes at the start of `buf`, or 0 when more are needed. */
function answerLength(buf: Buffer): { length: number; status: number } {
  const end = buf.indexOf(HEADER_END);
  if (end < 0) return { length: 0, status: 0 };
  const head = buf.toString("latin1", 0, end).toLowerCase();
  const status = Number(head.slice(9, 12));
  const bodyStart = end + 4;
  if (method === "HEAD" || status === 204 || status === 304) return { length: bodyStart, status };
  const cl = /\r\ncontent-length:\s*(\d+)/.exec(head);
  if (cl) {
    const total = bodyStart + Number(cl[1]);
    return { length: buf.length >= total ? total : 0, status };
  }
  if (head.includes("transfer-encoding: chunked")) {
    const at = buf.indexOf(CHUNKED_END, bodyStart - 2);
    return { length: at < 0 ? 0 : at + CHUNKED_END.length, status };
  }
  throw new Error("answer without a length");
}

const done = new Promise<void>((resolve) => {
  for (let i = 0; i < connections; i++) {
    let pending: Buffer = Buffer.alloc(0);
    let sentAt = 0;
    let finished = false;
    open++;
    const finish = (socket: { end(): void } | null) => {
      if (finished) return;
      finished = true;
      socket?.end();
      if (--open === 0) resolve();
    };
    void Bun.connect({
      hostname: url.hostname,
      port: Number(url.port),
      socket: {
        open(socket) {
          sentAt = performance.now();
          socket.write(request);
        },
        data(socket, chunk) {
          pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
          for (;;) {
            const { length, status } = answerLength(pending);
            if (length === 0) return;
            const now = performance.now();
            record(now - sentAt, status >= 200 && status < 400);
            pending = pending.subarray(length);
            if (now >= deadline) return finish(socket);
            sentAt = now;
            socket.write(request);
          }
        },
        close() {
          if (!finished && performance.now() < deadline) errors++;
          finish(null);
        },
        error() {
          errors++;
        },
      },
    }).catch(() => {
      errors++;
      finish(null);
    });
  }
});
await done;
const seconds = (performance.now() - started) / 1000;
const sorted = latencies.subarray(0, count).sort();
const pct = (p: number) => (count === 0 ? 0 : sorted[Math.min(count - 1, Math.floor((p / 100) * count))]!);
console.log(JSON.stringify({ requests: count, seconds, rps: count / seconds, p50Ms: pct(50), p99Ms: pct(99), errors }));
export {};
