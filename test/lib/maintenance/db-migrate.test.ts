/**
 * @module `mcr db migrate`: a single-box registry with users, tokens (and a
 * session made from one), policy, audit, tags, referrers and a GC run moves
 * to PostgreSQL and back, verified; the registry opened on PostgreSQL
 * serves the same content, credentials and rules, and takes new writes.
 * Needs a PostgreSQL (test/support/postgres.ts): skips with the reason without one.
 */
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { Authenticator } from "../../../lib/auth/authenticator.ts";
import { createDerivedToken } from "../../../lib/auth/derived-tokens.ts";
import { createToken } from "../../../lib/auth/tokens.ts";
import { addUser } from "../../../lib/auth/users.ts";
import type { CopyReport } from "../../../lib/db/copy.ts";
import { runGc } from "../../../lib/gc/run.ts";
import { sha256Digest } from "../../../lib/oci/digest.ts";
import { applyPolicy } from "../../../lib/policy/store.ts";
import { openRegistry } from "../../../lib/registry/registry.ts";
import { createApp } from "../../../server/app.ts";
import { testApp, type TestApp } from "../../support/app.ts";
import { pushImage, pushManifest } from "../../support/blobs.ts";
import { runCli } from "../../support/cli.ts";
import { basicAuth } from "../../support/credentials.ts";
import { postgresAvailable, postgresDatabase } from "../../support/postgres.ts";
import { tempDir } from "../../support/temp.ts";

setDefaultTimeout(120_000);

const available = postgresAvailable("test/lib/maintenance/db-migrate.test.ts");

let t: TestApp;
let pat: string;
let session: string;
let image: { digest: string };
let referrer: string;

beforeAll(async () => {
  if (!available) return;
  // The source is SQLite, whatever MCR_TEST_DATABASE says.
  const saved = process.env.MCR_TEST_DATABASE;
  delete process.env.MCR_TEST_DATABASE;
  t = await testApp();
  if (saved !== undefined) process.env.MCR_TEST_DATABASE = saved;
  await addUser(t.reg, { name: "alice", password: "alice-password" }, "test");
  const made = await createToken(t.reg, { user: "alice", label: "ci" }, "test");
  pat = made.token;
  const alice = (await t.reg.db.selectFrom("users").select(["id", "role", "kind"]).where("name", "=", "alice").executeTakeFirstOrThrow());
  session = (
    await createDerivedToken(t.reg, { kind: "user", userId: alice.id, name: "alice", role: alice.role, userKind: alice.kind, via: "token", tokenId: made.id }, { kind: "session", label: "web", ttlMs: 3_600_000 })
  ).token;
  await applyPolicy(
    t.reg,
    [
      { id: "alice-app", priority: 5, effect: "allow", subjects: ["user:alice"], actions: ["pull", "push"], repositories: ["team/**"], enabled: true, description: "alice on team" },
      { id: "no-guests", priority: 9, effect: "deny", subjects: ["anonymous"], actions: ["pull"], repositories: ["**"], enabled: true, description: "closed" },
    ],
    "test",
  );
  image = await pushImage(t, "team/app", "v1", ["base layer", "app layer"]);
  await pushImage(t, "team/app", "v2", ["base layer", "other layer"]);
  const subject = { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: image.digest, size: 0 };
  subject.size = (await (await t.request("GET", `/v2/team/app/manifests/${image.digest}`)).arrayBuffer()).byteLength;
  const empty = { mediaType: "application/vnd.oci.empty.v1+json", digest: sha256Digest("{}"), size: 2 };
  await t.request("POST", `/v2/team/app/blobs/uploads/?digest=${empty.digest}`, { body: "{}" });
  const sbom = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: subject.mediaType, artifactType: "application/spdx+json", config: empty, layers: [empty], subject, annotations: { "org.example.kind": "sbom" } }));
  referrer = sha256Digest(sbom);
  expect((await pushManifest(t, "team/app", referrer, sbom)).status).toBe(201);
  await runGc(t.reg, { dryRun: true, graceMs: 0, actor: "test" });
  await t.reg.audit.flush();
  await t.close();
});

