/**
 * @module The in-memory login throttle: the shared behaviour
 * (throttle.suite.ts), and eviction that flooding cannot force.
 */
import { describe, expect, test } from "bun:test";
import { addressGroup } from "../../../lib/auth/address-group.ts";
import { MemoryLoginThrottle, THROTTLE_LIMITS, type LoginKey } from "../../../lib/auth/throttle.ts";
import { runThrottleSuite } from "./throttle.suite.ts";

runThrottleSuite("MemoryLoginThrottle", (now, limits) => new MemoryLoginThrottle(now, limits));

function setup(limits: Partial<typeof THROTTLE_LIMITS> = {}) {
  const clock = { now: 1_000_000 };
  const throttle = new MemoryLoginThrottle(() => clock.now, limits);
  const key = (account: string, source: string): LoginKey => ({ account, group: addressGroup(source) });
  let n = 0;
  /** A wrong secret never tried before. */
  const fail = (k: LoginKey, secret = `guess-${n++}`) => throttle.failure(k, throttle.fingerprint("hash", secret));
  return { clock, throttle, key, fail };
}

describe("bounded memory", () => {
  test("a flood of fresh names from many networks cannot evict a guesser's record", async () => {
    const { throttle, key, fail } = setup();
    const guesser = key("victim", "198.51.100.66");
    for (let i = 0; i < 15; i++) await fail(guesser);
    const wait = await throttle.retryAfter(guesser);
    expect(wait).toBe(16);
    for (let i = 0; i < 120_000; i++) await fail(key(`fresh${i}`, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`));
    const size = throttle.size;
    expect(Math.max(size.pairs, size.networks, size.accounts)).toBeLessThanOrEqual(THROTTLE_LIMITS.maxEntries);
    expect(await throttle.retryAfter(guesser)).toBe(wait);
  });

  test("when everything is a real record the oldest go, and the table stays bounded", async () => {
    const { throttle, key, fail } = setup({ maxEntries: 100 });
    for (let i = 0; i < 300; i++) for (let j = 0; j < 3; j++) await fail(key(`a${i}`, "10.0.0.1"));
    expect(throttle.size.pairs).toBeLessThanOrEqual(100);
  });
});

describe("addressGroup", () => {
  test("IPv4, IPv4-mapped IPv6, IPv6 /64 and /48, zones, and no address", () => {
    expect(addressGroup("1.2.3.4")).toEqual({ client: "1.2.3.4", network: "1.2.3.4" });
    expect(addressGroup("::ffff:1.2.3.4")).toEqual({ client: "1.2.3.4", network: "1.2.3.4" });
    expect(addressGroup("2001:DB8:0:1:2:3:4:5")).toEqual({ client: "2001:db8:0:1::/64", network: "2001:db8:0::/48" });
    expect(addressGroup("2001:db8::1").client).toBe("2001:db8:0:0::/64");
    expect(addressGroup("fe80::1%eth0").client).toBe("fe80:0:0:0::/64");
    expect(addressGroup("::1").client).toBe("0:0:0:0::/64");
    expect(addressGroup("64:ff9b::192.0.2.1").client).toBe("64:ff9b:0:0::/64");
    expect(addressGroup(null)).toEqual({ client: "local", network: "local" });
  });
});
