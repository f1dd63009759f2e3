/**
 * @module Saved logins of `mcr login`: per server URL, the admin access
 * token to use, in the user's config directory
 * (`$XDG_CONFIG_HOME/mcr/logins.json`, else `~/.config/mcr/logins.json`),
 * mode 0600 in a 0700 directory. The last login is the default server.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fail } from "../errors.ts";

/** One saved login. */
export interface SavedLogin {
  token: string;
  /** The token's public id, to revoke it on logout; empty for a token saved with --token-stdin, which logout leaves alone. */
  tokenId: string;
  user: string;
  createdAt: string;
  expiresAt: string | null;
}

/** The file's content. */
export interface Logins {
  /** The server used when a command names none. */
  default: string | null;
  servers: Record<string, SavedLogin>;
}

/** Where logins are kept for the environment `env`. */
export function loginsPath(env: Record<string, string | undefined> = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  return join(base, "mcr", "logins.json");
}

/** The saved logins (none when the file does not exist). */
export function readLogins(path = loginsPath()): Logins {
  if (!existsSync(path)) return { default: null, servers: {} };
  try {
    const parsed = JSON.parse(readFileSync(path, "utf8")) as Logins;
    return { default: parsed.default ?? null, servers: parsed.servers ?? {} };
  } catch {
    fail("INVALID_ARGUMENT", `${path} is not valid JSON; remove it and log in again`);
  }
}

/** Saves a login for `server` (a normalized URL) and makes it the default. */
export function saveLogin(server: string, login: SavedLogin, path = loginsPath()): void {
  const logins = readLogins(path);
  logins.servers[server] = login;
  logins.default = server;
  writeLogins(logins, path);
}

/** Forgets the login for `server`; returns what was saved, or null. */
export function removeLogin(server: string, path = loginsPath()): SavedLogin | null {
  const logins = readLogins(path);
  const removed = logins.servers[server] ?? null;
  delete logins.servers[server];
  if (logins.default === server) logins.default = Object.keys(logins.servers)[0] ?? null;
  writeLogins(logins, path);
  return removed;
}

function writeLogins(logins: Logins, path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(logins, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** A server URL as logins are keyed: `scheme://host[:port]`; throws INVALID_ARGUMENT for anything else. */
export function normalizeServerUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(value) ? value : `https://${value}`);
  } catch {
    fail("INVALID_ARGUMENT", `"${value}" is not a server URL, e.g. https://registry.example.com`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") fail("INVALID_ARGUMENT", `"${value}" must be an http or https URL`);
  return `${url.protocol}//${url.host}`;
}
