/**
 * @module The `[[upstream]]` entries of the configuration file: registries
 * mirrored as a pull-through cache. Each entry is validated here, every
 * problem named with its entry and key, so `mcr config check` reports them
 * all at once with the rest of the file's problems.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { duration } from "../config/values.ts";

/** One mirrored registry, as the server uses it. Durations are milliseconds. */
export interface UpstreamConfig {
  /** The local namespace, e.g. `docker.io`: `docker.io/library/alpine` is `library/alpine` upstream. */
  name: string;
  /** The upstream's base URL, without `/v2`. */
  url: string;
  username: string | null;
  password: string | null;
  /** A tag is served from the cache this long before it is revalidated with a HEAD. */
  tagTtlMs: number;
  /** A manifest the upstream said it does not have is answered 404 this long without asking again (0: always ask). */
  notFoundTtlMs: number;
  /** Longest wait for the upstream's answer (headers, and each pause in a body). */
  timeoutMs: number;
  /** Requests to this upstream at once, from this process. */
  maxConcurrent: number;
  /** PEM bundle of CAs to trust for the upstream's certificate, or null for the system's. */
  tlsCa: string | null;
  /** Names matching no local repository and no prefix go to this upstream (Docker's `registry-mirrors`). */
  isDefault: boolean;
}

/** One thing wrong with an entry, keyed like `upstream[0].url`. */
export interface UpstreamProblem {
  key: string;
  message: string;
}

const KEYS = ["name", "url", "username", "password", "password_file", "password_env", "tag_ttl", "not_found_ttl", "timeout", "max_concurrent", "tls_ca", "default"] as const;
/** The keys an `[[upstream]]` entry may have (for the docs test and error hints). */
export const upstreamKeys: readonly string[] = KEYS;
/** One path component of a repository name, as the OCI spec allows it. */
const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const tagTtl = duration(0, 7 * 86_400_000);
const notFoundTtl = duration(0, 3_600_000);
const timeout = duration(1000, 3_600_000);

/**
 * Parses the file's `upstream` value (an array of tables). `env` supplies
 * `password_env`; relative `password_file`/`tls_ca` paths resolve against
 * `baseDir`. Returns the entries and every problem found.
 */
export function parseUpstreams(raw: unknown, baseDir: string, env: Record<string, string | undefined>): { upstreams: UpstreamConfig[]; problems: UpstreamProblem[] } {
  const problems: UpstreamProblem[] = [];
  const upstreams: UpstreamConfig[] = [];
  const entryOf: number[] = [];
  if (raw === undefined) return { upstreams, problems };
  if (!Array.isArray(raw)) return { upstreams, problems: [{ key: "upstream", message: "must be an array of tables: write each entry as [[upstream]]" }] };
  raw.forEach((entry, i) => {
    const at = (key: string) => `upstream[${i}].${key}`;
    const problem = (key: string, message: string) => void problems.push({ key: at(key), message });
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) return problem("", "must be a table");
    const table = entry as Record<string, unknown>;
    for (const key of Object.keys(table)) if (!(KEYS as readonly string[]).includes(key)) problem(key, `unknown key (an upstream has ${KEYS.join(", ")})`);
    const str = (key: string): string | null => {
      const value = table[key];
      if (value === undefined) return null;
      if (typeof value !== "string" || value.trim() === "") return problem(key, "must be a non-empty string"), null;
      return value.trim();
    };
    const name = str("name");
    if (name === null) problem("name", "is required: the local namespace, e.g. docker.io");
    else if (name.length > 128 || !name.split("/").every((c) => COMPONENT.test(c))) problem("name", `"${name}" is not a repository name prefix (lowercase letters, digits, . _ - and /)`);
    const url = parseUrl(str("url"), (m) => problem("url", m));
    const username = str("username");
    let password = str("password");
    const passwordFile = str("password_file");
    const passwordEnv = str("password_env");
    if ([password, passwordFile, passwordEnv].filter((p) => p !== null).length > 1) problem("password", "set only one of password, password_file and password_env");
    if (passwordFile !== null) password = readSecret(resolve(baseDir, passwordFile), (m) => problem("password_file", m));
    if (passwordEnv !== null) {
      password = env[passwordEnv] ?? null;
      if (password === null || password === "") problem("password_env", `environment variable ${passwordEnv} is not set`);
    }
    if ((username === null) !== (password === null)) problem("username", "username and a password must be set together");
    const ms = (key: string, type: typeof tagTtl, fallback: string): number => {
      try {
        return type.parse(table[key] ?? fallback, { baseDir });
      } catch (error) {
        problem(key, (error as Error).message);
        return 0;
      }
    };
    const tagTtlMs = ms("tag_ttl", tagTtl, "5m");
    const notFoundTtlMs = ms("not_found_ttl", notFoundTtl, "30s");
    const timeoutMs = ms("timeout", timeout, "30s");
    const max = table.max_concurrent ?? 8;
    if (typeof max !== "number" || !Number.isInteger(max) || max < 1 || max > 1000) problem("max_concurrent", "must be an integer from 1 to 1000");
    const caFile = str("tls_ca");
    const tlsCa = caFile === null ? null : readSecret(resolve(baseDir, caFile), (m) => problem("tls_ca", m));
    if (tlsCa !== null && !tlsCa.includes("-----BEGIN CERTIFICATE-----")) problem("tls_ca", "is not a PEM certificate bundle");
    const isDefault = table.default ?? false;
    if (typeof isDefault !== "boolean") problem("default", "must be true or false");
    if (name === null || url === null) return;
    entryOf.push(i);
    upstreams.push({ name, url, username, password, tagTtlMs, notFoundTtlMs, timeoutMs, maxConcurrent: Number(max), tlsCa, isDefault: isDefault === true });
  });
  const names = upstreams.map((u) => u.name);
  for (const [i, name] of names.entries()) {
    const clash = names.find((other, j) => j < i && (other === name || name.startsWith(`${other}/`) || other.startsWith(`${name}/`)));
    if (clash !== undefined) problems.push({ key: `upstream[${entryOf[i]}].name`, message: `"${name}" overlaps upstream "${clash}"` });
  }
  if (upstreams.filter((u) => u.isDefault).length > 1) problems.push({ key: "upstream.default", message: "at most one upstream may be the default" });
  return { upstreams, problems };
}

function parseUrl(value: string | null, problem: (message: string) => void): string | null {
  if (value === null) return problem("is required, e.g. https://registry-1.docker.io"), null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return problem(`"${value}" is not a URL`), null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return problem("must be an http:// or https:// URL"), null;
  if (url.username || url.password) return problem("must not carry credentials: use username and password"), null;
  if (url.search || url.hash) return problem("must not have a query or fragment"), null;
  return url.origin + url.pathname.replace(/\/+$/, "");
}

function readSecret(path: string, problem: (message: string) => void): string | null {
  try {
    return readFileSync(path, "utf8").trim();
  } catch (error) {
    return problem(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`), null;
  }
}
