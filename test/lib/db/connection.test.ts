/**
 * @module The database: opened with the right pragmas and mode, migrated
 * once, and transactional through our bun:sqlite dialect.
 */
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { statSync } from "node:fs";
import { join } from "node:path";
import { sql } from "kysely";
import { openDatabase } from "../../../lib/db/connection.ts";
import { migrate, schemaVersion } from "../../../lib/db/migrate.ts";
import { migrations } from "../../../lib/db/migrations/index.ts";
import { prepared } from "../../../lib/db/prepared.ts";
import { RegistryError } from "../../../lib/errors.ts";
import { tempDir } from "../../support/temp.ts";

describe("openDatabase", () => {
  test("creates a 0600 file in WAL mode with foreign keys on and the schema migrated", async () => {
    const path = join(tempDir(), "sub", "mcr.db");
    const { db, close } = await openDatabase(path);
    try {
      expect(statSync(path).mode & 0o777).toBe(0o600);
      const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(db);
      expect(mode.rows[0]?.journal_mode).toBe("wal");
      const fk = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(db);
      expect(fk.rows[0]?.foreign_keys).toBe(1);
      const timeout = await sql<{ timeout: number }>`pragma busy_timeout`.execute(db);
      expect(timeout.rows[0]?.timeout).toBeGreaterThan(0);
      expect(await schemaVersion(db)).toBe(migrations.length);
      const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table' order by name`.execute(db);
      expect(tables.rows.map((r) => r.name)).toEqual(
        expect.arrayContaining(["blobs", "manifest_blobs", "manifest_children", "manifests", "meta", "repositories", "repository_blobs", "tags", "uploads"]),
      );
    } finally {
      await close();
    }
  });

  test("checkpoints after SQLite's 1,000 WAL pages unless told another number (the server's 10,000)", async () => {
    const autocheckpoint = async (db: Awaited<ReturnType<typeof openDatabase>>["db"]) =>
      (await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(db)).rows[0]?.wal_autocheckpoint;
    const plain = await openDatabase(join(tempDir(), "plain.db"));
    const server = await openDatabase(join(tempDir(), "server.db"), { checkpointPages: 10_000 });
    try {
      expect(await autocheckpoint(plain.db)).toBe(1000);
      expect(await autocheckpoint(server.db)).toBe(10_000);
    } finally {
      await plain.close();
      await server.close();
    }
  });

  test("reopening keeps data and does not re-run migrations", async () => {
    const path = join(tempDir(), "mcr.db");
    const first = await openDatabase(path);
    await first.db.insertInto("repositories").values({ name: "kept", created_at: 1 }).execute();
    await first.close();
    const second = await openDatabase(path);
    const rows = await second.db.selectFrom("repositories").select("name").execute();
    expect(rows).toEqual([{ name: "kept" }]);
    await second.close();
  });

  test("refuses a database written by a newer mcr", async () => {
    const path = join(tempDir(), "mcr.db");
    const { db, close } = await openDatabase(path);
    await expect(migrate(db, migrations.slice(0, 0))).rejects.toThrow(/newer than this mcr/);
    await close();
  });

  test("a throwing transaction rolls back everything it wrote", async () => {
    const { db, close } = await openDatabase(join(tempDir(), "mcr.db"));
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.insertInto("repositories").values({ name: "gone", created_at: 1 }).execute();
        throw new Error("abort");
      }),
    ).rejects.toThrow("abort");
    expect(await db.selectFrom("repositories").selectAll().execute()).toEqual([]);
    await close();
  });

  test("foreign keys stop a reference to a blob that does not exist", async () => {
    const { db, close } = await openDatabase(join(tempDir(), "mcr.db"));
    const { id } = await db.insertInto("repositories").values({ name: "r", created_at: 1 }).returning("id").executeTakeFirstOrThrow();
    await expect(
      db.insertInto("repository_blobs").values({ repository_id: id, digest: "sha256:missing", created_at: 1 }).execute(),
    ).rejects.toThrow(/FOREIGN KEY/);
    await close();
  });

  test("queries wait for a transaction in progress instead of interleaving with it", async () => {
    const { db, close } = await openDatabase(join(tempDir(), "mcr.db"));
    const order: string[] = [];
    const tx = db.transaction().execute(async (trx) => {
      await trx.insertInto("repositories").values({ name: "tx", created_at: 1 }).execute();
      order.push("tx-insert");
      await Bun.sleep(20);
      order.push("tx-end");
    });
    await Bun.sleep(1);
    const read = db.selectFrom("repositories").select("name").execute().then((rows) => {
      order.push(`read:${rows.length}`);
    });
    await Promise.all([tx, read]);
    expect(order).toEqual(["tx-insert", "tx-end", "read:1"]);
    await close();
  });

  test("a write that meets another connection's lock waits without stopping the event loop, and reads go on meanwhile", async () => {
    const path = join(tempDir(), "mcr.db");
    const { db, close } = await openDatabase(path, { busyTimeoutMs: 2000 });
    const other = new Database(path);
    other.exec("begin immediate");
    // Released by a timer of this very process: SQLite's own busy wait would keep it from firing until the timeout.
    const held = 150;
    const started = performance.now();
    setTimeout(() => other.exec("commit"), held);
    const insertRepository = prepared((d, name: string) => d.insertInto("repositories").values({ name, created_at: 1 }));
    try {
      const inTransaction = db.transaction().execute((trx) => trx.insertInto("repositories").values({ name: "in-transaction", created_at: 1 }).execute());
      const direct = insertRepository.all(db, "direct");
      await Bun.sleep(20);
      const read = await db.selectFrom("repositories").select("name").execute();
      expect(read).toEqual([]);
      expect(performance.now() - started).toBeLessThan(held);
      await Promise.all([inTransaction, direct]);
      expect(performance.now() - started).toBeGreaterThanOrEqual(held - 5);
      const names = (await db.selectFrom("repositories").select("name").execute()).map((r) => r.name).sort();
      expect(names).toEqual(["direct", "in-transaction"]);
    } finally {
      other.close();
      await close();
    }
  });

  test("past busyTimeoutMs a write waiting for the lock fails UNAVAILABLE and leaves the connection usable", async () => {
    const path = join(tempDir(), "mcr.db");
    const { db, close } = await openDatabase(path, { busyTimeoutMs: 100 });
    const other = new Database(path);
    other.exec("begin immediate");
    try {
      const error = await db.transaction().execute((trx) => trx.insertInto("repositories").values({ name: "late", created_at: 1 }).execute()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RegistryError);
      expect((error as RegistryError).code).toBe("UNAVAILABLE");
      other.exec("commit");
      await db.insertInto("repositories").values({ name: "after", created_at: 1 }).execute();
      expect((await db.selectFrom("repositories").select("name").execute()).map((r) => r.name)).toEqual(["after"]);
    } finally {
      other.close();
      await close();
    }
  });
});
