/**
 * @module The request header limit: the request line and every header
 * together, counted as they were on the wire, against `maxHeaderBytes`.
 */
import { fail } from "../../lib/errors.ts";

/** Bytes the request line and headers took (each header as `name: value` and its line end). */
export function headerBytes(req: Request, url: URL): number {
  let total = req.method.length + url.pathname.length + url.search.length + " HTTP/1.1\r\n".length + 2;
  for (const [name, value] of req.headers) total += name.length + value.length + 4;
  return total;
}

/** Throws HEADERS_TOO_LARGE (431) when the request's headers pass `limit` bytes. */
export function checkHeaderSize(req: Request, url: URL, limit: number): void {
  const size = headerBytes(req, url);
  if (size > limit) fail("HEADERS_TOO_LARGE", `request headers are larger than ${limit} bytes`, { size, limit });
}
