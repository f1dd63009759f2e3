/**
 * @module Login throttling in the database: the shared behaviour
 * (throttle.suite.ts), one budget for every process over the data
 * directory (two registries on one directory stand for two workers), and
 * pruning that keeps a guesser's record while dropping what no longer counts.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { addressGroup } from "../../../lib/auth/address-group.ts";
import { DbLoginThrottle, fingerprintKey } from "../../../lib/auth/db-throttle.ts";
import { loadSigningKey } from "../../../lib/auth/signing-key.ts";
import { openRegistry, type Registry } from "../../../lib/registry/registry.ts";
import { FsLayout } from "../../../lib/storage/fs-layout.ts";
import { tempDir } from "../../support/temp.ts";
import { runThrottleSuite } from "./throttle.suite.ts";

const opened: Registry[] = [];
afterAll(async () => {
  for (const reg of opened) await reg.close();
});

async function process_(dataDir: string, now: () => number, limits = {}) {
  const reg = await openRegistry(dataDir);
  opened.push(reg);
  const key = fingerprintKey(loadSigningKey(new FsLayout(dataDir).signingKey));
  return new DbLoginThrottle(reg.db, key, now, limits);
}

runThrottleSuite("DbLoginThrottle", (now, limits) => process_(tempDir(), now, limits));

const HOUR = 60 * 60 * 1000;

describe("shared by processes", () => {
  test("failures counted by two processes add up, and a secret one saw is a retry for the other", async () => {
    const dataDir = tempDir();
    const clock = { now: 1_000_000 };
    const a = await process_(dataDir, () => clock.now);
    const b = await process_(dataDir, () => clock.now);
    const alice = { account: "alice", group: addressGroup("1.2.3.4") };
    for (let i = 0; i < 6; i++) await a.failure(alice, a.fingerprint("hash", `guess-${i}`));
    for (let i = 6; i < 11; i++) await b.failure(alice, b.fingerprint("hash", `guess-${i}`));
    // Eleven distinct failures in all: past the ten free ones, on both.
    expect(await a.retryAfter(alice)).toBe(1);
    expect(await b.retryAfter(alice)).toBe(1);
    expect(a.fingerprint("hash", "guess-3")).toBe(b.fingerprint("hash", "guess-3"));
    expect(await b.isRepeat(alice, a.fingerprint("hash", "guess-3"))).toBe(true);
    // A retry recorded again through the other process does not count.
    await b.failure(alice, a.fingerprint("hash", "guess-10"));
    expect(await a.retryAfter(alice)).toBe(1);
  });

  test("pruning drops forgotten rows, keeps live and trusted ones, and caps the pairs lightest first", async () => {
    const clock = { now: 1_000_000 };
    const t = await process_(tempDir(), () => clock.now, { maxEntries: 50 });
    const guesser = { account: "victim", group: addressGroup("198.51.100.66") };
    for (let i = 0; i < 15; i++) await t.failure(guesser, t.fingerprint("hash", `g${i}`));
    const trusted = { account: "owner", group: addressGroup("192.0.2.1") };
    await t.success(trusted);
    for (let i = 0; i < 200; i++) await t.failure({ account: `fresh${i}`, group: addressGroup(`10.0.${i >> 8}.${i & 255}`) }, t.fingerprint("hash", "x"));
    expect(await t.prune()).toBeGreaterThanOrEqual(150);
    expect(await t.retryAfter(guesser)).toBe(16);
    clock.now += 2 * HOUR;
    await t.prune();
    // The guesser's failures are forgotten now; the trusted pair stays trusted.
    expect(await t.retryAfter(guesser)).toBe(0);
  });
});
