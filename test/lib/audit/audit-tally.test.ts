/**
 * @module Tallied audit events: one row per key per window with the count,
 * written when the window ends (or when the log is drained), and bounded
 * however many keys a flood opens.
 */
import { describe, expect, test } from "bun:test";
import { AuditTally } from "../../../lib/audit/audit-tally.ts";
import { recentAuditEvents } from "../../../lib/db/queries/audit.ts";
import { openRegistry } from "../../../lib/registry/registry.ts";
import { tempDir } from "../../support/temp.ts";

const THROTTLED = { event: "login", outcome: "denied", detail: { reason: "throttled" } } as const;

describe("AuditTally", () => {
  test("sums one key per window; keys past a scope's bound fold into the scope, past the total into one", () => {
    const tally = new AuditTally({ windowMs: 60_000, keysPerScope: 2, maxTallies: 4 });
    for (let i = 0; i < 100; i++) tally.add(0, "a", "1.1.1.1", { ...THROTTLED, actor: "user:a" });
    for (const name of ["b", "c", "d"]) tally.add(1, name, "1.1.1.1", { ...THROTTLED, actor: `user:${name}` });
    expect(tally.take(59_999)).toEqual([]);
    for (let i = 0; i < 10; i++) tally.add(2, `other${i}`, `2.2.2.${i}`, { ...THROTTLED, actor: "user:z" });
    // Four keys, and the one catch-all on top.
    expect(tally.size).toBe(5);
    const written = tally.take(60_000);
    expect(written.map((e) => [e.actor, e.detail!.count])).toEqual([["user:a", 100]]);
    const rest = tally.take(60_002, false);
    expect(rest.map((e) => [e.actor, e.detail!.count])).toEqual([
      ["user:b", 1],
      ["various", 2],
      ["user:z", 1],
      ["various", 9],
    ]);
    expect(rest[3]!.source).toBeNull();
    expect(tally.size).toBe(0);
  });
});

describe("AuditLog.count", () => {
  test("writes one event per key per window, on flush after the window or on drain", async () => {
    const reg = await openRegistry(tempDir());
    let now = Date.parse("2026-12-01T00:00:00Z");
    reg.now = () => now;
    for (let i = 0; i < 1000; i++) reg.audit.count("admin@10.0.0.1", "10.0.0.1", { ...THROTTLED, actor: "user:admin", source: "10.0.0.1" });
    await reg.audit.flush();
    expect(await recentAuditEvents(reg.db, 10)).toHaveLength(0);
    now += 60_000;
    reg.audit.count("admin@10.0.0.1", "10.0.0.1", { ...THROTTLED, actor: "user:admin", source: "10.0.0.1" });
    await reg.audit.flush();
    const first = await recentAuditEvents(reg.db, 10);
    expect(first).toHaveLength(1);
    expect(JSON.parse(first[0]!.detail!)).toEqual({ reason: "throttled", count: 1000, first: "2026-12-01T00:00:00.000Z", last: "2026-12-01T00:00:00.000Z" });
    expect(first[0]!.noise).toBe(1);
    await reg.close();
    const again = await openRegistry(reg.dataDir);
    const all = await recentAuditEvents(again.db, 10);
    expect(all).toHaveLength(2);
    expect(JSON.parse(all[1]!.detail!)).toMatchObject({ count: 1 });
    expect(reg.audit.stats.counted).toBe(1001);
    await again.close();
  });
});
