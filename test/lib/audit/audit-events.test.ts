/**
 * @module Reading the audit log: filters (exact, prefix, bare actor names,
 * since), pages newest first with a cursor, reads after an id, and a
 * follow that sees new events and stops when told.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  auditEventsAfter,
  followAuditEvents,
  latestAuditEventId,
  listAuditEvents,
  startAuditTail,
  type AuditRecord,
} from "../../../lib/audit/audit-events.ts";
import { parseAuditFilter, parseSince, type AuditFilterInput } from "../../../lib/audit/audit-filter.ts";
import { RegistryError } from "../../../lib/errors.ts";
import { openRegistry, type Registry } from "../../../lib/registry/registry.ts";
import { tempDir } from "../../support/temp.ts";

const T0 = Date.parse("2026-11-01T00:00:00Z");
const HOUR = 3_600_000;
let reg: Registry;
let clock = T0;

beforeAll(async () => {
  reg = await openRegistry(tempDir());
  reg.now = () => clock;
  const rows: [string, string, string | null][] = [
    ["manifest.pushed", "user:alice", "team/app"],
    ["manifest.pulled", "robot:ci", "team/app"],
    ["login", "user:alice", null],
    ["manifest.pushed", "user:bob", "team/api"],
    ["tag.deleted", "local:alice", "other"],
    ["manifest.pulled", "user:alice", "team/app"],
    ["gc.finished", "system", null],
  ];
  for (const [event, actor, repository] of rows) {
    reg.audit.record({ event, actor, repository, outcome: "success", source: "10.0.0.1" });
    clock += HOUR;
  }
  await reg.audit.flush();
});
afterAll(() => reg.close());

const list = async (input: AuditFilterInput, limit = 100): Promise<AuditRecord[]> =>
  (await listAuditEvents(reg, parseAuditFilter(input, clock), limit)).events;

describe("filters", () => {
  test("no filter: everything, newest first", async () => {
    const events = await list({});
    expect(events.map((e) => e.event)).toEqual(["gc.finished", "manifest.pulled", "tag.deleted", "manifest.pushed", "login", "manifest.pulled", "manifest.pushed"]);
    expect(events[0]).toMatchObject({ actor: "system", source: "10.0.0.1", repository: null, digest: null, tag: null, detail: null });
    expect(events.at(-1)!.time).toBe("2026-11-01T00:00:00.000Z");
  });

  test("repo: exact or a prefix with *", async () => {
    expect((await list({ repo: "team/app" })).map((e) => e.id)).toEqual([6, 2, 1]);
    expect((await list({ repo: "team/*" })).map((e) => e.repository)).toEqual(["team/app", "team/api", "team/app", "team/app"]);
    expect(await list({ repo: "team" })).toEqual([]);
    expect((await list({ repo: "*" })).length).toBe(5);
  });

  test("event: exact or a prefix; actor: exact, or a bare name for user, robot and local", async () => {
    expect((await list({ event: "manifest.*" })).map((e) => e.event)).toEqual(["manifest.pulled", "manifest.pushed", "manifest.pulled", "manifest.pushed"]);
    expect((await list({ event: "login" })).map((e) => e.id)).toEqual([3]);
    expect((await list({ actor: "alice" })).map((e) => e.actor)).toEqual(["user:alice", "local:alice", "user:alice", "user:alice"]);
    expect((await list({ actor: "user:alice" })).map((e) => e.id)).toEqual([6, 3, 1]);
    expect((await list({ actor: "ci" })).map((e) => e.actor)).toEqual(["robot:ci"]);
    expect((await list({ actor: "alice", event: "manifest.*", repo: "team/app" })).map((e) => e.id)).toEqual([6, 1]);
  });

  test("since: a duration before now, a date, or a time", async () => {
    expect((await list({ since: "2h" })).map((e) => e.id)).toEqual([7, 6]);
    expect((await list({ since: "2026-11-01T04:00:00Z" })).map((e) => e.id)).toEqual([7, 6, 5]);
    expect((await list({ since: "2026-11-01T04:00" })).map((e) => e.id)).toEqual([7, 6, 5]);
    expect((await list({ since: "2026-11-02" })).length).toBe(0);
    expect(parseSince("2026-11-01", 0)).toBe(T0);
    expect(parseSince("90s", T0)).toBe(T0 - 90_000);
    expect(parseSince("2026-11-01T01:00:00+01:00", 0)).toBe(T0);
  });

  test("bad filters are INVALID_ARGUMENT", () => {
    for (const input of [{ since: "yesterday" }, { since: "0h" }, { since: "2026-13-01" }, { since: "1y" }, { repo: "" }, { actor: "x".repeat(300) }]) {
      let error: unknown;
      try {
        parseAuditFilter(input, clock);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(input)).toBeInstanceOf(RegistryError);
      expect((error as RegistryError).code).toBe("INVALID_ARGUMENT");
    }
  });
});

describe("pages and reads after an id", () => {
  test("newest first, with a cursor to the next page, null at the end", async () => {
    const filter = parseAuditFilter({}, clock);
    const seen: number[] = [];
    let before: number | undefined;
    for (;;) {
      const page = await listAuditEvents(reg, filter, 3, before);
      seen.push(...page.events.map((e) => e.id));
      if (page.next === null) break;
      before = page.next;
    }
    expect(seen).toEqual([7, 6, 5, 4, 3, 2, 1]);
    expect((await listAuditEvents(reg, filter, 7)).next).toBeNull();
    expect((await listAuditEvents(reg, filter, 6)).next).toBe(2);
  });

  test("after an id, oldest first, filtered", async () => {
    expect((await auditEventsAfter(reg, parseAuditFilter({}, clock), 4, 100)).map((e) => e.id)).toEqual([5, 6, 7]);
    expect((await auditEventsAfter(reg, parseAuditFilter({ event: "manifest.*" }, clock), 0, 2)).map((e) => e.id)).toEqual([1, 2]);
    expect(await latestAuditEventId(reg)).toBe(7);
  });
});

describe("startAuditTail", () => {
  test("the last N matches oldest first, or every match; and the id to follow from", async () => {
    const last = await startAuditTail(reg, parseAuditFilter({ actor: "alice" }, clock), 2);
    expect(last.events.map((e) => e.id)).toEqual([5, 6]);
    expect(last.upTo).toBe(await latestAuditEventId(reg));
    expect((await startAuditTail(reg, parseAuditFilter({ since: "2026-11-01T03:00:00Z" }, clock), undefined)).events.map((e) => e.id)).toEqual([4, 5, 6, 7]);
    expect((await startAuditTail(reg, parseAuditFilter({}, clock), 0)).events).toEqual([]);
    expect((await startAuditTail(reg, parseAuditFilter({}, clock), 1000)).events.map((e) => e.id)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });
});

describe("follow", () => {
  test("yields new matching events as they are written, and stops on abort", async () => {
    const stop = new AbortController();
    const follow = followAuditEvents(reg, parseAuditFilter({ repo: "live" }, clock), await latestAuditEventId(reg), { signal: stop.signal, intervalMs: 10 });
    const got: string[] = [];
    const reading = (async () => {
      for await (const batch of follow) {
        got.push(...batch.map((e) => e.tag!));
        if (got.length >= 3) stop.abort();
      }
    })();
    reg.audit.record({ event: "manifest.pushed", actor: "user:x", outcome: "success", repository: "live", tag: "a" });
    reg.audit.record({ event: "manifest.pushed", actor: "user:x", outcome: "success", repository: "elsewhere", tag: "no" });
    await Bun.sleep(30);
    reg.audit.record({ event: "manifest.pushed", actor: "user:x", outcome: "success", repository: "live", tag: "b" });
    reg.audit.record({ event: "manifest.pushed", actor: "user:x", outcome: "success", repository: "live", tag: "c" });
    await reading;
    expect(got).toEqual(["a", "b", "c"]);
  });
});
