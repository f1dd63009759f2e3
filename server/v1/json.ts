/**
 * @module JSON request bodies for the /v1 API, bounded and checked.
 */
import { fail } from "../../lib/errors.ts";
import { readBody } from "../http/body.ts";

const MAX_JSON_BYTES = 1024 * 1024;

/** The most a body read before anyone logged in may hold: a user name and a password fit many times over. */
export const MAX_UNAUTHENTICATED_JSON_BYTES = 16 * 1024;

/** The body as a JSON object of at most `limit` bytes; throws INVALID_ARGUMENT otherwise. */
export async function readJson(req: Request, limit = MAX_JSON_BYTES): Promise<Record<string, unknown>> {
  const bytes = await readBody(req, limit, "INVALID_ARGUMENT");
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // answered below
  }
  fail("INVALID_ARGUMENT", "the body must be a JSON object");
}

/** A string field of a JSON body, or undefined; throws INVALID_ARGUMENT for another type. */
export function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") fail("INVALID_ARGUMENT", `${field} must be a string`);
  return value;
}
