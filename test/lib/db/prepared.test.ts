/**
 * @module Prepared queries: compiled once, then each call's arguments land
 * in the right parameter slots, constants stay, and they run inside
 * transactions like any query.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { sql } from "kysely";
import { openDatabase } from "../../../lib/db/connection.ts";
import { prepared } from "../../../lib/db/prepared.ts";
import { tempDir } from "../../support/temp.ts";

describe("prepared", () => {
  test("fills each call's arguments into the compiled SQL, keeping the query's own constants", async () => {
    const { db, close } = await openDatabase(join(tempDir(), "mcr.db"));
    try {
      const insert = prepared((d, name: string, now: number) => d.insertInto("repositories").values({ name, created_at: now }));
      for (const [name, now] of [["b", 2], ["a", 1], ["c", 3], ["same", 7]] as const) await insert.all(db, name, now);
      const between = prepared((d, low: string, high: string) =>
        d.selectFrom("repositories").select(["name", "created_at"]).where("name", ">=", low).where("name", "<=", high).where("created_at", "<", 100).orderBy("name"),
      );
      expect((await between.all(db, "a", "b")).map((r) => r.name)).toEqual(["a", "b"]);
      expect((await between.all(db, "b", "c")).map((r) => r.name)).toEqual(["b", "c"]);
      expect(await between.first(db, "same", "same")).toEqual({ name: "same", created_at: 7 });
      expect(await between.first(db, "x", "y")).toBeUndefined();
      const raw = prepared((_d) => sql<{ n: number }>`select 40 + 2 as n`);
      expect(await raw.first(db)).toEqual({ n: 42 });
    } finally {
      await close();
    }
  });

  test("runs inside a transaction and rolls back with it", async () => {
    const { db, close } = await openDatabase(join(tempDir(), "mcr.db"));
    try {
      const insert = prepared((d, name: string) => d.insertInto("repositories").values({ name, created_at: 0 }));
      const count = prepared((d) => d.selectFrom("repositories").select((eb) => eb.fn.countAll<number>().as("n")));
      await expect(
        db.transaction().execute(async (trx) => {
          await insert.all(trx, "inside");
          expect((await count.first(trx))?.n).toBe(1);
          throw new Error("abort");
        }),
      ).rejects.toThrow("abort");
      expect((await count.first(db))?.n).toBe(0);
    } finally {
      await close();
    }
  });
});
