/**
 * @module Login throttling that slows guessing without locking out the
 * innocent. Failures are counted per (account, client) pair, as distinct
 * wrong secrets: a client retrying one stale password counts once, a
 * guesser pays for every new guess. A network has a generous budget for
 * spraying many accounts, and an account one across all clients that, once
 * spent, gives clients with failures for it a single free try but never
 * touches a client with a clean record. Memory is bounded, and eviction
 * drops light entries first, so flooding fresh names cannot erase a
 * guesser's record. Kept per process for now, behind `LoginThrottle`.
 */
import { createHmac } from "node:crypto";
import type { AddressGroup } from "./address-group.ts";

/** Who tries to log in, and from where. */
export interface LoginKey {
  account: string;
  group: AddressGroup;
}

/**
 * What the authenticator needs of a throttle. Async, so an implementation
 * may keep its counters in the database, shared by every process.
 */
export interface LoginThrottle {
  /** Seconds before `key` may try again; 0 when it may try now. */
  retryAfter(key: LoginKey): Promise<number>;
  /** A short keyed hash of a secret as checked against `stamp` (what the secret was compared with). */
  fingerprint(stamp: string, secret: string): string;
  /** Whether the secret with `fingerprint` already failed for `key`: a retry, not a new guess. */
  isRepeat(key: LoginKey, fingerprint: string): Promise<boolean>;
  /** Records a wrong secret for `key`. */
  failure(key: LoginKey, fingerprint: string): Promise<void>;
  /** Records a correct one: the pair is trusted for a while. */
  success(key: LoginKey): Promise<void>;
}

/** The budgets, as documented in SECURITY.md; tests may shrink the table sizes. */
export const THROTTLE_LIMITS = {
  /** Distinct wrong secrets per (account, client) before waits begin. */
  pairFree: 10,
  /** The same, for a client that has failed for an account whose own budget is spent. */
  pairFreeUnderAttack: 1,
  /** Distinct wrong secrets per network, over all accounts, before its untrusted clients wait. */
  networkFree: 100,
  /** Distinct wrong secrets per account, over all clients, before it counts as under attack. */
  accountFree: 20,
  /** Waits double from 1 s up to this. */
  maxDelayMs: 15 * 60 * 1000,
  /** Failures are forgotten this long after the last one. */
  forgetAfterMs: 60 * 60 * 1000,
  /** A pair that logged in successfully skips the network and account budgets this long. */
  trustMs: 30 * 24 * 60 * 60 * 1000,
  /** Wrong-secret fingerprints remembered per pair. */
  rememberedSecrets: 8,
  /** Entries per table (pairs, networks, accounts). */
  maxEntries: 50_000,
  /** Entries with at least this many failures (or trusted) are evicted only when nothing lighter is left. */
  protectedFailures: 3,
};

type Limits = typeof THROTTLE_LIMITS;

interface Counter {
  failures: number;
  lastFailure: number;
}

interface Pair extends Counter {
  wrong: string[];
  lastSuccess: number;
}

/** The in-process throttle: three bounded maps. */
export class MemoryLoginThrottle implements LoginThrottle {
  private readonly pairs = new Map<string, Pair>();
  private readonly networks = new Map<string, Counter>();
  private readonly accounts = new Map<string, Counter>();
  private readonly limits: Limits;
  /** Keys the fingerprints, so what is kept cannot be tried against a password list. */
  private readonly key = crypto.getRandomValues(new Uint8Array(32));

  constructor(
    private readonly now: () => number = Date.now,
    limits: Partial<Limits> = {},
  ) {
    this.limits = { ...THROTTLE_LIMITS, ...limits };
  }

  async retryAfter({ account, group }: LoginKey): Promise<number> {
    const now = this.now();
    const pair = this.pairs.get(pairKey(account, group));
    const trusted = this.trusted(pair, now);
    const underAttack = this.live(this.accounts.get(account), now) > this.limits.accountFree;
    const free = underAttack && !trusted ? this.limits.pairFreeUnderAttack : this.limits.pairFree;
    let until = this.blockedUntil(pair, free, now);
    if (!trusted) until = Math.max(until, this.blockedUntil(this.networks.get(group.network), this.limits.networkFree, now));
    return until > now ? Math.ceil((until - now) / 1000) : 0;
  }

