/**
 * @module The mirror's memory of upstream not-found answers: each stands
 * until its time, and client-chosen names cannot grow it past its bound
 * (the oldest go first).
 */
import { describe, expect, test } from "bun:test";
import { NOT_FOUND_ENTRIES, NotFoundMemory } from "../../../lib/mirror/mirror.ts";

describe("NotFoundMemory", () => {
  test("an answer stands until its time, then is forgotten", () => {
    const memory = new NotFoundMemory(10);
    memory.remember("a\nlatest", 1000, "manifest unknown");
    expect(memory.recall("a\nlatest", 999)).toBe("manifest unknown");
    expect(memory.recall("a\nother", 999)).toBeNull();
    expect(memory.recall("a\nlatest", 1000)).toBeNull();
    expect(memory.size).toBe(0);
  });

  test(`names past the bound (${NOT_FOUND_ENTRIES.toLocaleString("en")} in a server) push out the oldest, not the newest`, () => {
    const memory = new NotFoundMemory(NOT_FOUND_ENTRIES);
    for (let i = 0; i <= NOT_FOUND_ENTRIES; i++) memory.remember(`typo-${i}\nlatest`, 60_000, "unknown");
    expect(memory.size).toBe(NOT_FOUND_ENTRIES);
    expect(memory.recall("typo-0\nlatest", 0)).toBeNull();
    expect(memory.recall("typo-1\nlatest", 0)).toBe("unknown");
    expect(memory.recall(`typo-${NOT_FOUND_ENTRIES}\nlatest`, 0)).toBe("unknown");
    // Remembered again, a name counts as new.
    memory.remember("typo-1\nlatest", 60_000, "unknown");
    memory.remember("one-more\nlatest", 60_000, "unknown");
    expect(memory.recall("typo-1\nlatest", 0)).toBe("unknown");
    expect(memory.recall("typo-2\nlatest", 0)).toBeNull();
  });
});
