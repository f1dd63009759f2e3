/**
 * @module Events that anyone can repeat at no cost (a throttled login, a
 * retried stale password) are counted, not written one row each: one event
 * per key per window, carrying the count. The keys one scope (a client
 * address) may open are bounded, and so are all of them, so fresh names or
 * addresses fold into a coarser tally instead of into more rows.
 */
import type { AuditInput } from "./audit-log.ts";

/** How repeated events are summed. */
export interface TallyLimits {
  /** A tally is written this long after its first event. */
  windowMs: number;
  /** Keys one scope may have open; more fold into the scope's own tally. */
  keysPerScope: number;
  /** Tallies open in all; more fold into one catch-all tally (the one above this bound). */
  maxTallies: number;
}

/** One minute; ten accounts per client; ten thousand tallies (about 2 MB). */
export const DEFAULT_TALLY_LIMITS: TallyLimits = { windowMs: 60_000, keysPerScope: 10, maxTallies: 10_000 };

interface Tally {
  input: AuditInput;
  scope: string;
  first: number;
  last: number;
  count: number;
}

/** Open tallies, keyed by what they count. */
export class AuditTally {
  private readonly open = new Map<string, Tally>();
  private readonly keysOfScope = new Map<string, number>();

  constructor(private readonly limits: TallyLimits = DEFAULT_TALLY_LIMITS) {}

  /** Counts one event under `key`; `scope` bounds how many keys one source may open. */
  add(now: number, key: string, scope: string, input: AuditInput): void {
    let tally = this.open.get(key);
    if (!tally) {
      if (this.open.size >= this.limits.maxTallies) {
        [key, scope, input] = ["\u0000all", "\u0000all", { ...input, actor: "various", source: null, repository: null }];
      } else if ((this.keysOfScope.get(scope) ?? 0) >= this.limits.keysPerScope) {
        [key, input] = [`\u0000scope\u0000${scope}`, { ...input, actor: "various" }];
      }
      tally = this.open.get(key);
    }
    if (!tally) {
      tally = { input, scope, first: now, last: now, count: 0 };
      this.open.set(key, tally);
      this.keysOfScope.set(scope, (this.keysOfScope.get(scope) ?? 0) + 1);
    }
    tally.count++;
    tally.last = now;
  }

  /** Tallies open now. */
  get size(): number {
    return this.open.size;
  }

  /** Removes and returns, as events to record, the tallies whose window has ended (every one when `all`). */
  take(now: number, all = false): AuditInput[] {
    const out: AuditInput[] = [];
    for (const [key, tally] of this.open) {
      if (!all && now - tally.first < this.limits.windowMs) continue;
      this.open.delete(key);
      const left = (this.keysOfScope.get(tally.scope) ?? 1) - 1;
      if (left > 0) this.keysOfScope.set(tally.scope, left);
      else this.keysOfScope.delete(tally.scope);
      const when = { count: tally.count, first: new Date(tally.first).toISOString(), last: new Date(tally.last).toISOString() };
      out.push({ ...tally.input, detail: { ...tally.input.detail, ...when } });
    }
    return out;
  }
}
