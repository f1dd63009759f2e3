/**
 * @module /v1/gc: admins start a run in the background and follow it; the
 * run's report is what `mcr gc --json` prints; one run at a time; JSON
 * errors for bad input.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { addUser } from "../../../lib/auth/users.ts";
import { recentAuditEvents } from "../../../lib/db/queries/audit.ts";
import { acquireGcLock, releaseGcLock } from "../../../lib/gc/lock.ts";
import type { GcRunInfo } from "../../../lib/gc/runs.ts";
import { testApp, type TestApp } from "../../support/app.ts";
import { createApp } from "../../../server/app.ts";
import { ADMIN_AUTH, basicAuth } from "../../support/credentials.ts";
import { pushBlob } from "../../support/gc-fixtures.ts";

let t: TestApp;
beforeAll(async () => {
  t = await testApp();
  await addUser(t.reg, { name: "alice", password: "alice-password" }, "test");
});
afterAll(() => t.close());

const send = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  t.request(method, path, { body: body === undefined ? undefined : JSON.stringify(body), headers });

/** Polls run `id` until it is no longer running. */
async function finished(id: number): Promise<GcRunInfo> {
  for (let i = 0; i < 200; i++) {
    const info = (await (await send("GET", `/v1/gc/${id}`)).json()) as GcRunInfo;
    if (info.status !== "running") return info;
    await Bun.sleep(20);
  }
  throw new Error(`run ${id} did not finish`);
}

describe("/v1/gc", () => {
  test("POST starts a run and answers 202 with its id; GET follows it to its report", async () => {
    const garbage = await pushBlob(t.reg, "app", "unreferenced");
    await Bun.sleep(5);
    const res = await send("POST", "/v1/gc", { grace: "0s" });
    expect(res.status).toBe(202);
    const { id, status } = (await res.json()) as { id: number; status: string };
    expect(status).toBe("running");
    expect(res.headers.get("location")).toBe(`/v1/gc/${id}`);
    const info = await finished(id);
    expect(info).toMatchObject({ id, status: "succeeded", actor: "user:admin", options: { dryRun: false, graceMs: 0, untagged: false }, error: null });
    expect(info.report).toMatchObject({ runId: id, blobsRemoved: 1, bytesFreed: garbage.size, missing: [] });
    expect(Object.keys(info.report!).sort()).toEqual(
      ["runId", "dryRun", "graceMs", "untagged", "retention", "startedAt", "finishedAt", "durationMs", "manifestsRemoved", "blobsRemoved", "membershipsRemoved", "orphansRemoved", "uploadsRemoved", "bytesFreed", "missing", "retentionRun"].sort(),
    );
    const list = (await (await send("GET", "/v1/gc")).json()) as { runs: GcRunInfo[] };
    expect(list.runs[0]).toEqual(info);
    await t.reg.audit.flush();
    const events = (await recentAuditEvents(t.reg.db, 20)).filter((e) => e.event.startsWith("gc."));
    expect(events.map((e) => `${e.event} ${e.actor} ${e.outcome}`)).toEqual(["gc.started user:admin success", "gc.finished user:admin success"]);
  });

  test("a run asked for without a grace period gets the server's gc.grace; one with it, its own", async () => {
    const app = createApp(t.reg, { auth: t.auth, gcGraceMs: 120_000 });
    const post = (body?: unknown) =>
      app.fetch(
        new Request("http://registry.test/v1/gc", {
          method: "POST",
          body: body === undefined ? undefined : JSON.stringify(body),
          headers: { authorization: ADMIN_AUTH },
        }),
      );
    const byDefault = await post();
    expect(byDefault.status).toBe(202);
    expect((await finished(((await byDefault.json()) as { id: number }).id)).options).toMatchObject({ graceMs: 120_000 });
    const given = await post({ grace: "30m" });
    expect((await finished(((await given.json()) as { id: number }).id)).options).toMatchObject({ graceMs: 1_800_000 });
  });

  test("no body means the defaults; dry_run and untagged are honoured", async () => {
    const plain = await t.request("POST", "/v1/gc");
    expect(plain.status).toBe(202);
    const first = await finished(((await plain.json()) as { id: number }).id);
    expect(first.options).toEqual({ dryRun: false, graceMs: 3_600_000, untagged: false, retention: false });
    const dry = await send("POST", "/v1/gc", { dry_run: true, untagged: true, grace: "30m" });
    const second = await finished(((await dry.json()) as { id: number }).id);
    expect(second.options).toEqual({ dryRun: true, graceMs: 1_800_000, untagged: true, retention: false });
    expect(second.report?.dryRun).toBe(true);
  });

  test("one run at a time: 409 while another holds the lock", async () => {
    const held = await acquireGcLock(t.reg, "someone", {});
    try {
      const res = await send("POST", "/v1/gc", {});
      expect(res.status).toBe(409);
      expect(((await res.json()) as { error: string }).error).toContain(`run ${held.runId} is already running`);
    } finally {
      await releaseGcLock(t.reg, held.runId);
    }
  });

  test("admins only, and bad input is a JSON 400 or 404", async () => {
    const user = basicAuth("alice", "alice-password");
    expect((await send("POST", "/v1/gc", {}, { authorization: user })).status).toBe(403);
    expect((await send("GET", "/v1/gc", undefined, { authorization: user })).status).toBe(403);
    expect((await send("GET", "/v1/gc/1", undefined, { authorization: "" })).status).toBe(401);
    for (const body of [{ grace: "soon" }, { grace: 5 }, { dry_run: "yes" }, { untagged: 1 }, [1]]) {
      const res = await send("POST", "/v1/gc", body);
      expect(res.status).toBe(400);
      expect(await res.json()).toHaveProperty("error");
    }
    for (const id of ["999999", "abc", "1.5"]) {
      const res = await send("GET", `/v1/gc/${id}`);
      expect(res.status).toBe(404);
      expect(await res.json()).toHaveProperty("error");
    }
    expect((await send("DELETE", "/v1/gc")).status).toBe(405);
  });
});
