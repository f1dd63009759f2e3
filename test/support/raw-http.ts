/**
 * @module HTTP/1.1 over a raw TCP socket, for tests that must send exactly
 * the bytes they mean (malformed request lines, lying Content-Length, NUL
 * bytes, slow bodies) where fetch would normalise or refuse them.
 */

/** What came back: null fields when the server sent nothing parseable before the deadline. */
export interface RawResponse {
  status: number | null;
  headers: Headers;
  body: Uint8Array;
  /** The connection ended (by the server or the deadline) before a complete response arrived. */
  timedOut: boolean;
  /** Milliseconds from connect to the end of the response (or the deadline). */
  ms: number;
}

/** One raw request: the bytes to write, possibly in timed pieces. */
export interface RawRequest {
  host: string;
  port: number;
  /** Written in order; a number is a pause in milliseconds. */
  parts: (string | Uint8Array | number)[];
  /** Give up this long after connecting. */
  timeoutMs: number;
}

/** Builds the head of a request: request line, Host, Connection: close, then `headers` in order. */
export function requestHead(method: string, target: string, host: string, headers: [string, string][] = []): string {
  const lines = [`${method} ${target} HTTP/1.1`, `Host: ${host}`, "Connection: close", ...headers.map(([k, v]) => `${k}: ${v}`)];
  return `${lines.join("\r\n")}\r\n\r\n`;
}

/** Sends a request on a fresh connection and reads until the server closes it or the deadline passes. */
export async function rawRequest(req: RawRequest): Promise<RawResponse> {
  const started = performance.now();
  const chunks: Uint8Array[] = [];
  let closed!: () => void;
  const done = new Promise<void>((resolve) => (closed = resolve));
  const socket = await Bun.connect({
    hostname: req.host,
    port: req.port,
    socket: {
      data(_s, data) {
        chunks.push(new Uint8Array(data));
      },
      close: () => closed(),
      end: () => closed(),
      error: () => closed(),
      connectError: () => closed(),
    },
  });
  const timer = setTimeout(() => closed(), req.timeoutMs);
  const writing = (async () => {
    for (const part of req.parts) {
      if (typeof part === "number") await Bun.sleep(part);
      else await writeAll(socket, typeof part === "string" ? new TextEncoder().encode(part) : part);
    }
  })().catch(() => {});
  await done;
  clearTimeout(timer);
  socket.end();
  await writing;
  return parseResponse(concat(chunks), performance.now() - started);
}

/** Writes all of `bytes`, waiting for the socket to drain when the kernel buffer is full. */
async function writeAll(socket: Bun.Socket<undefined>, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) {
    const written = socket.write(bytes.subarray(offset));
    if (written < 0) throw new Error("socket closed");
    offset += written;
    if (offset < bytes.byteLength) await Bun.sleep(1);
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Parses the first response in `bytes` (Content-Length or chunked body, or up to the end). */
export function parseResponse(bytes: Uint8Array, ms: number): RawResponse {
  const text = new TextDecoder("latin1").decode(bytes);
  const headEnd = text.indexOf("\r\n\r\n");
  const statusMatch = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  if (headEnd < 0 || !statusMatch) return { status: null, headers: new Headers(), body: new Uint8Array(), timedOut: true, ms };
  const headers = new Headers();
  for (const line of text.slice(0, headEnd).split("\r\n").slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  let body = bytes.subarray(headEnd + 4);
  let complete = true;
  const length = headers.get("content-length");
  if (headers.get("transfer-encoding")?.toLowerCase() === "chunked") {
    ({ body, complete } = dechunk(body));
  } else if (length !== null && /^\d+$/.test(length)) {
    complete = body.byteLength >= Number(length);
    body = body.subarray(0, Number(length));
  }
  return { status: Number(statusMatch[1]), headers, body, timedOut: !complete, ms };
}

function dechunk(bytes: Uint8Array): { body: Uint8Array; complete: boolean } {
  const parts: Uint8Array[] = [];
  const text = new TextDecoder("latin1").decode(bytes);
  let at = 0;
  for (;;) {
    const lineEnd = text.indexOf("\r\n", at);
    if (lineEnd < 0) return { body: concat(parts), complete: false };
    const size = parseInt(text.slice(at, lineEnd), 16);
    if (!Number.isFinite(size)) return { body: concat(parts), complete: false };
    if (size === 0) return { body: concat(parts), complete: true };
    parts.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}
