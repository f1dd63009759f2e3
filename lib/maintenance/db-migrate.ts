/**
 * @module `mcr db migrate`: moves a registry's metadata from one database
 * to another (a single box's SQLite file to PostgreSQL, or back), verified
 * table by table. The blobs stay where they are: the data directory (or
 * the blob store) is shared by both.
 */
import { existsSync } from "node:fs";
import { openDatabase, isPostgresUrl } from "../db/connection.ts";
import { copyDatabase, type CopyReport } from "../db/copy.ts";
import { refreshStatistics } from "../db/queries/maintenance.ts";
import { fail } from "../errors.ts";

/** Where to copy from and to: each a SQLite file path or a postgres:// URL. */
export interface DatabaseMove {
  from: string;
  to: string;
  /** The PostgreSQL password for whichever side is PostgreSQL and has none in its URL. */
  password?: string;
}

/** Copies every row from `move.from` into the new, empty `move.to` (created and migrated as needed) and verifies it. */
export async function moveDatabase(move: DatabaseMove): Promise<CopyReport> {
  if (!isPostgresUrl(move.from) && !existsSync(move.from)) fail("NOT_FOUND", `${move.from} does not exist (give the registry's mcr.db, or a postgres:// URL)`);
  if (move.from === move.to) fail("INVALID_ARGUMENT", "--from and --to name the same database");
  const source = await openDatabase(move.from, { password: move.password });
  try {
    const target = await openDatabase(move.to, { password: move.password });
    try {
      const report = await copyDatabase(source.db, target.db);
      await refreshStatistics(target.db);
      return report;
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}
