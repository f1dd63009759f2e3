/**
 * @module Value types of configuration settings: each parses what a TOML
 * file, an environment variable or a flag gives (strings from the last
 * two) and formats the typed value back for `mcr config print`.
 */
import { isIP } from "node:net";
import { isAbsolute, resolve } from "node:path";
import { parseListen } from "./listen.ts";

/** Where a raw value came from; relative paths in a file resolve against the file's directory. */
export interface ParseContext {
  /** Directory relative paths are resolved against. */
  baseDir: string;
}

/** How one setting is parsed and printed. Parsers throw an Error whose message says what is expected. */
export interface ValueType<T> {
  /** What the value looks like, for docs and errors. */
  describe: string;
  parse(raw: unknown, ctx: ParseContext): T;
  format(value: T): string | number | boolean | string[];
}

const DURATION_UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

function text(raw: unknown, what: string): string {
  if (typeof raw !== "string") throw new Error(`expected ${what} as a string, got ${typeof raw === "object" ? "a table" : typeof raw}`);
  return raw.trim();
}

/** A duration such as `30s`, `15m`, `12h`, `90d`, between `min` and `max` milliseconds. */
export function duration(min: number, max: number): ValueType<number> {
  return {
    describe: "a duration such as 30s, 15m, 12h, 90d",
    parse(raw) {
      const value = text(raw, "a duration");
      const match = /^(\d{1,9})(ms|s|m|h|d|w)$/.exec(value);
      if (!match) throw new Error(`invalid duration "${value}": use a number and a unit (ms, s, m, h, d, w), e.g. 30s, 12h, 90d`);
      const ms = Number(match[1]) * DURATION_UNITS[match[2] as keyof typeof DURATION_UNITS];
      if (ms < min || ms > max) throw new Error(`"${value}" is out of range: between ${formatDuration(min)} and ${formatDuration(max)}`);
      return ms;
    },
    format: formatDuration,
  };
}

/** The shortest exact form of a duration in milliseconds: `300000` → `5m`. */
export function formatDuration(ms: number): string {
  const units = Object.entries(DURATION_UNITS).reverse();
  for (const [unit, size] of units) if (ms !== 0 && ms % size === 0) return `${ms / size}${unit}`;
  return ms === 0 ? "0s" : `${ms}ms`;
}

/** true/false (a TOML boolean, or true/false/yes/no/1/0 from the environment). */
export const boolean: ValueType<boolean> = {
  describe: "true or false",
  parse(raw) {
    if (typeof raw === "boolean") return raw;
    const value = text(raw, "true or false").toLowerCase();
    if (["true", "yes", "1", "on"].includes(value)) return true;
    if (["false", "no", "0", "off"].includes(value)) return false;
    throw new Error(`expected true or false, got "${value}"`);
  },
  format: (value) => value,
};

/** One of a closed set of words. */
export function oneOf<const T extends string>(choices: readonly T[]): ValueType<T> {
  return {
    describe: choices.join(" | "),
    parse(raw) {
      const value = text(raw, choices.join(" or "));
      if (!(choices as readonly string[]).includes(value)) throw new Error(`expected one of ${choices.join(", ")}, got "${value}"`);
      return value as T;
    },
    format: (value) => value,
  };
}

/** `HOST:PORT`. */
export const listen: ValueType<string> = {
  describe: "HOST:PORT",
  parse(raw) {
    const value = text(raw, "HOST:PORT");
    parseListen(value);
    return value;
  },
  format: (value) => value,
};

/** A file or directory path; relative ones are made absolute against the context's directory. */
export const path: ValueType<string> = {
  describe: "a path",
  parse(raw, ctx) {
    const value = text(raw, "a path");
    if (value === "") throw new Error("expected a path, got an empty string");
    return isAbsolute(value) ? value : resolve(ctx.baseDir, value);
  },
  format: (value) => value,
};

/** Like `path`, or empty / absent for none. */
export const optionalPath: ValueType<string | null> = {
  describe: "a path, or empty for none",
  parse: (raw, ctx) => (text(raw, "a path") === "" ? null : path.parse(raw, ctx)),
  format: (value) => value ?? "",
};

/** The public URL of the registry (`https://registry.example.com`), or empty to take it from each request. */
export const baseUrl: ValueType<string | null> = {
  describe: "an http(s) URL, or empty",
  parse(raw) {
    const value = text(raw, "a URL");
    if (value === "") return null;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new Error(`"${value}" is not a URL`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`"${value}" must start with http:// or https://`);
    if (url.search !== "" || url.hash !== "" || (url.pathname !== "/" && url.pathname !== "")) {
      throw new Error(`"${value}" must be scheme, host and port only (mcr serves /v2 at the root)`);
    }
    return `${url.protocol}//${url.host}`;
  },
  format: (value) => value ?? "",
};

