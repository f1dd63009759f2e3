/**
 * @module Audit retention: events older than N days, or beyond the newest
 * M rows, are pruned; the rest stay untouched.
 */
import { describe, expect, test } from "bun:test";
import { latestAuditEventId } from "../../../lib/audit/audit-events.ts";
import { pruneAuditEvents } from "../../../lib/audit/retention.ts";
import { recentAuditEvents } from "../../../lib/db/queries/audit.ts";
import { openRegistry, type Registry } from "../../../lib/registry/registry.ts";
import { tempDir } from "../../support/temp.ts";

const DAY = 86_400_000;
const NOW = Date.parse("2026-11-01T00:00:00Z");

/** A registry whose log holds one event per day for `days` days, the last one today. */
async function logOfDays(days: number): Promise<Registry> {
  const reg = await openRegistry(tempDir());
  let clock = NOW - (days - 1) * DAY;
  reg.now = () => clock;
  for (let i = 0; i < days; i++) {
    reg.audit.record({ event: "login", actor: "user:a", outcome: "success", tag: `day${i}` });
    await reg.audit.flush();
    clock += DAY;
  }
  clock = NOW;
  return reg;
}

describe("pruneAuditEvents", () => {
  test("by age: events older than N days go", async () => {
    const reg = await logOfDays(100);
    // day0 is 99 days old, day9 exactly 90: kept, as it is not older than 90 days.
    expect(await pruneAuditEvents(reg, { days: 90, rows: 1_000_000 })).toBe(9);
    const left = await recentAuditEvents(reg.db, 1000);
    expect(left).toHaveLength(91);
    expect(left[0]!.tag).toBe("day9");
    expect(await pruneAuditEvents(reg, { days: 90, rows: 1_000_000 })).toBe(0);
    await reg.close();
  });

  test("by count: only the newest M rows stay, whatever their age", async () => {
    const reg = await logOfDays(30);
    expect(await pruneAuditEvents(reg, { days: 90, rows: 12 })).toBe(18);
    const left = await recentAuditEvents(reg.db, 1000);
    expect(left.map((e) => e.tag)).toEqual(Array.from({ length: 12 }, (_, i) => `day${18 + i}`));
    expect(await latestAuditEventId(reg)).toBe(30);
    await reg.close();
  });

  test("a large backlog is deleted in batches, and the newest rows stay", async () => {
    const reg = await openRegistry(tempDir());
    for (let i = 0; i < 12_345; i++) reg.audit.record({ event: "manifest.pulled", actor: "user:a", outcome: "success" });
    await reg.audit.flush();
    expect(await pruneAuditEvents(reg, { days: 1, rows: 345 })).toBe(12_000);
    expect(await recentAuditEvents(reg.db, 100_000)).toHaveLength(345);
    await reg.close();
  });

  test("refuses limits that would delete everything", async () => {
    const reg = await logOfDays(3);
    expect(pruneAuditEvents(reg, { days: 0, rows: 10 })).rejects.toThrow("positive");
    expect(pruneAuditEvents(reg, { days: 10, rows: 0 })).rejects.toThrow("positive");
    expect(await recentAuditEvents(reg.db, 10)).toHaveLength(3);
    await reg.close();
  });
});