  fingerprint(stamp: string, secret: string): string {
    return createHmac("sha256", this.key).update(stamp).update("\0").update(secret).digest("base64url").slice(0, 16);
  }

  async isRepeat({ account, group }: LoginKey, fingerprint: string): Promise<boolean> {
    const pair = this.pairs.get(pairKey(account, group));
    return pair !== undefined && this.live(pair, this.now()) > 0 && pair.wrong.includes(fingerprint);
  }

  async failure({ account, group }: LoginKey, fingerprint: string): Promise<void> {
    const now = this.now();
    const key = pairKey(account, group);
    const pair = this.pairs.get(key) ?? { failures: 0, lastFailure: 0, wrong: [], lastSuccess: 0 };
    if (this.live(pair, now) === 0) pair.wrong = [];
    if (pair.wrong.includes(fingerprint)) return;
    pair.wrong.push(fingerprint);
    if (pair.wrong.length > this.limits.rememberedSecrets) pair.wrong.shift();
    pair.failures = this.live(pair, now) + 1;
    pair.lastFailure = now;
    this.put(this.pairs, key, pair);
    for (const [map, name] of [[this.networks, group.network], [this.accounts, account]] as const) {
      const counter = map.get(name);
      this.put(map, name, { failures: this.live(counter, now) + 1, lastFailure: now });
    }
  }

  async success({ account, group }: LoginKey): Promise<void> {
    const now = this.now();
    const key = pairKey(account, group);
    const pair = this.pairs.get(key);
    // Basic credentials come with every request: note the success once a minute, not each time.
    if (pair && pair.lastSuccess > 0 && now - pair.lastSuccess < 60_000) return;
    this.put(this.pairs, key, { failures: 0, lastFailure: 0, wrong: [], ...pair, lastSuccess: now });
  }

  /** Entries held, per table (for tests and metrics). */
  get size(): { pairs: number; networks: number; accounts: number } {
    return { pairs: this.pairs.size, networks: this.networks.size, accounts: this.accounts.size };
  }

  /** Whether `entry` is a pair that logged in successfully within the trust period. */
  private trusted(entry: Counter | undefined, now: number): boolean {
    const at = entry && "lastSuccess" in entry ? (entry as Pair).lastSuccess : 0;
    return at > 0 && now - at < this.limits.trustMs;
  }

  /** Failures of `counter` that still count at `now`. */
  private live(counter: Counter | undefined, now: number): number {
    return counter && now - counter.lastFailure < this.limits.forgetAfterMs ? counter.failures : 0;
  }

  /** When `counter` may try again, given `free` failures before waits begin. */
  private blockedUntil(counter: Counter | undefined, free: number, now: number): number {
    const failures = this.live(counter, now);
    if (failures <= free) return 0;
    return counter!.lastFailure + Math.min(1000 * 2 ** (failures - free - 1), this.limits.maxDelayMs);
  }

  /** Sets `key` as the newest entry of `map`, evicting when the map is full. */
  private put<T extends Counter>(map: Map<string, T>, key: string, value: T): void {
    map.delete(key);
    map.set(key, value);
    if (map.size > this.limits.maxEntries) this.evict(map);
  }

  /**
   * Frees a batch of entries, oldest first: forgotten and light ones (a
   * fresh name's single failure) before any with several failures or a
   * recent success, so an attacker cannot flush a record by flooding.
   */
  private evict<T extends Counter>(map: Map<string, T>): void {
    const now = this.now();
    const batch = Math.max(1, Math.floor(this.limits.maxEntries / 100));
    let removed = 0;
    for (const [key, entry] of map) {
      if (removed >= batch) return;
      if (!this.trusted(entry, now) && this.live(entry, now) < this.limits.protectedFailures) {
        map.delete(key);
        removed++;
      }
    }
    // Everything left is protected: the table is full of real records, so the oldest go.
    for (const key of map.keys()) {
      if (removed++ >= batch) return;
      map.delete(key);
    }
  }
}

function pairKey(account: string, group: AddressGroup): string {
  return `${account}\u0000${group.client}`;
}
