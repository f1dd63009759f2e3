/**
 * @module Running a command against the local data directory: opens the
 * registry (safe while `mcr serve` runs on it), runs, flushes and closes.
 */
import { userInfo } from "node:os";
import { databaseTarget, type DatabaseTarget } from "../lib/config/database.ts";
import { loadConfig } from "../lib/config/load.ts";
import { DEFAULT_DATA_DIR } from "../lib/config/listen.ts";
import { openRegistry, type Registry } from "../lib/registry/registry.ts";
import { s3StoreOptions } from "../lib/storage/s3-config.ts";

/** The `--data` option every local command takes. */
export const dataOption = ["--data <dir>", `data directory (env MCR_DATA_DIR, default ${DEFAULT_DATA_DIR})`] as const;

/** Where a local command finds the data directory: `--data`, else the configuration (`--config`, MCR_CONFIG, MCR_DATA_DIR). */
export interface LocalOptions {
  data?: string;
  config?: string;
}

/** The data directory and database (storage.database, with its password) a local command works on. */
export function localTarget(opts: LocalOptions): { dataDir: string } & DatabaseTarget {
  const { config } = loadConfig({ file: opts.config ?? null, flags: { "storage.data_dir": opts.data } });
  return { dataDir: config.storage.data_dir, ...databaseTarget(config) };
}

/** Who the audit log records for commands run on this machine. */
export function localActor(): string {
  return `local:${userInfo().username}`;
}

/** Opens the registry of the local data directory, runs `fn`, then closes it. */
export async function withRegistry<T>(opts: LocalOptions, fn: (reg: Registry) => Promise<T>): Promise<T> {
  process.umask(0o077);
  const { config } = loadConfig({ file: opts.config ?? null, flags: { "storage.data_dir": opts.data } });
  // GC, fsck and the rest work on the blobs where the server keeps them (the S3 bucket when one is configured),
  // and on the metadata where it keeps it (storage.database).
  const reg = await openRegistry(config.storage.data_dir, { s3: s3StoreOptions(config.storage.s3), ...databaseTarget(config) });
  try {
    return await fn(reg);
  } finally {
    await reg.close();
  }
}

/** Reads a secret from standard input (first line, without its newline). */
export async function readStdinSecret(): Promise<string> {
  const text = await new Response(Bun.stdin.stream()).text();
  return text.split(/\r?\n/)[0] ?? "";
}
