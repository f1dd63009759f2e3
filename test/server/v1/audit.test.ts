/**
 * @module `GET /v1/audit`: admin only, the CLI's filters as query
 * parameters, cursor pages newest first, `after` for following, and JSON
 * errors for bad parameters.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { AuditRecord } from "../../../lib/audit/audit-events.ts";
import { addUser } from "../../../lib/auth/users.ts";
import { testApp, type TestApp } from "../../support/app.ts";
import { pushImage } from "../../support/blobs.ts";
import { basicAuth } from "../../support/credentials.ts";

let t: TestApp;
interface Listing {
  events: AuditRecord[];
  nextCursor: string | null;
}

beforeAll(async () => {
  t = await testApp();
  await addUser(t.reg, { name: "alice", password: "alice-password" }, "test");
  for (const repo of ["web/a", "web/b", "db"]) await pushImage(t, repo, "v1");
  for (let i = 0; i < 3; i++) await t.request("GET", "/v2/web/a/manifests/v1", { headers: { authorization: basicAuth("alice", "alice-password") } });
  await t.reg.audit.flush();
});
afterAll(() => t.close());

async function get(query: string, authorization?: string): Promise<{ status: number; body: unknown }> {
  const res = await t.request("GET", `/v1/audit${query}`, { headers: authorization === undefined ? {} : { authorization } });
  return { status: res.status, body: await res.json() };
}

async function listing(query: string): Promise<Listing> {
  const { status, body } = await get(query);
  expect(status).toBe(200);
  return body as Listing;
}

describe("GET /v1/audit", () => {
  test("admins only", async () => {
    expect((await get("", "")).status).toBe(401);
    const user = await get("", basicAuth("alice", "alice-password"));
    expect(user.status).toBe(403);
    expect(user.body).toHaveProperty("error");
  });

  test("newest first, with the event fields and a null cursor at the end", async () => {
    const { events, nextCursor } = await listing("");
    expect(nextCursor).toBeNull();
    expect(events.map((e) => e.id)).toEqual([...events.map((e) => e.id)].sort((a, b) => b - a));
    expect(events[0]).toEqual({
      id: expect.any(Number),
      time: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      event: "manifest.pulled",
      actor: "user:alice",
      source: "127.0.0.1",
      repository: "web/a",
      digest: expect.stringMatching(/^sha256:/),
      tag: "v1",
      outcome: "success",
      detail: null,
    });
  });

  test("filters: repo (prefix), actor (bare name), event (prefix), since", async () => {
    expect((await listing("?repo=web/*&event=manifest.pushed")).events.map((e) => e.repository)).toEqual(["web/b", "web/a"]);
    expect((await listing("?actor=alice")).events).toHaveLength(3);
    expect((await listing("?actor=user:admin&event=manifest.*")).events).toHaveLength(3);
    expect((await listing("?event=login&actor=alice")).events).toHaveLength(0);
    expect((await listing("?since=1h")).events.length).toBeGreaterThan(5);
    expect((await listing("?since=2099-01-01")).events).toEqual([]);
  });

  test("cursor pages cover every event once, in order", async () => {
    const all = (await listing("?limit=1000")).events.map((e) => e.id);
    const seen: number[] = [];
    let cursor: string | null = "";
    while (cursor !== null) {
      const page: Listing = await listing(`?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.events.length).toBeLessThanOrEqual(2);
      seen.push(...page.events.map((e) => e.id));
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(all);
  });

  test("after=ID: oldest first from there, and where to ask next", async () => {
    const newest = (await listing("?limit=3")).events.map((e) => e.id);
    const after = await listing(`?after=${newest[2]! - 1}&limit=2`);
    expect(after.events.map((e) => e.id)).toEqual([newest[2]!, newest[1]!]);
    expect(after.nextCursor).toBe(String(newest[1]));
    const none = await listing(`?after=${newest[0]}`);
    expect(none).toEqual({ events: [], nextCursor: String(newest[0]) });
    // A filter that matches little still moves the cursor past every row it looked at.
    const sparse = await listing("?after=0&event=user.added");
    expect(sparse.events.map((e) => e.event)).toEqual(["user.added", "user.added"]);
    expect(sparse.nextCursor).toBe(String(newest[0]));
  });

  test("bad parameters are 400 with a JSON error, never a 500", async () => {
    for (const query of ["?limit=0", "?limit=1001", "?limit=x", "?cursor=-1", "?cursor=1&after=1", "?since=someday", "?repo=", "?after=1e3"]) {
      const { status, body } = await get(query);
      expect({ query, status }).toEqual({ query, status: 400 });
      expect(typeof (body as { error: unknown }).error).toBe("string");
    }
  });
});
