/**
 * @module The web UI's session cookie and its CSRF defence. The cookie
 * holds a /v1 session token (same lifetime and revocation as any session)
 * and is `HttpOnly` (scripts cannot read it), `SameSite=Strict` (other
 * sites' requests do not carry it), `Secure` over HTTPS, and scoped to
 * `/v1/`. Every state-changing call made with it must also carry
 * `X-CSRF-Token`, a value derived from the session that only a page of
 * ours can learn (from /v1/ui/session), and must not come from another site.
 */
import { safeEqual } from "../../lib/auth/secrets.ts";
import { fail } from "../../lib/errors.ts";

/** The cookie's name. */
export const SESSION_COOKIE = "mcr_session";
/** The header that carries the CSRF token. */
export const CSRF_HEADER = "x-csrf-token";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** The session token the request's cookie carries, or null. */
export function sessionCookie(req: Request): string | null {
  const header = req.headers.get("cookie");
  if (header === null) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return value === "" ? null : value;
    }
  }
  return null;
}

/** The CSRF token of a session: a hash of it, so it proves knowledge of what only our pages are told. */
export function csrfTokenFor(session: string): string {
  return new Bun.CryptoHasher("sha256").update("mcr-ui-csrf\0").update(session).digest("hex");
}

/** Throws DENIED unless a cookie-authenticated request is safe (a read) or carries the session's CSRF token from our own origin. */
export function checkCsrf(req: Request, session: string): void {
  if (SAFE_METHODS.has(req.method)) return;
  checkSameSite(req);
  const token = req.headers.get(CSRF_HEADER) ?? "";
  if (!safeEqual(token, csrfTokenFor(session))) fail("DENIED", "missing or wrong CSRF token: reload the page");
}

/** Throws DENIED when the browser says the request comes from another site (checked on login, before any cookie exists). */
export function checkSameSite(req: Request): void {
  const site = req.headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin" && site !== "none") fail("DENIED", "cross-site requests are refused");
}

/** The Set-Cookie value that stores `token` for `maxAgeSeconds`. */
export function setSessionCookie(token: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; Path=/v1/; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`;
}

/** The Set-Cookie value that removes the cookie. */
export function clearSessionCookie(secure: boolean): string {
  return setSessionCookie("", 0, secure);
}
