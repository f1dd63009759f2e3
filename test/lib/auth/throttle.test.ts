/**
 * @module Login throttling: free attempts, then exponential waits; a success clears the account.
 */
import { expect, test } from "bun:test";
import { LoginThrottle } from "../../../lib/auth/throttle.ts";

test("five failures are free, then each doubles the wait, and it is forgotten after a while", () => {
  let now = 0;
  const throttle = new LoginThrottle(() => now);
  const keys = ["addr:1.2.3.4", "user:alice"];
  for (let i = 0; i < 5; i++) throttle.failure(keys);
  expect(throttle.retryAfter(keys)).toBe(0);
  throttle.failure(keys);
  expect(throttle.retryAfter(keys)).toBe(1);
  throttle.failure(keys);
  expect(throttle.retryAfter(keys)).toBe(2);
  expect(throttle.retryAfter(["addr:other", "user:alice"])).toBe(2);
  expect(throttle.retryAfter(["addr:other", "user:bob"])).toBe(0);
  now += 2000;
  expect(throttle.retryAfter(keys)).toBe(0);
  throttle.success(["user:alice"]);
  expect(throttle.retryAfter(["user:alice"])).toBe(0);
  now += 2 * 60 * 60 * 1000;
  throttle.failure(["addr:1.2.3.4"]);
  expect(throttle.retryAfter(["addr:1.2.3.4"])).toBe(0);
});
