/**
 * @module Reading the Authorization header: Basic credentials or a bearer
 * token, with limits so a hostile header costs nothing.
 */
import { fail } from "../../lib/errors.ts";

/** What a request presented. */
export type Credentials =
  | { scheme: "basic"; username: string; secret: string }
  | { scheme: "bearer"; token: string };

const MAX_HEADER = 8192;

/** The credentials in `header`, null when there is none; throws UNAUTHORIZED when malformed. */
export function parseAuthorization(header: string | null): Credentials | null {
  if (header === null || header.trim() === "") return null;
  if (header.length > MAX_HEADER) fail("UNAUTHORIZED", "Authorization header too long");
  const match = /^(\S+)\s+(\S+)$/.exec(header.trim());
  if (!match) fail("UNAUTHORIZED", "malformed Authorization header");
  const scheme = match[1]!.toLowerCase();
  const value = match[2]!;
  if (scheme === "bearer") return { scheme: "bearer", token: value };
  if (scheme !== "basic") fail("UNAUTHORIZED", "unsupported authorization scheme");
  if (!/^[A-Za-z0-9+/]+=*$/.test(value)) fail("UNAUTHORIZED", "malformed Basic credentials");
  const decoded = Buffer.from(value, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon <= 0) fail("UNAUTHORIZED", "malformed Basic credentials");
  return { scheme: "basic", username: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}
