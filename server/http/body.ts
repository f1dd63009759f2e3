/**
 * @module Request bodies as lib/ wants them: a byte stream for blobs (never
 * buffered whole), or a bounded buffer for manifests.
 */
import { fail, type ErrorCode } from "../../lib/errors.ts";

const EMPTY: AsyncIterable<Uint8Array> = { async *[Symbol.asyncIterator]() {} };

/** The request body as a stream of chunks; `limit` bytes at most when given. */
export function bodyStream(req: Request, limit?: number): AsyncIterable<Uint8Array> {
  const body = req.body;
  if (!body) return EMPTY;
  if (limit === undefined) return body;
  return capped(body, limit, "SIZE_INVALID", "request body is longer than its Content-Range or Content-Length");
}

/** Reads the whole body, throwing `code` as soon as it passes `limit` bytes. */
export async function readBody(req: Request, limit: number, code: ErrorCode): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > limit) fail(code, `request body larger than ${limit} bytes`, { size: declared, limit });
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of capped(req.body ?? EMPTY, limit, code, `request body larger than ${limit} bytes`)) {
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