/** Runs `mcr db migrate --json`; returns the report. */
async function migrateCli(from: string, to: string): Promise<CopyReport> {
  const r = await runCli(["db", "migrate", "--from", from, "--to", to, "--json"]);
  if (r.code !== 0) throw new Error(`mcr db migrate failed (${r.code}): ${r.stderr}${r.stdout}`);
  return JSON.parse(r.stdout) as CopyReport;
}

describe.skipIf(!available)("mcr db migrate", () => {
  test("SQLite → PostgreSQL → SQLite: every table's count and SHA-256 equal; PostgreSQL serves the same registry", async () => {
    const pg = await postgresDatabase();
    const toPg = await migrateCli(join(t.dataDir, "mcr.db"), pg);
    const rows = Object.fromEntries(toPg.tables.map((x) => [x.table, x.rows]));
    expect(rows).toMatchObject({ users: 2, access_tokens: 2, policy_rules: 2, tags: 2, referrers: 1, gc_runs: 1 });
    expect(rows.audit_events).toBeGreaterThan(5);

    // A second run into the same database is refused: it already holds a registry.
    const again = await runCli(["db", "migrate", "--from", join(t.dataDir, "mcr.db"), "--to", pg]);
    expect(again.code).not.toBe(0);
    expect(again.stderr + again.stdout).toContain("already holds data");

    // And back into a new SQLite file: the same rows, table by table.
    const back = join(tempDir("back-"), "mcr.db");
    const toSqlite = await migrateCli(pg, back);
    expect(toSqlite.tables).toEqual(toPg.tables);

    // The registry on PostgreSQL, with the same blobs: content, credentials, rules.
    const reg = await openRegistry(t.dataDir, { database: pg });
    try {
      const app = createApp(reg, { auth: new Authenticator(reg, t.key, { tokenTtlSeconds: 300 }) });
      const send = (path: string, authorization: string, init: RequestInit = {}) =>
        app.fetch(new Request(`http://registry.test${path}`, { ...init, headers: { authorization, ...(init.headers ?? {}) } }), { requestIP: () => ({ address: "127.0.0.1" }) } as never);
      const byTag = await send("/v2/team/app/manifests/v1", basicAuth("alice", pat));
      expect(byTag.status).toBe(200);
      expect(byTag.headers.get("docker-content-digest")).toBe(image.digest);
      expect((await send("/v2/team/app/manifests/v1", basicAuth("alice", "alice-password"))).status).toBe(200);
      // The session (made from the token, its parent) still authenticates on /v1; a made-up one does not.
      expect((await send("/v1/tokens", `Bearer ${session}`)).status).not.toBe(401);
      expect((await send("/v1/tokens", `Bearer ${session.slice(0, -4)}AAAA`)).status).toBe(401);
      expect((await send("/v2/team/app/manifests/v1", "")).status).toBe(401);
      const referrers = (await (await send(`/v2/team/app/referrers/${image.digest}`, basicAuth("alice", pat))).json()) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
      expect(referrers.manifests.map((m) => [m.digest, m.annotations?.["org.example.kind"]])).toEqual([[referrer, "sbom"]]);
      expect((await reg.policy.rules()).map((r) => r.id)).toEqual(["no-guests", "alice-app"]);
      // New rows get new ids past the copied ones (identity sequences moved on).
      await addUser(reg, { name: "bob", password: "bob-password-1" }, "test");
      await reg.audit.flush();
      expect((await send("/v2/team/app/tags/list", basicAuth("bob", "bob-password-1"))).status).toBe(403);
    } finally {
      await reg.close();
    }
  });

  test("a source that does not exist, or the same database twice, is refused without creating anything", async () => {
    const missing = await runCli(["db", "migrate", "--from", join(tempDir("none-"), "mcr.db"), "--to", join(tempDir("x-"), "mcr.db")]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("does not exist");
    const same = await runCli(["db", "migrate", "--from", join(t.dataDir, "mcr.db"), "--to", join(t.dataDir, "mcr.db")]);
    expect(same.code).not.toBe(0);
    expect(same.stderr).toContain("same database");
  });
});
