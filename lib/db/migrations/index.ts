/**
 * @module The static list of migrations, in order. A compiled binary has no
 * migrations folder to read, so each one is imported here by name.
 */
import type { Kysely } from "kysely";
import * as m001 from "./001-initial.ts";
import * as m002 from "./002-auth.ts";
import * as m003 from "./003-policy.ts";
import * as m004 from "./004-gc.ts";
import * as m005 from "./005-derived-credentials.ts";
import * as m006 from "./006-referrers.ts";
import * as m007 from "./007-upload-owners.ts";
import * as m008 from "./008-audit-noise.ts";
import * as m009 from "./009-retention.ts";
import * as m010 from "./010-mirror.ts";
import * as m011 from "./011-replica-state.ts";

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
  { name: "005-derived-credentials", ...m005 },
  { name: "006-referrers", ...m006 },
  { name: "007-upload-owners", ...m007 },
  { name: "008-audit-noise", ...m008 },
  { name: "009-retention", ...m009 },
  { name: "010-mirror", ...m010 },
  { name: "011-replica-state", ...m011 },
];
