/**
 * @module The one error type lib/ throws for anything a caller did wrong.
 * It carries a code from a closed set and knows nothing of HTTP: server/
 * maps each code to a status and wire code in one table.
 */

/** Every failure lib/ reports to callers, named for what went wrong. */
export const errorCodes = [
  "ALREADY_EXISTS",
  "BLOB_REFERENCED",
  "BLOB_UNKNOWN",
  "BLOB_UPLOAD_INVALID",
  "BLOB_UPLOAD_UNKNOWN",
  "CHUNK_OUT_OF_ORDER",
  "CONFLICT",
  "DENIED",
  "DIGEST_INVALID",
  "HEADERS_TOO_LARGE",
  "INSUFFICIENT_STORAGE",
  "INVALID_ARGUMENT",
  "MANIFEST_BLOB_UNKNOWN",
  "MANIFEST_INVALID",
  "MANIFEST_REFERENCED",
  "MANIFEST_TOO_LARGE",
  "MANIFEST_UNKNOWN",
  "NAME_INVALID",
  "NAME_UNKNOWN",
  "NOT_FOUND",
  "PAGINATION_NUMBER_INVALID",
  "QUOTA_EXCEEDED",
  "RANGE_INVALID",
  "SIZE_INVALID",
  "TAG_INVALID",
  "TOO_MANY_REQUESTS",
  "UNAUTHORIZED",
  "UNAVAILABLE",
  "UNSUPPORTED",
] as const;
export type ErrorCode = (typeof errorCodes)[number];

/** A domain error: `code` says what, `message` says it for people, `detail` is structured context. */
export class RegistryError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly detail?: unknown,
  ) {
    super(message);
    this.name = "RegistryError";
  }
}

/** Shorthand for `new RegistryError(...)` where a throw expression reads better. */
export function fail(code: ErrorCode, message: string, detail?: unknown): never {
  throw new RegistryError(code, message, detail);
}
