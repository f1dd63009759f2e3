/**
 * @module Migration 011 leaves upload sessions opened before it without a
 * checkpoint (so their bytes are hashed again on their next chunk, in any
 * process) and adds the shared login throttling tables.
 */
import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { join } from "node:path";
import { Kysely, sql } from "kysely";
import { BunSqliteDialect } from "../../../../lib/db/bun-sqlite-dialect.ts";
import { migrate } from "../../../../lib/db/migrate.ts";
import { migrations } from "../../../../lib/db/migrations/index.ts";
import { tempDir } from "../../../support/temp.ts";

test("sessions from before have no checkpoint and no writer; the throttle tables take rows", async () => {
  const sqlite = new Database(join(tempDir(), "old.db"), { create: true, strict: true });
  const db = new Kysely<any>({ dialect: new BunSqliteDialect(sqlite) });
  await migrate(db, migrations.slice(0, migrations.findIndex((m) => m.name === "011-replica-state")));
  await db.insertInto("repositories").values({ name: "app", created_at: 1 }).execute();
  await db.insertInto("uploads").values({ id: "u1", repository_id: 1, owner: "user:a", created_at: 1, updated_at: 1 }).execute();
  await migrate(db);
  const rows = await sql<{ hashed_size: number | null; hash_state: string | null; writer: string | null; writer_until: number | null }>`
    select hashed_size, hash_state, writer, writer_until from uploads`.execute(db);
  expect(rows.rows).toEqual([{ hashed_size: null, hash_state: null, writer: null, writer_until: null }]);
  await db.insertInto("login_pairs").values({ account: "a", client: "1.2.3.4", failures: 1, last_failure: 5, wrong_json: "[]", last_success: 0 }).execute();
  await db.insertInto("login_counters").values({ scope: "network", key: "1.2.3.4", failures: 1, last_failure: 5 }).execute();
  await expect(db.insertInto("login_counters").values({ scope: "network", key: "1.2.3.4", failures: 2, last_failure: 6 }).execute()).rejects.toThrow();
  await db.destroy();
  sqlite.close();
});
