/**
 * @module One GC at a time: the lock row, taking over from a dead holder,
 * the runs table as the API shows it, and the audit events of a run.
 */
import { describe, expect, test } from "bun:test";
import { hostname } from "node:os";
import { setGcLock, insertGcRun } from "../../../lib/db/queries/gc-runs.ts";
import { acquireGcLock, LOCK_STALE_MS, releaseGcLock } from "../../../lib/gc/lock.ts";
import { runGc, startGc, stopGcRuns } from "../../../lib/gc/run.ts";
import { getGcRun, listGcRunInfos } from "../../../lib/gc/runs.ts";
import { recentAuditEvents } from "../../../lib/db/queries/audit.ts";
import { clockedRegistry, HOUR, pushBlob } from "../../support/gc-fixtures.ts";

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const proc = Bun.spawn(["true"]);
  await proc.exited;
  return proc.pid;
}

describe("the GC lock", () => {
  test("a second run is refused while one holds the lock, and allowed once it is released", async () => {
    const { reg } = await clockedRegistry();
    const held = await acquireGcLock(reg, "someone", {});
    await expect(runGc(reg, { actor: "test" })).rejects.toMatchObject({ code: "CONFLICT", message: expect.stringContaining(`run ${held.runId}`) });
    await releaseGcLock(reg, held.runId);
    expect((await runGc(reg, { actor: "test" })).runId).toBeGreaterThan(held.runId);
    await reg.close();
  });

  test("a lock whose holder died is taken over, and the dead run is recorded as failed", async () => {
    const { reg } = await clockedRegistry();
    const pid = await deadPid();
    const dead = await insertGcRun(reg.db, { actor: "cron", options: "{}", pid, host: hostname(), started_at: reg.now() });
    await setGcLock(reg.db, { run_id: dead, pid, host: hostname(), started_at: reg.now(), heartbeat_at: reg.now() });
    expect((await getGcRun(reg, dead)).status).toBe("failed");
    const report = await runGc(reg, { actor: "test" });
    expect(report.runId).not.toBe(dead);
    const info = await getGcRun(reg, dead);
    expect(info).toMatchObject({ status: "failed", error: expect.stringContaining(`pid ${pid}`) });
    expect(await reg.db.selectFrom("gc_lock").selectAll().execute()).toEqual([]);
    await reg.close();
  });

  test("a holder on another host is alive until its heartbeat is stale", async () => {
    const { reg, advance } = await clockedRegistry();
    const run = await insertGcRun(reg.db, { actor: "cron", options: "{}", pid: 1, host: "elsewhere", started_at: reg.now() });
    await setGcLock(reg.db, { run_id: run, pid: 1, host: "elsewhere", started_at: reg.now(), heartbeat_at: reg.now() });
    await expect(runGc(reg, { actor: "test" })).rejects.toMatchObject({ code: "CONFLICT" });
    advance(LOCK_STALE_MS + 1);
    await runGc(reg, { actor: "test" });
    await reg.close();
  });
});

describe("runs", () => {
  test("a started run has an id at once; its record shows progress, then the report", async () => {
    const { reg, advance } = await clockedRegistry();
    await pushBlob(reg, "app", "garbage");
    advance(2 * HOUR);
    const started = await startGc(reg, { actor: "user:admin", graceMs: 0 });
    expect((await getGcRun(reg, started.runId)).status).toBe("running");
    const report = await started.done;
    const info = await getGcRun(reg, started.runId);
    expect(info).toMatchObject({ id: started.runId, status: "succeeded", actor: "user:admin", options: { dryRun: false, graceMs: 0, untagged: false }, error: null });
    expect(info.report).toEqual(report);
    expect((await listGcRunInfos(reg)).map((r) => r.id)).toEqual([started.runId]);
    await expect(getGcRun(reg, 12345)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await reg.close();
  });

  test("a process shutting down stops its runs at the next batch, and the run is recorded as failed", async () => {
    const { reg, advance } = await clockedRegistry();
    await pushBlob(reg, "app", "garbage");
    advance(2 * HOUR);
    const started = await startGc(reg, { actor: "test" });
    await stopGcRuns(reg);
    await expect(started.done).rejects.toMatchObject({ code: "UNAVAILABLE" });
    expect(await getGcRun(reg, started.runId)).toMatchObject({ status: "failed", error: expect.stringContaining("stopped") });
    expect(await reg.db.selectFrom("gc_lock").selectAll().execute()).toEqual([]);
    await reg.close();
  });

  test("start and finish are audited, the finish with the counts", async () => {
    const { reg, advance } = await clockedRegistry();
    await pushBlob(reg, "app", "garbage");
    advance(2 * HOUR);
    const report = await runGc(reg, { actor: "local:ops" });
    await reg.audit.flush();
    const events = (await recentAuditEvents(reg.db, 10)).filter((e) => e.event.startsWith("gc."));
    expect(events.map((e) => [e.event, e.actor, e.outcome])).toEqual([
      ["gc.started", "local:ops", "success"],
      ["gc.finished", "local:ops", "success"],
    ]);
    expect(JSON.parse(events[1]!.detail!)).toMatchObject({ run: report.runId, blobsRemoved: 1, bytesFreed: 7, missing: 0, durationMs: report.durationMs });
    await reg.close();
  });
});
