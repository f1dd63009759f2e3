/**
 * @module Parsing what an upstream registry says in its headers:
 * `WWW-Authenticate` challenges (RFC 7235: a scheme and quoted or bare
 * parameters) and `Retry-After` (seconds or an HTTP date).
 */

/** A challenge: the scheme in lower case and its parameters by lower-case name. */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** The first challenge of a `WWW-Authenticate` header, or null when there is none. */
export function parseChallenge(header: string): Challenge | null {
  const match = /^\s*([A-Za-z][A-Za-z0-9._~+/-]*)\s*(.*)$/s.exec(header);
  if (!match) return null;
  const params: Record<string, string> = {};
  const param = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/gy;
  const rest = match[2] ?? "";
  let found: RegExpExecArray | null;
  while ((found = param.exec(rest)) !== null && found[0] !== "") {
    params[found[1]!.toLowerCase()] = found[2] !== undefined ? found[2].replace(/\\(.)/g, "$1") : (found[3] ?? "");
  }
  return { scheme: match[1]!.toLowerCase(), params };
}

/** Seconds a `Retry-After` value asks to wait (never negative), or null when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number): number | null {
  if (value === undefined) return null;
  const trimmed = value.trim();
  if (/^\d{1,9}$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - now) / 1000));
}
