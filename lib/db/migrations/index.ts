/**
 * @module The static list of migrations, in order. A compiled binary has no
 * migrations folder to read, so each one is imported here by name.
 */
import type { Kysely } from "kysely";
import * as m001 from "./001-initial.ts";
import * as m002 from "./002-auth.ts";
import * as m003 from "./003-policy.ts";
import * as m004 from "./004-gc.ts";
import * as m010 from "./010-mirror.ts";

/** One schema step; its version is its position in `migrations` plus one. */
export interface Migration {
  name: string;
  up(db: Kysely<any>): Promise<void>;
}

/** All migrations, oldest first. Append only. */
export const migrations: readonly Migration[] = [
  { name: "001-initial", ...m001 },
  { name: "002-auth", ...m002 },
  { name: "003-policy", ...m003 },
  { name: "004-gc", ...m004 },
  { name: "010-mirror", ...m010 },
];
