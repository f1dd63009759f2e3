/**
 * @module The registry core: a database and a blob store opened together
 * on one data directory. Every operation in lib/registry takes one.
 */
import { mkdirSync } from "node:fs";
import type { Kysely } from "kysely";
import { openDatabase } from "../db/connection.ts";
import type { DB } from "../db/schema.ts";
import type { BlobStore } from "../storage/blob-store.ts";
import { FsBlobStore } from "../storage/fs-store.ts";

/** What registry operations work on. */
export interface Registry {
  db: Kysely<DB>;
  store: BlobStore;
  /** The clock, replaceable in tests. */
  now(): number;
  close(): Promise<void>;
}

/** Opens (creating and migrating as needed) the registry kept in `dataDir`. */
export async function openRegistry(dataDir: string): Promise<Registry> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const store = new FsBlobStore(dataDir);
  const { db, close } = await openDatabase(store.layout.database);
  return { db, store, now: Date.now, close };
}
