/**
 * @module Request bodies as lib/ wants them: a byte stream for blobs (never
 * buffered whole), or a bounded buffer for manifests.
 */
import { fail, type ErrorCode } from "../../lib/errors.ts";

const EMPTY: AsyncIterable<Uint8Array> = { async *[Symbol.asyncIterator]() {} };

/** Per-request callbacks told the size of each body chunk read (metrics register them). */
const bodyCounters = new WeakMap<Request, (bytes: number) => void>();

/** Calls `count` with the size of every chunk of `req`'s body that a handler reads. */
export function countBodyBytes(req: Request, count: (bytes: number) => void): void {
  bodyCounters.set(req, count);
}

/**
 * The request body as a stream of chunks; `limit` bytes at most when
 * given. A client that hangs up mid-body surfaces as BLOB_UPLOAD_INVALID,
 * not as an internal error.
 */
export function bodyStream(req: Request, limit?: number): AsyncIterable<Uint8Array> {
  const body = req.body;
  if (!body) return EMPTY;
  const stream = untilDisconnect(body, bodyCounters.get(req));
  if (limit === undefined) return stream;
  return capped(stream, limit, "SIZE_INVALID", "request body is longer than its Content-Range or Content-Length");
}

async function* untilDisconnect(body: AsyncIterable<Uint8Array>, count?: (bytes: number) => void): AsyncIterable<Uint8Array> {
  try {
    if (!count) return yield* body;
    for await (const chunk of body) {
      count(chunk.byteLength);
      yield chunk;
    }
  } catch (error) {
    if (error instanceof Error && error.name === "AbortError") {
      fail("BLOB_UPLOAD_INVALID", "the client closed the connection before the body was complete");
    }
    throw error;
  }
}

/** Reads the whole body, throwing `code` as soon as it passes `limit` bytes. */
export async function readBody(req: Request, limit: number, code: ErrorCode): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > limit) fail(code, `request body larger than ${limit} bytes`, { size: declared, limit });
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of capped(bodyStream(req), limit, code, `request body larger than ${limit} bytes`)) {
    parts.push(chunk);
    total += chunk.byteLength;
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

async function* capped(body: AsyncIterable<Uint8Array>, limit: number, code: ErrorCode, message: string): AsyncIterable<Uint8Array> {
  let total = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > limit) fail(code, message, { limit });
    yield chunk;
  }
}
