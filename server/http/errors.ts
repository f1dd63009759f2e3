/**
 * @module Every lib/ error code mapped once to its HTTP status and OCI wire
 * code, and the one renderer of the OCI error body.
 */
import { RegistryError, type ErrorCode } from "../../lib/errors.ts";

interface WireError {
  status: number;
  /** The code clients see; several internal codes may share one. */
  code: string;
}

/** Status and wire code of each lib/ error code. */
export const errorTable = {
  ALREADY_EXISTS: { status: 409, code: "ALREADY_EXISTS" },
  BLOB_REFERENCED: { status: 409, code: "BLOB_REFERENCED" },
  BLOB_UNKNOWN: { status: 404, code: "BLOB_UNKNOWN" },
  BLOB_UPLOAD_INVALID: { status: 400, code: "BLOB_UPLOAD_INVALID" },
  BLOB_UPLOAD_UNKNOWN: { status: 404, code: "BLOB_UPLOAD_UNKNOWN" },
  CHUNK_OUT_OF_ORDER: { status: 416, code: "BLOB_UPLOAD_INVALID" },
  CONFLICT: { status: 409, code: "CONFLICT" },
  DENIED: { status: 403, code: "DENIED" },
  DIGEST_INVALID: { status: 400, code: "DIGEST_INVALID" },
  HEADERS_TOO_LARGE: { status: 431, code: "HEADERS_TOO_LARGE" },
  INSUFFICIENT_STORAGE: { status: 507, code: "INSUFFICIENT_STORAGE" },
  INVALID_ARGUMENT: { status: 400, code: "INVALID_ARGUMENT" },
  MANIFEST_BLOB_UNKNOWN: { status: 400, code: "MANIFEST_BLOB_UNKNOWN" },
  MANIFEST_INVALID: { status: 400, code: "MANIFEST_INVALID" },
  MANIFEST_REFERENCED: { status: 409, code: "MANIFEST_REFERENCED" },
  MANIFEST_TOO_LARGE: { status: 413, code: "MANIFEST_INVALID" },
  MANIFEST_UNKNOWN: { status: 404, code: "MANIFEST_UNKNOWN" },
  NAME_INVALID: { status: 400, code: "NAME_INVALID" },
  NAME_UNKNOWN: { status: 404, code: "NAME_UNKNOWN" },
  NOT_FOUND: { status: 404, code: "NOT_FOUND" },
  PAGINATION_NUMBER_INVALID: { status: 400, code: "PAGINATION_NUMBER_INVALID" },
  QUOTA_EXCEEDED: { status: 413, code: "DENIED" },
  RANGE_INVALID: { status: 416, code: "RANGE_INVALID" },
  SIZE_INVALID: { status: 400, code: "SIZE_INVALID" },
  TAG_INVALID: { status: 400, code: "TAG_INVALID" },
  TOO_MANY_REQUESTS: { status: 429, code: "TOOMANYREQUESTS" },
  UNAUTHORIZED: { status: 401, code: "UNAUTHORIZED" },
  UNAVAILABLE: { status: 503, code: "UNAVAILABLE" },
  UNSUPPORTED: { status: 405, code: "UNSUPPORTED" },
} as const satisfies Record<ErrorCode, WireError>;

/** Renders any thrown value as an OCI error response; unexpected errors become a logged 500. */
export function errorResponse(error: unknown, headers: Record<string, string> = {}): Response {
  if (error instanceof RegistryError) {
    const wire = errorTable[error.code];
    const body = { errors: [{ code: wire.code, message: error.message, detail: publicDetail(error.detail) }] };
    return Response.json(body, { status: wire.status, headers: { ...headers, ...extraHeaders(error) } });
  }
  console.error("internal error:", error);
  const body = { errors: [{ code: "UNKNOWN", message: "internal server error", detail: null }] };
  return Response.json(body, { status: 500 });
}

/** Renders any thrown value as a /v1 error: `{"error": "..."}`. */
export function jsonErrorResponse(error: unknown): Response {
  if (error instanceof RegistryError) {
    return Response.json({ error: error.message }, { status: errorTable[error.code].status, headers: extraHeaders(error) });
  }
  console.error("internal error:", error);
  return Response.json({ error: "internal server error" }, { status: 500 });
}

/** Error details as clients see them: the challenge travels as a header, not in the body. */
function publicDetail(detail: unknown): unknown {
  if (typeof detail !== "object" || detail === null || !("challenge" in detail)) return detail ?? null;
  const { challenge: _challenge, ...rest } = detail as Record<string, unknown>;
  return Object.keys(rest).length > 0 ? rest : null;
}

/**
 * A 416 on an upload tells the client how much the server holds, so it can
 * resume; a 416 on a blob read tells it the blob's size; a 401 carries
 * its challenge and a 429 or 503 says when to retry.
 */
function extraHeaders(error: RegistryError): Record<string, string> {
  const detail = error.detail as { size?: unknown; challenge?: unknown; retryAfter?: unknown } | undefined;
  if (error.code === "UNAUTHORIZED" && typeof detail?.challenge === "string") return { "WWW-Authenticate": detail.challenge };
  if ((error.code === "TOO_MANY_REQUESTS" || error.code === "UNAVAILABLE") && typeof detail?.retryAfter === "number") {
    return { "Retry-After": String(detail.retryAfter) };
  }
  const size = detail?.size;
  if (typeof size !== "number") return {};
  if (error.code === "CHUNK_OUT_OF_ORDER") return { Range: `0-${Math.max(0, size - 1)}` };
  if (error.code === "RANGE_INVALID") return { "Content-Range": `bytes */${size}` };
  return {};
}
