/**
 * @module Parsing the byte ranges clients send: `Range: bytes=a-b` on blob
 * reads and `Content-Range: a-b` on upload chunks.
 */
import { fail } from "../../lib/errors.ts";
import type { ByteRange } from "../../lib/storage/blob-store.ts";

/**
 * The single range a `Range` header asks of a blob of `size` bytes; null
 * when there is no header or it is not a single byte range (RFC 9110 lets a
 * server ignore those and send the whole blob). Throws RANGE_INVALID when
 * the range lies outside the blob.
 */
export function parseRange(header: string | null, size: number): ByteRange | null {
  if (!header) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === "" && match[2] === "")) return null;
  const [, first = "", last = ""] = match;
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) unsatisfiable(size);
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  if (start >= size || (last !== "" && Number(last) < start)) unsatisfiable(size);
  return { start, end };
}

function unsatisfiable(size: number): never {
  fail("RANGE_INVALID", "requested range not satisfiable", { size });
}

/** The start and end of an upload chunk's `Content-Range` (`a-b`, optionally `bytes a-b`); null when absent. */
export function parseContentRange(header: string | null): ByteRange | null {
  if (header === null) return null;
  const match = /^(?:bytes[ =])?(\d{1,15})-(\d{1,15})(?:\/(?:\d+|\*))?$/.exec(header.trim());
  if (!match) fail("RANGE_INVALID", "malformed Content-Range", { contentRange: header.slice(0, 100) });
  const start = Number(match[1]);
  const end = Number(match[2]);
  if (end < start) fail("RANGE_INVALID", "Content-Range ends before it starts", { contentRange: header });
  return { start, end };
}
