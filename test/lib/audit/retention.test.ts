/**
 * @module Audit retention: events older than N days are pruned, and noise
 * (failed and throttled logins, denials, pulls) beyond its own newest M
 * rows; a flood of noise never pushes out what changed.
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
    expect(await pruneAuditEvents(reg, { days: 90, noiseRows: 1_000_000 })).toBe(9);
    const left = await recentAuditEvents(reg.db, 1000);
    expect(left).toHaveLength(91);
    expect(left[0]!.tag).toBe("day9");
    expect(await pruneAuditEvents(reg, { days: 90, noiseRows: 1_000_000 })).toBe(0);
    await reg.close();
  });

  test("by count: only the newest M noise rows stay, whatever their age; other events stay", async () => {
    const reg = await logOfDays(30);
    for (let i = 0; i < 30; i++) reg.audit.record({ event: "login", actor: "user:a", outcome: "failure", tag: `fail${i}` });
    await reg.audit.flush();
    expect(await pruneAuditEvents(reg, { days: 90, noiseRows: 12 })).toBe(18);
    const left = await recentAuditEvents(reg.db, 1000);
    expect(left.filter((e) => e.outcome === "success")).toHaveLength(30);
    expect(left.filter((e) => e.outcome === "failure").map((e) => e.tag)).toEqual(Array.from({ length: 12 }, (_, i) => `fail${18 + i}`));
    expect(await latestAuditEventId(reg)).toBe(60);
    await reg.close();
  });

  test("a large backlog of noise is deleted in batches, and the newest rows stay", async () => {
    const reg = await openRegistry(tempDir());
    for (let i = 0; i < 12_345; i++) reg.audit.record({ event: "manifest.pulled", actor: "user:a", outcome: "success" });
    await reg.audit.flush();
    expect(await pruneAuditEvents(reg, { days: 1, noiseRows: 345 })).toBe(12_000);
    expect(await recentAuditEvents(reg.db, 100_000)).toHaveLength(345);
    await reg.close();
  });

  test("a flood of failed and throttled logins past the noise cap leaves a victim's push and delete in place", async () => {
    const reg = await openRegistry(tempDir());
    reg.audit.record({ event: "manifest.pushed", actor: "user:victim", outcome: "success", repository: "app", tag: "v1" });
    reg.audit.record({ event: "user.changed", actor: "user:admin", outcome: "success" });
    for (let i = 0; i < 20_000; i++) {
      reg.audit.record({ event: "login", actor: `user:x${i}`, outcome: i % 2 ? "failure" : "denied", source: "203.0.113.9" });
      reg.audit.record({ event: "access.denied", actor: "anonymous", outcome: "denied", repository: "app" });
    }
    // Tallied throttling, as the authenticator writes it.
    for (let i = 0; i < 5000; i++) reg.audit.count(`k${i % 50}`, "203.0.113.9", { event: "login", actor: "user:victim", outcome: "denied", detail: { reason: "throttled" } });
    reg.audit.record({ event: "manifest.deleted", actor: "user:victim", outcome: "success", repository: "app" });
    await reg.audit.drain();
    expect(await pruneAuditEvents(reg, { days: 90, noiseRows: 1000 })).toBeGreaterThanOrEqual(39_000);
    const left = await recentAuditEvents(reg.db, 100_000);
    expect(left.filter((e) => e.event === "manifest.pushed" && e.actor === "user:victim")).toHaveLength(1);
    expect(left.filter((e) => e.event === "manifest.deleted" && e.actor === "user:victim")).toHaveLength(1);
    expect(left.filter((e) => e.event === "user.changed")).toHaveLength(1);
    expect(left.filter((e) => e.noise === 1)).toHaveLength(1000);
    await reg.close();
  });

  test("refuses limits that would delete everything", async () => {
    const reg = await logOfDays(3);
    expect(pruneAuditEvents(reg, { days: 0, noiseRows: 10 })).rejects.toThrow("positive");
    expect(pruneAuditEvents(reg, { days: 10, noiseRows: 0 })).rejects.toThrow("positive");
    expect(await recentAuditEvents(reg.db, 10)).toHaveLength(3);
    await reg.close();
  });
});