/**
 * A PostgreSQL URL (`postgres://user@host:5432/db`), or empty for the SQLite
 * file in the data directory. A password written into the URL is printed
 * redacted; better, keep it out of the file (see lib/config/database.ts).
 */
export const databaseUrl: ValueType<string | null> = {
  describe: "a postgres:// URL, or empty for SQLite in the data directory",
  parse(raw) {
    const value = text(raw, "a postgres:// URL").trim();
    if (value === "") return null;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new Error("expected a postgres:// URL, or empty for SQLite in the data directory");
    }
    if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") throw new Error(`"${url.protocol}" is not postgres: (empty means SQLite in the data directory)`);
    if (url.hostname === "") throw new Error("the URL names no host");
    if (url.pathname.length <= 1) throw new Error("the URL names no database (postgres://user@host:5432/DATABASE)");
    return value;
  },
  format: (value) => {
    if (value === null) return "";
    const url = new URL(value);
    if (url.password !== "") url.password = "redacted";
    return url.toString();
  },
};

/** A secret someone else issued (an S3 secret key: MinIO's may be 8 characters), or empty; printed redacted. */
export const issuedSecret: ValueType<string | null> = {
  describe: "a secret string, or empty",
  parse: (raw) => text(raw, "a string") || null,
  format: (value) => value ?? "",
};

/** Any string (trimmed), empty allowed. */
export const plainText: ValueType<string> = {
  describe: "a string",
  parse: (raw) => text(raw, "a string"),
  format: (value) => value,
};

/** A secret string, or empty for none; printed redacted. */
export const secret: ValueType<string | null> = {
  describe: "a secret string, or empty",
  parse(raw) {
    const value = text(raw, "a string");
    if (value === "") return null;
    if (value.length < 16) throw new Error("a secret must have at least 16 characters");
    return value;
  },
  format: (value) => value ?? "",
};

/** IP addresses or CIDR ranges: a TOML array of strings, or a comma-separated list from the environment. */
export const addressList: ValueType<string[]> = {
  describe: "a list of IP addresses or CIDR ranges",
  parse(raw) {
    const items = typeof raw === "string" ? raw.split(",").map((s) => s.trim()).filter((s) => s !== "") : raw;
    if (!Array.isArray(items) || items.some((i) => typeof i !== "string")) {
      throw new Error("expected a list of IP addresses or CIDR ranges, e.g. [\"127.0.0.1\", \"10.0.0.0/8\", \"::1\"]");
    }
    for (const item of items as string[]) {
      const [address = "", bits, extra] = item.split("/");
      const family = isIP(address);
      if (family === 0 || extra !== undefined) throw new Error(`"${item}" is not an IP address or CIDR range`);
      const max = family === 4 ? 32 : 128;
      if (bits !== undefined && (!/^\d{1,3}$/.test(bits) || Number(bits) > max)) throw new Error(`"${item}": the prefix length must be 0 to ${max}`);
    }
    return items as string[];
  },
  format: (value) => value,
};

/** A whole number between `min` and `max` (a TOML integer, or digits from the environment). */
export function integer(min: number, max: number): ValueType<number> {
  return {
    describe: `a whole number from ${min} to ${max}`,
    parse(raw) {
      const value = typeof raw === "number" ? raw : Number(text(raw, "a whole number"));
      if (!Number.isSafeInteger(value) || value < min || value > max) throw new Error(`expected a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
      return value;
    },
    format: (value) => value,
  };
}

const SIZE_UNITS = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 } as const;

/** A size such as `512MiB` or `20GiB`; empty means none (null). */
export const optionalSize: ValueType<number | null> = {
  describe: "a size such as 512MiB, 20GiB (empty: none)",
  parse(raw) {
    const value = text(raw, "a size");
    if (value === "") return null;
    const match = /^(\d{1,12})(B|KiB|MiB|GiB|TiB)$/.exec(value);
    if (!match) throw new Error(`invalid size "${value}": use a number and a unit (B, KiB, MiB, GiB, TiB), e.g. 20GiB`);
    const bytes = Number(match[1]) * SIZE_UNITS[match[2] as keyof typeof SIZE_UNITS];
    if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new Error(`"${value}" is out of range`);
    return bytes;
  },
  format(value) {
    if (value === null) return "";
    const units = Object.entries(SIZE_UNITS).reverse();
    for (const [unit, size] of units) if (value % size === 0) return `${value / size}${unit}`;
    return `${value}B`;
  },
};
