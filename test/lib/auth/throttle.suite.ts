/**
 * @module The behaviour every LoginThrottle shares, with an injected
 * clock: distinct wrong secrets per (account, client) pair, a network
 * budget for spraying, an account budget that never stops a clean client.
 * Run by throttle.test.ts (memory) and db-throttle.test.ts (database).
 */
import { describe, expect, test } from "bun:test";
import { addressGroup } from "../../../lib/auth/address-group.ts";
import { THROTTLE_LIMITS, type LoginKey, type LoginThrottle } from "../../../lib/auth/throttle.ts";

const HOUR = 60 * 60 * 1000;

/** Makes a throttle reading the clock `now`. */
export type ThrottleFactory = (now: () => number, limits?: Partial<typeof THROTTLE_LIMITS>) => Promise<LoginThrottle> | LoginThrottle;

/** Runs the shared tests against throttles made by `make`. */
export function runThrottleSuite(name: string, make: ThrottleFactory): void {
  async function setup(limits: Partial<typeof THROTTLE_LIMITS> = {}) {
    const clock = { now: 1_000_000 };
    const throttle = await make(() => clock.now, limits);
    const key = (account: string, source: string): LoginKey => ({ account, group: addressGroup(source) });
    let n = 0;
    /** A wrong secret never tried before. */
    const fail = (k: LoginKey, secret = `guess-${n++}`) => throttle.failure(k, throttle.fingerprint("hash", secret));
    return { clock, throttle, key, fail };
  }

  describe(name, () => {
    describe("per (account, client) pair", () => {
      test("ten distinct wrong secrets are free, then waits double; other clients and accounts are untouched; forgotten after an hour", async () => {
        const { clock, throttle, key, fail } = await setup();
        const alice = key("alice", "1.2.3.4");
        for (let i = 0; i < 10; i++) await fail(alice);
        expect(await throttle.retryAfter(alice)).toBe(0);
        await fail(alice);
        expect(await throttle.retryAfter(alice)).toBe(1);
        await fail(alice);
        expect(await throttle.retryAfter(alice)).toBe(2);
        expect(await throttle.retryAfter(key("alice", "5.6.7.8"))).toBe(0);
        expect(await throttle.retryAfter(key("bob", "1.2.3.4"))).toBe(0);
        clock.now += 2000;
        expect(await throttle.retryAfter(alice)).toBe(0);
        for (let i = 0; i < 20; i++) await fail(alice);
        expect(await throttle.retryAfter(alice)).toBe(THROTTLE_LIMITS.maxDelayMs / 1000);
        clock.now += HOUR;
        await fail(alice);
        expect(await throttle.retryAfter(alice)).toBe(0);
      });

      test("a stale secret retried many times counts once, and is known as a repeat", async () => {
        const { throttle, key } = await setup();
        const ci = key("ci", "10.0.0.1");
        const stale = throttle.fingerprint("hash", "old-password");
        expect(await throttle.isRepeat(ci, stale)).toBe(false);
        for (let i = 0; i < 100; i++) await throttle.failure(ci, stale);
        expect(await throttle.isRepeat(ci, stale)).toBe(true);
        expect(await throttle.isRepeat(key("ci", "10.0.0.2"), stale)).toBe(false);
        expect(await throttle.retryAfter(ci)).toBe(0);
        // The same secret checked against another password hash is another secret.
        expect(throttle.fingerprint("new-hash", "old-password")).not.toBe(stale);
        expect(throttle.fingerprint("hash", "old-password")).toBe(stale);
      });

      test("a success does not reset a guesser's count from the same client", async () => {
        const { throttle, key, fail } = await setup();
        const pair = key("alice", "1.2.3.4");
        for (let i = 0; i < 12; i++) await fail(pair);
        await throttle.success(pair);
        expect(await throttle.retryAfter(pair)).toBe(2);
      });
    });

    describe("per network", () => {
      test("spraying 100 distinct failures over many accounts slows the network, but not pairs that logged in before, nor other networks", async () => {
        const { throttle, key, fail } = await setup();
        await throttle.success(key("carol", "9.9.9.9"));
        for (let i = 0; i < 101; i++) await fail(key(`user${i}`, "9.9.9.9"));
        expect(await throttle.retryAfter(key("dave", "9.9.9.9"))).toBe(1);
        expect(await throttle.retryAfter(key("carol", "9.9.9.9"))).toBe(0);
        expect(await throttle.retryAfter(key("dave", "9.9.9.10"))).toBe(0);
      });

      test("IPv6 clients are /64s and networks /48s", async () => {
        const { throttle, key, fail } = await setup();
        for (let i = 0; i < 11; i++) await fail(key("alice", `2001:db8:1:2::${i + 1}`));
        expect(await throttle.retryAfter(key("alice", "2001:db8:1:2:ffff::9"))).toBe(1);
        expect(await throttle.retryAfter(key("alice", "2001:db8:1:3::1"))).toBe(0);
        for (let i = 0; i < 100; i++) await fail(key(`u${i}`, `2001:db8:1:${i + 10}::1`));
        expect(await throttle.retryAfter(key("bob", "2001:0db8:0001:ffff::1"))).toBeGreaterThan(0);
        expect(await throttle.retryAfter(key("bob", "2001:db8:2::1"))).toBe(0);
      });
    });

    describe("per account", () => {
      test("past its budget an account's guessers get one free try each, a clean client none less, a trusted one its full budget", async () => {
        const { throttle, key, fail } = await setup();
        await throttle.success(key("admin", "192.168.1.5"));
        await fail(key("admin", "192.168.1.5"));
        await fail(key("admin", "192.168.1.5"));
        for (let i = 0; i < 30; i++) await fail(key("admin", `203.0.113.${i}`));
        // A guesser with one failure tries once more; with two it waits.
        await fail(key("admin", "203.0.113.0"));
        expect(await throttle.retryAfter(key("admin", "203.0.113.0"))).toBe(1);
        expect(await throttle.retryAfter(key("admin", "203.0.113.1"))).toBe(0);
        // A client that never failed for admin is never held back.
        expect(await throttle.retryAfter(key("admin", "127.0.0.1"))).toBe(0);
        expect(await throttle.retryAfter(key("admin", "198.51.100.7"))).toBe(0);
        // A client that logged in before keeps its full pair budget.
        expect(await throttle.retryAfter(key("admin", "192.168.1.5"))).toBe(0);
      });
    });
  });
}
