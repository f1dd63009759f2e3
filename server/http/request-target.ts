/**
 * @module The request's target, checked before anything uses it. Bun builds
 * `req.url` from the Host header as the client sent it, so `new URL` can
 * throw on `Host: x/`, `[::1`, `a@b` or a port past 65535; CONNECT, a
 * proxy's method, names no path at all. Both are a 400 here, answered and
 * logged like any request, never a TypeError and a 500. Also the public
 * base URL when `server.base_url` is unset: the request's own (validated)
 * Host and scheme, or a trusted proxy's X-Forwarded-Host/-Proto.
 */
import { isIP } from "node:net";
import { RegistryError } from "../../lib/errors.ts";
import { errorResponse, jsonErrorResponse } from "./errors.ts";

/** A host name (underscores allowed, as container networks use them), an IPv4 or a bracketed IPv6 literal; then an optional port. */
const LABEL = "[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?";
const HOST = new RegExp(`^(?:(?<name>${LABEL}(?:\\.${LABEL})*\\.?)|\\[(?<ipv6>[0-9A-Fa-f:.]+)\\])(?::(?<port>\\d{1,5}))?$`);

/** A target that can be used, or why not (with the path to log). */
export type RequestTarget = { ok: true; url: URL } | { ok: false; path: string; error: RegistryError };

/** True when `host` is a usable Host header value: name or IP literal, port 1-65535, nothing else. */
export function validHost(host: string): boolean {
  if (host.length === 0 || host.length > 261) return false;
  const groups = HOST.exec(host)?.groups;
  if (!groups) return false;
  if (groups.ipv6 !== undefined && isIP(groups.ipv6) !== 6) return false;
  if (groups.port !== undefined && (Number(groups.port) < 1 || Number(groups.port) > 65535)) return false;
  return true;
}

/** The request's URL, or a 400 to answer when its method or Host makes it unusable. */
export function requestTarget(req: Request): RequestTarget {
  const bad = (message: string): RequestTarget => ({ ok: false, path: loggablePath(req), error: new RegistryError("INVALID_ARGUMENT", message) });
  if (req.method === "CONNECT") return bad("CONNECT is not supported: this is a registry, not a proxy");
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    return bad("the Host header must be a host name or IP address with an optional port");
  }
  // A Request built in process (tests, HTTP/1.0 without Host) has no header: its URL's host stands in.
  if (!validHost(req.headers.get("host") ?? url.host)) return bad("the Host header must be a host name or IP address with an optional port");
  return { ok: true, url };
}

/** The 400 for an unusable target: the OCI error body on /v2, `{"error"}` elsewhere. */
export function targetErrorResponse(target: Extract<RequestTarget, { ok: false }>): Response {
  if (target.path !== "/v2" && !target.path.startsWith("/v2/")) return jsonErrorResponse(target.error);
  return errorResponse(target.error, { "Docker-Distribution-API-Version": "registry/2.0" });
}

/** The path of a request whose URL does not parse, for logs and metrics; `-` when there is none (CONNECT). */
function loggablePath(req: Request): string {
  if (req.method === "CONNECT") return "-";
  const rest = req.url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, "");
  if (!rest.startsWith("/")) return "-";
  try {
    return new URL(rest, "http://host.invalid").pathname;
  } catch {
    return "-";
  }
}

/** First value of a comma-separated forwarded header (the one the client-facing proxy set), trimmed. */
function firstValue(req: Request, name: string): string | null {
  const value = req.headers.get(name);
  if (value === null) return null;
  const first = value.split(",")[0]!.trim();
  return first === "" ? null : first;
}

/**
 * `scheme://host` clients use, when `server.base_url` is unset: the token
 * realm, `service` and JWT audience come from it. X-Forwarded-Proto and
 * X-Forwarded-Host are believed only from a trusted proxy; anyone else could
 * name any realm.
 */
export function requestBase(req: Request, url: URL, fromProxy: boolean): string {
  let scheme = url.protocol.slice(0, -1);
  let host = url.host;
  if (fromProxy) {
    const proto = firstValue(req, "x-forwarded-proto")?.toLowerCase();
    if (proto === "https" || proto === "http") scheme = proto;
    const forwarded = firstValue(req, "x-forwarded-host");
    if (forwarded !== null && validHost(forwarded)) {
      try {
        host = new URL(`${scheme}://${forwarded}`).host;
      } catch {
        // An unparsable forwarded host (e.g. a bad IPv4) leaves the request's own.
      }
    }
  }
  return `${scheme}://${host}`;
}
