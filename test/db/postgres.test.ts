/**
 * @module What only PostgreSQL needs proving, always run where it is
 * installed (CI): the change number the policy and account caches read
 * moves with other connections' commits and only then; the GC lock goes to
 * exactly one of two processes racing for it; a backup of a PostgreSQL
 * registry restores to a data directory fsck finds clean; 64-bit values
 * come back as numbers; a busy or unreachable server is a clear error;
 * `mcr serve` and admin commands in other processes share one database;
 * prepared queries work on both kinds in one process. The shared
 * suites run on PostgreSQL under MCR_TEST_DATABASE=postgres (.ci/run).
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { addUser } from "../../lib/auth/users.ts";
import { changeVersion } from "../../lib/db/changes.ts";
import { acquireGcLock, releaseGcLock } from "../../lib/gc/lock.ts";
import { backupDataDir } from "../../lib/maintenance/fs-backup.ts";
import { restoreDataDir } from "../../lib/maintenance/fs-restore.ts";
import { fsck } from "../../lib/maintenance/fsck.ts";
import { applyPolicy } from "../../lib/policy/store.ts";
import { openRegistry } from "../../lib/registry/registry.ts";
import { insertAuditEvents, selectAuditEvents } from "../../lib/db/queries/audit.ts";
import { listTagNames } from "../../lib/db/queries/tags.ts";
import { findUserByName } from "../../lib/db/queries/users.ts";
import { testApp } from "../support/app.ts";
import { pushImage } from "../support/blobs.ts";
import { runCli, startServe } from "../support/cli.ts";
import { basicAuth } from "../support/credentials.ts";
import { postgresAvailable, postgresDatabase } from "../support/postgres.ts";
import { tempDir } from "../support/temp.ts";

setDefaultTimeout(60_000);

const available = postgresAvailable("test/db/postgres.test.ts");

describe.skipIf(!available)("PostgreSQL", () => {
  test("the change number stays while nothing commits and moves when another connection does", async () => {
    const database = await postgresDatabase();
    const a = await openRegistry(tempDir("pg-a-"), { database });
    const b = await openRegistry(tempDir("pg-b-"), { database });
    try {
      const first = await changeVersion(a.db);
      expect(await changeVersion(a.db)).toBe(first);
      await a.db.selectFrom("users").selectAll().execute();
      expect(await changeVersion(a.db)).toBe(first);
      await addUser(b, { name: "carol", password: "carol-password" }, "test");
      const moved = await changeVersion(a.db);
      expect(moved).not.toBe(first);
      expect(await changeVersion(a.db)).toBe(moved);
      // So a policy applied by another process (mcr policy apply) acts on this one's next decision.
      const alice = { kind: "user", userId: 9, name: "carol", role: "user", userKind: "human", via: "password", tokenId: null } as const;
      expect((await a.policy.decide(alice, "push", "team/app")).allowed).toBe(true);
      await applyPolicy(b, [{ id: "read-only", priority: 1, effect: "allow", subjects: ["role:user"], actions: ["pull"], repositories: ["**"], enabled: true, description: "" }], "test");
      expect((await a.policy.decide(alice, "push", "team/app")).allowed).toBe(false);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test("of two processes racing for the GC lock, exactly one gets it", async () => {
    const database = await postgresDatabase();
    const a = await openRegistry(tempDir("pg-a-"), { database });
    const b = await openRegistry(tempDir("pg-b-"), { database });
    try {
      for (let round = 0; round < 3; round++) {
        const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => acquireGcLock(i % 2 === 0 ? a : b, `racer-${i}`, {})));
        const won = results.filter((r) => r.status === "fulfilled");
        expect(won).toHaveLength(1);
        for (const r of results) if (r.status === "rejected") expect(String(r.reason)).toContain("already running");
        await releaseGcLock(a, (won[0] as PromiseFulfilledResult<{ runId: number }>).value.runId);
      }
    } finally {
      await a.close();
      await b.close();
    }
  });

  test("a write transaction kept waiting past the busy timeout by another process is UNAVAILABLE (a 503), not a 500", async () => {
    const database = await postgresDatabase();
    const a = await openRegistry(tempDir("pg-a-"), { database, limits: { databaseBusyTimeoutMs: 300 } });
    const b = await openRegistry(tempDir("pg-b-"), { database });
    try {
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let started!: () => void;
      const holding = new Promise<void>((resolve) => (started = resolve));
      const holder = b.db.transaction().execute(async (trx) => {
        await trx.selectFrom("meta").selectAll().execute();
        started();
        await held;
      });
      await holding;
      const waited = await a.db.transaction().execute(async (trx) => trx.selectFrom("meta").selectAll().execute()).then(
        () => null,
        (e: unknown) => e,
      );
      release();
      await holder;
      expect(waited).toMatchObject({ code: "UNAVAILABLE" });
      // Once the other is done, the same write goes through.
      expect(await a.db.transaction().execute(async (trx) => (await trx.selectFrom("meta").selectAll().execute()).length)).toBeGreaterThan(0);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test("mcr serve --workers 2 on a new database, and the admin commands of another process, share one PostgreSQL registry", async () => {
    const env = { MCR_DATABASE: await postgresDatabase(), MCR_ADMIN_PASSWORD: "serve-admin-password" };
    const dataDir = tempDir("pg-serve-");
    // Two workers start at once on an empty database: one migrates it, the other waits and finds it done.
    const server = await startServe(dataDir, { env, args: ["--listen", "127.0.0.1:0", "--data", dataDir, "--workers", "2"] });
    try {
      const added = await runCli(["user", "add", "dora", "--password-stdin", "--data", dataDir], { stdin: "dora-password-1\n", env });
      expect(added.code).toBe(0);
      // The running server sees the account the other process just added, on its next request.
      // Whichever worker answers (new connections each time, spread by the kernel).
      for (let i = 0; i < 6; i++) {
        const login = await fetch(`${server.url}/v2/`, { headers: { authorization: basicAuth("dora", "dora-password-1"), connection: "close" } });
        expect(login.status).toBe(200);
      }
      expect((await runCli(["user", "disable", "dora", "--data", dataDir], { env })).code).toBe(0);
      for (let i = 0; i < 6; i++) {
        expect((await fetch(`${server.url}/v2/`, { headers: { authorization: basicAuth("dora", "dora-password-1"), connection: "close" } })).status).toBe(401);
      }
      // Nothing of it went to a SQLite file in the data directory.
      expect(existsSync(join(dataDir, "mcr.db"))).toBe(false);
    } finally {
      await server.stop();
    }
  });

  test("audit events written by two processes at once reach a follower reading by id, every one", async () => {
    const database = await postgresDatabase();
    const a = await openRegistry(tempDir("pg-a-"), { database });
    const b = await openRegistry(tempDir("pg-b-"), { database });
    try {
      const seen = new Set<number>();
      let last = 0;
      let writing = true;
      const follower = (async () => {
        for (;;) {
          const done = !writing;
          const rows = await selectAuditEvents(a.db, { order: "asc", afterId: last, limit: 1000 });
          for (const row of rows) seen.add(row.id);
          if (rows.length > 0) last = rows[rows.length - 1]!.id;
          if (done && rows.length === 0) return;
        }
      })();
      const event = (i: number) => ({ time: Date.now(), event: "test", actor: `writer-${i}`, source: null, repository: null, digest: null, tag: null, outcome: "success", detail: null, noise: 0 });
      await Promise.all(
        Array.from({ length: 40 }, (_, i) => insertAuditEvents(i % 2 === 0 ? a.db : b.db, Array.from({ length: 5 }, () => event(i)))),
      );
      writing = false;
      await follower;
      expect(seen.size).toBe(200);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test("a backup of a PostgreSQL registry restores to a data directory that fsck finds clean, with the same tags", async () => {
    const t = await testApp({ database: await postgresDatabase() });
    const image = await pushImage(t, "team/app", "v1");
    await pushImage(t, "team/app", "v2", ["other"]);
    const dir = tempDir("pg-backup-");
    const report = await backupDataDir(t.reg, `${dir}/b`, { mcrVersion: "test" });
    expect(report.blobs).toBe(4); // a config and two layers, then the same config and one more layer
    expect(report.missing).toEqual([]);
    await t.close();
    await restoreDataDir(`${dir}/b`, `${dir}/restored`);
    // `mcr restore` with storage.database set says where the metadata went and how to put it back.
    const cli = await runCli(["restore", `${dir}/b`, "--data", `${dir}/restored-cli`], { env: { MCR_DATABASE: "postgres://mcr@db.invalid/mcr" } });
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain(`mcr db migrate --from ${dir}/restored-cli/mcr.db --to postgres://`);
    const restored = await openRegistry(`${dir}/restored`);
    try {
      expect((await fsck(restored)).problems).toEqual([]);
      const repo = await restored.db.selectFrom("repositories").select("id").where("name", "=", "team/app").executeTakeFirstOrThrow();
      expect(await listTagNames(restored.db, repo.id, 10)).toEqual(["v1", "v2"]);
      const manifest = await restored.db.selectFrom("manifests").select(["digest", "created_at", "size"]).where("digest", "=", image.digest).executeTakeFirstOrThrow();
      expect(typeof manifest.created_at).toBe("number");
      expect(manifest.size).toBe(image.bytes.byteLength);
    } finally {
      await restored.close();
    }
  });

  test("a prepared query compiles once per database kind, so one process can hold both (mcr db migrate)", async () => {
    const sqlite = await openRegistry(tempDir("pg-mixed-"));
    const postgres = await openRegistry(tempDir("pg-mixed-"), { database: await postgresDatabase() });
    try {
      await addUser(sqlite, { name: "on-sqlite", password: "password-sqlite" }, "test");
      await addUser(postgres, { name: "on-postgres", password: "password-postgres" }, "test");
      for (let i = 0; i < 2; i++) {
        expect((await findUserByName(sqlite.db, "on-sqlite"))?.name).toBe("on-sqlite");
        expect(await findUserByName(sqlite.db, "on-postgres")).toBeUndefined();
        expect((await findUserByName(postgres.db, "on-postgres"))?.name).toBe("on-postgres");
        expect(await findUserByName(postgres.db, "on-sqlite")).toBeUndefined();
      }
    } finally {
      await sqlite.close();
      await postgres.close();
    }
  });

  test("a backup taken while the registry keeps writing copies one consistent snapshot and verifies it", async () => {
    const t = await testApp({ database: await postgresDatabase() });
    try {
      await pushImage(t, "team/app", "v1");
      let writing = true;
      let written = 0;
      const writer = (async () => {
        while (writing) {
          await insertAuditEvents(t.reg.db, [{ time: Date.now(), event: "test", actor: "writer", source: null, repository: null, digest: null, tag: null, outcome: "success", detail: null, noise: 0 }]);
          written++;
        }
      })();
      const report = await backupDataDir(t.reg, `${tempDir("pg-live-")}/b`, { mcrVersion: "test" });
      writing = false;
      await writer;
      expect(report.blobs).toBe(3);
      expect(written).toBeGreaterThan(0);
    } finally {
      await t.close();
    }
  });

  test("millisecond times and sizes past 32 bits come back as numbers", async () => {
    const t = await testApp({ database: await postgresDatabase() });
    try {
      const big = 5 * 1024 ** 4;
      await t.reg.db.insertInto("blobs").values({ digest: "sha256:" + "a".repeat(64), size: big, created_at: Date.now(), last_seen_at: Date.now() }).execute();
      const row = await t.reg.db.selectFrom("blobs").select(["size", "created_at"]).where("size", "=", big).executeTakeFirstOrThrow();
      expect(row.size).toBe(big);
      expect(typeof row.created_at).toBe("number");
      const sum = await t.reg.db.selectFrom("blobs").select((eb) => eb.fn.sum<number>("size").as("total")).executeTakeFirstOrThrow();
      expect(sum.total).toBe(big);
    } finally {
      await t.close();
    }
  });

  test("a server that does not answer is a clear error, not a hang", async () => {
    const started = Date.now();
    const error = await openRegistry(tempDir("pg-none-"), { database: "postgres://mcr@127.0.0.1:1/mcr" }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: "UNAVAILABLE" });
    expect(String((error as Error).message)).toContain("cannot be reached");
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
