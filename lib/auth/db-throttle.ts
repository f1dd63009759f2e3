/**
 * @module Login throttling with its counters in the database, so every
 * worker and replica spends one budget: the same rules as
 * MemoryLoginThrottle (throttle.ts), read from rows by primary key on each
 * login and written in one short transaction per wrong secret. The
 * fingerprint key derives from the signing key, which every process over
 * the data directory shares, so a retry is recognised whichever process
 * saw the first try. Rows nothing counts any more are pruned hourly, and
 * the pair table is capped, lightest rows first.
 */
import { createHmac } from "node:crypto";
import type { Kysely } from "kysely";
import { bumpLoginCounter, capLoginPairs, findLoginCounters, findLoginPair, pruneLoginThrottle, putLoginPair } from "../db/queries/login-throttle.ts";
import type { DB, LoginPairsTable } from "../db/schema.ts";
import type { SigningKey } from "./signing-key.ts";
import { THROTTLE_LIMITS, type LoginKey, type LoginThrottle } from "./throttle.ts";

type Limits = typeof THROTTLE_LIMITS;
type Counter = { failures: number; last_failure: number } | undefined;

/** The fingerprint key of every process over one data directory: an HMAC of the shared signing key. */
export function fingerprintKey(key: SigningKey): Uint8Array {
  const secret = key.privateKey.export({ format: "der", type: "pkcs8" });
  return new Uint8Array(createHmac("sha256", secret).update("login-fingerprint").digest());
}

/** The throttle over the database's login_pairs and login_counters tables. */
export class DbLoginThrottle implements LoginThrottle {
  private readonly limits: Limits;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly key: Uint8Array,
    private readonly now: () => number = Date.now,
    limits: Partial<Limits> = {},
  ) {
    this.limits = { ...THROTTLE_LIMITS, ...limits };
  }

  async retryAfter({ account, group }: LoginKey): Promise<number> {
    const now = this.now();
    const pair = await findLoginPair(this.db, account, group.client);
    let until: number;
    // A trusted pair (the usual case of Basic credentials, sent with every request) answers to its own
    // failures only: the account's and network's counters are read only for the others.
    if (this.trusted(pair, now)) until = this.blockedUntil(pair, this.limits.pairFree, now);
    else {
      const counters = await findLoginCounters(this.db, group.network, account);
      const underAttack = this.live(counters.account, now) > this.limits.accountFree;
      until = Math.max(this.blockedUntil(pair, underAttack ? this.limits.pairFreeUnderAttack : this.limits.pairFree, now), this.blockedUntil(counters.network, this.limits.networkFree, now));
    }
    return until > now ? Math.ceil((until - now) / 1000) : 0;
  }

  fingerprint(stamp: string, secret: string): string {
    return createHmac("sha256", this.key).update(stamp).update("\0").update(secret).digest("base64url").slice(0, 16);
  }

  async isRepeat({ account, group }: LoginKey, fingerprint: string): Promise<boolean> {
    const pair = await findLoginPair(this.db, account, group.client);
    return pair !== undefined && this.live(pair, this.now()) > 0 && wrongOf(pair).includes(fingerprint);
  }

  async failure({ account, group }: LoginKey, fingerprint: string): Promise<void> {
    const now = this.now();
    const forgotten = now - this.limits.forgetAfterMs;
    await this.db.transaction().execute(async (trx) => {
      const row = await findLoginPair(trx, account, group.client);
      const live = this.live(row, now);
      const wrong = live === 0 || !row ? [] : wrongOf(row);
      // The same wrong secret again (two processes saw it at once): counted once.
      if (wrong.includes(fingerprint)) return;
      wrong.push(fingerprint);
      if (wrong.length > this.limits.rememberedSecrets) wrong.shift();
      await putLoginPair(trx, { account, client: group.client, failures: live + 1, last_failure: now, wrong_json: JSON.stringify(wrong), last_success: row?.last_success ?? 0 });
      await bumpLoginCounter(trx, "network", group.network, now, forgotten);
      await bumpLoginCounter(trx, "account", account, now, forgotten);
    });
  }

  async success({ account, group }: LoginKey): Promise<void> {
    const now = this.now();
    const row = await findLoginPair(this.db, account, group.client);
    // Basic credentials come with every request: note the success once a minute, not each time.
    if (row && row.last_success > 0 && now - row.last_success < 60_000) return;
    await putLoginPair(this.db, row ? { ...row, last_success: now } : { account, client: group.client, failures: 0, last_failure: 0, wrong_json: "[]", last_success: now });
  }

  /** Deletes rows that no longer count and caps the pair table (run hourly by one process); returns how many went. */
  async prune(): Promise<number> {
    const now = this.now();
    const untrusted = now - this.limits.trustMs;
    const pruned = await pruneLoginThrottle(this.db, now - this.limits.forgetAfterMs, untrusted);
    return pruned + (await capLoginPairs(this.db, this.limits.maxEntries, this.limits.protectedFailures, untrusted));
  }

  private trusted(pair: LoginPairsTable | undefined, now: number): boolean {
    return pair !== undefined && pair.last_success > 0 && now - pair.last_success < this.limits.trustMs;
  }

  private live(counter: Counter, now: number): number {
    return counter && now - counter.last_failure < this.limits.forgetAfterMs ? counter.failures : 0;
  }

  private blockedUntil(counter: Counter, free: number, now: number): number {
    const failures = this.live(counter, now);
    if (failures <= free) return 0;
    return counter!.last_failure + Math.min(1000 * 2 ** (failures - free - 1), this.limits.maxDelayMs);
  }
}

function wrongOf(pair: LoginPairsTable): string[] {
  try {
    const list: unknown = JSON.parse(pair.wrong_json);
    return Array.isArray(list) ? list.filter((x): x is string => typeof x === "string") : [];
  } catch {
    return [];
  }
}
