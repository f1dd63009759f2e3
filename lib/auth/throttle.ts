/**
 * @module Brute-force protection: after a few failed logins from one
 * address or for one account, further attempts wait an exponentially
 * growing time. Kept per process; it slows guessing, it guards no data.
 */

const FREE_FAILURES = 5;
const MAX_DELAY_MS = 15 * 60 * 1000;
/** Failures older than this are forgotten. */
const FORGET_AFTER_MS = 60 * 60 * 1000;
const MAX_KEYS = 10_000;

interface Entry {
  failures: number;
  blockedUntil: number;
  lastFailure: number;
}

/** Counts failures per key (`addr:…`, `user:…`) and says how long to wait. */
export class LoginThrottle {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Seconds to wait before any of `keys` may try again; 0 when free. */
  retryAfter(keys: readonly string[]): number {
    const now = this.now();
    let until = 0;
    for (const key of keys) until = Math.max(until, this.entries.get(key)?.blockedUntil ?? 0);
    return until > now ? Math.ceil((until - now) / 1000) : 0;
  }

  /** Records a failure for each key. */
  failure(keys: readonly string[]): void {
    const now = this.now();
    for (const key of keys) {
      const entry = this.entries.get(key);
      const failures = entry && now - entry.lastFailure < FORGET_AFTER_MS ? entry.failures + 1 : 1;
      const delay = failures > FREE_FAILURES ? Math.min(1000 * 2 ** (failures - FREE_FAILURES - 1), MAX_DELAY_MS) : 0;
      this.entries.delete(key);
      this.entries.set(key, { failures, lastFailure: now, blockedUntil: now + delay });
    }
    while (this.entries.size > MAX_KEYS) this.entries.delete(this.entries.keys().next().value!);
  }

  /** A success clears the account's record (not the address's: one good login must not unlock guessing others). */
  success(keys: readonly string[]): void {
    for (const key of keys) this.entries.delete(key);
  }
}
