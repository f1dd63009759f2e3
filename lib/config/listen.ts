/**
 * @module Parsing `HOST:PORT` listen addresses.
 */

/** Default address: loopback only, so a first start exposes nothing. */
export const DEFAULT_LISTEN = "127.0.0.1:5000";
/** Default data directory, relative to where mcr starts. */
export const DEFAULT_DATA_DIR = "./mcr-data";

/** Splits `HOST:PORT` (IPv6 hosts in brackets); throws with a readable message. */
export function parseListen(value: string): { hostname: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value.trim());
  const port = Number(match?.[3]);
  if (!match || port > 65535) throw new Error(`invalid listen address "${value}": expected HOST:PORT, e.g. 127.0.0.1:5000`);
  return { hostname: match[1] ?? (match[2] || "0.0.0.0"), port };
}
