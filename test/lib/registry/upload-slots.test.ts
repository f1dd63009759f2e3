/**
 * @module UploadSlots on its own: per-account and total counts, and a
 * release that counts once however often it is called.
 */
import { describe, expect, test } from "bun:test";
import { UploadSlots } from "../../../lib/registry/upload-slots.ts";

describe("UploadSlots", () => {
  test("counts per account and in total, and refuses past either limit", () => {
    const slots = new UploadSlots({ maxConcurrentUploads: 3, maxConcurrentUploadsPerUser: 2 });
    const a1 = slots.acquire("a");
    slots.acquire("a");
    expect(() => slots.acquire("a")).toThrow(/a already has 2 uploads/);
    slots.acquire("b");
    expect(() => slots.acquire("c")).toThrow(/registry already has 3/);
    expect([slots.inUse(), slots.inUse("a"), slots.inUse("b"), slots.inUse("c")]).toEqual([3, 2, 1, 0]);
    a1();
    a1();
    expect([slots.inUse(), slots.inUse("a")]).toEqual([2, 1]);
    expect(() => slots.acquire("c")).not.toThrow();
  });

  test("with() gives the slot back when the work throws", async () => {
    const slots = new UploadSlots({ maxConcurrentUploads: 1, maxConcurrentUploadsPerUser: 1 });
    await expect(slots.with("a", async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(slots.inUse()).toBe(0);
  });
});
