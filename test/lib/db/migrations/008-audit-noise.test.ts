/**
 * @module Migration 008 marks the noise already in an existing audit log,
 * so the first pruning after an upgrade caps it and keeps the rest.
 */
import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { join } from "node:path";
import { Kysely, sql } from "kysely";
import { BunSqliteDialect } from "../../../../lib/db/sqlite-dialect.ts";
import { migrate } from "../../../../lib/db/migrate.ts";
import { migrations } from "../../../../lib/db/migrations/index.ts";
import { tempDir } from "../../../support/temp.ts";

test("existing failed logins, denials and pulls become noise; pushes and successful logins do not", async () => {
  const sqlite = new Database(join(tempDir(), "old.db"), { create: true, strict: true });
  const db = new Kysely<any>({ dialect: new BunSqliteDialect(sqlite) });
  const before = migrations.findIndex((m) => m.name === "008-audit-noise");
  await migrate(db, migrations.slice(0, before));
  const rows: [string, string][] = [
    ["login", "success"],
    ["login", "failure"],
    ["login", "denied"],
    ["access.denied", "denied"],
    ["manifest.pulled", "success"],
    ["manifest.pushed", "success"],
    ["user.changed", "success"],
  ];
  for (const [event, outcome] of rows) await db.insertInto("audit_events").values({ time: 1, event, actor: "user:a", outcome }).execute();
  await migrate(db);
  const marked = await sql<{ event: string; outcome: string; noise: number }>`select event, outcome, noise from audit_events order by id`.execute(db);
  expect(marked.rows.map((r) => r.noise)).toEqual([0, 1, 1, 1, 1, 0, 0]);
  await db.destroy();
  sqlite.close();
});
