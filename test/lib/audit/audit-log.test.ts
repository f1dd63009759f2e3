/**
 * @module The batched audit writer: record() only queues; events reach
 * the database a few milliseconds later, many per statement, and close()
 * loses none. Any event name is stored.
 */
import { describe, expect, test } from "bun:test";
import { insertAuditEvents, recentAuditEvents } from "../../../lib/db/queries/audit.ts";
import { openRegistry } from "../../../lib/registry/registry.ts";
import { tempDir } from "../../support/temp.ts";

const event = (i: number) => ({ event: "manifest.pulled", actor: "user:bench", outcome: "success" as const, source: "10.0.0.1", repository: "bench/app", tag: `t${i}` });

describe("AuditLog", () => {
  test("record() queues; the events are written together a few ms later", async () => {
    const reg = await openRegistry(tempDir());
    for (let i = 0; i < 50; i++) reg.audit.record(event(i));
    expect(reg.audit.pending).toBe(50);
    expect(await recentAuditEvents(reg.db, 100)).toHaveLength(0);
    await Bun.sleep(40);
    expect(reg.audit.pending).toBe(0);
    expect(await recentAuditEvents(reg.db, 100)).toHaveLength(50);
    expect(reg.audit.stats).toMatchObject({ recorded: 50, written: 50, batches: 1, failed: 0 });
    await reg.close();
  });

  test("a burst is written in batches of 200, and close() flushes what is left", async () => {
    const dir = tempDir();
    const reg = await openRegistry(dir);
    for (let i = 0; i < 1001; i++) reg.audit.record(event(i));
    await reg.close();
    expect(reg.audit.stats).toMatchObject({ recorded: 1001, written: 1001, batches: 6 });
    const again = await openRegistry(dir);
    const rows = await recentAuditEvents(again.db, 2000);
    expect(rows.map((r) => r.tag)).toEqual(Array.from({ length: 1001 }, (_, i) => `t${i}`));
    await again.close();
  });

  test("recording costs microseconds, far less than writing each event on its own", async () => {
    const reg = await openRegistry(tempDir());
    const n = 2000;
    let started = performance.now();
    for (let i = 0; i < n; i++) reg.audit.record(event(i));
    const recordUs = ((performance.now() - started) * 1000) / n;
    await reg.audit.flush();
    started = performance.now();
    for (let i = 0; i < n; i++) {
      await insertAuditEvents(reg.db, [{ ...event(i), time: Date.now(), digest: null, detail: null, noise: 0 }]);
    }
    const insertUs = ((performance.now() - started) * 1000) / n;
    console.log(`audit: record() ${recordUs.toFixed(1)} µs/event; one insert per event ${insertUs.toFixed(1)} µs/event`);
    expect(recordUs).toBeLessThan(insertUs / 3);
    expect(recordUs).toBeLessThan(50);
    await reg.close();
  });

  test("any event name and detail is stored as given", async () => {
    const reg = await openRegistry(tempDir());
    reg.audit.record({ event: "policy.changed", actor: "local:ops", outcome: "success", detail: { before: { rules: 1 }, after: { rules: 2 } } });
    reg.audit.record({ event: "gc.finished", actor: "system", outcome: "failure", detail: { deleted: 3 } });
    await reg.audit.flush();
    const rows = await recentAuditEvents(reg.db, 10);
    expect(rows.map((r) => [r.event, r.outcome, JSON.parse(r.detail!)])).toEqual([
      ["policy.changed", "success", { before: { rules: 1 }, after: { rules: 2 } }],
      ["gc.finished", "failure", { deleted: 3 }],
    ]);
    await reg.close();
  });
});
