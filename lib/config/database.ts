/**
 * @module Where the metadata lives, as openRegistry takes it: the
 * configured PostgreSQL URL (`storage.database`) and its password, read
 * from a file (MCR_DATABASE_PASSWORD_FILE, e.g. a mounted secret) or the
 * environment (PGPASSWORD, as libpq tools read it), so it never sits in
 * the configuration file or shows in `mcr config print`. Nothing set: the
 * SQLite file in the data directory.
 */
import { readFileSync } from "node:fs";
import type { Config } from "./settings.ts";

/** The registry's database options. */
export interface DatabaseTarget {
  /** A postgres:// URL, or undefined for SQLite in the data directory. */
  database?: string;
  /** The PostgreSQL password, when one is given outside the URL. */
  databasePassword?: string;
}

/** The database options for `config`, the password taken from `env` (a file it names, or PGPASSWORD). */
export function databaseTarget(config: Config, env: Record<string, string | undefined> = process.env): DatabaseTarget {
  const url = config.storage.database;
  if (url === null) return {};
  const password = databasePassword(env);
  return password === undefined ? { database: url } : { database: url, databasePassword: password };
}

/** The PostgreSQL password given outside any URL: the first line of MCR_DATABASE_PASSWORD_FILE, else PGPASSWORD, else undefined. */
export function databasePassword(env: Record<string, string | undefined> = process.env): string | undefined {
  const file = env.MCR_DATABASE_PASSWORD_FILE;
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      throw new Error(`MCR_DATABASE_PASSWORD_FILE: cannot read ${file}: ${(error as Error).message}`);
    }
    // The first line: files written by `echo` or a secrets mount end with a newline.
    return text.split(/\r?\n/)[0] ?? "";
  }
  return env.PGPASSWORD || undefined;
}
