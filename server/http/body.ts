/**
 * @module Request bodies as lib/ wants them: a byte stream for blobs (never
 * buffered whole), or a bounded buffer for manifests.
 */
import { fail, type ErrorCode } from "../../lib/errors.ts";

const EMPTY: AsyncIterable<Uint8Array> = { async *[Symbol.asyncIterator]() {} };

/**
 * The request body as a stream of chunks; `limit` bytes at most when
 * given. A client that hangs up mid-body surfaces as BLOB_UPLOAD_INVALID,
 * not as an internal error.
 */
export function bodyStream(req: Request, limit?: number): AsyncIterable<Uint8Array> {
  const body = req.body;
  if (!body) return EMPTY;
  const stream = untilDisconnect(body);
  if (limit === undefined) return stream;
  return capped(stream, limit, "SIZE_INVALID", "request body is longer than its Content-Range or Content-Length");
}

async function* untilDisconnect(body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  try {
    yield* body;
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
