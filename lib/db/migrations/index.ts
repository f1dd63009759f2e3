/**
 * @module The static list of migrations, in order. A compiled binary has no
 * migrations folder to read, so each one is imported here by name.
 */
import type { Kysely } from "kysely";
import * as m001 from "./001-initial.ts";
import * as m002 from "./002-auth.ts";
import * as m005 from "./005-gc.ts";

/**
 * One schema step; its version is its position in `migrations` plus one.
 * Files are numbered as they were planned; 003 and 004 are being written on
 * other branches, so until they are merged 005 sits in position 3.
 */
export interface Migration {
  name: string;
  up(db: Kysely<any>): Promise<void>;
}

/** All migrations, oldest first. Append only. */
export const migrations: readonly Migration[] = [
  { name: "001-initial", ...m001 },
  { name: "002-auth", ...m002 },
  { name: "005-gc", ...m005 },
];
