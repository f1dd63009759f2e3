/**
 * @module How many requests are streaming bytes into the registry right
 * now (blob chunks, manifests), per account and in total, held against
 * the limits. A slot is taken when a request starts sending and given
 * back when it ends however it ends, so a slow or stalled client holds one
 * slot, not the server. It is per process: it bounds this process's
 * memory, connections and disk bandwidth, and guards no data.
 */
import { fail } from "../errors.ts";
import type { Limits } from "../limits.ts";

/** Seconds a refused client is told to wait before it tries again. */
const RETRY_AFTER_SECONDS = 1;

/** Counts uploads in progress against `maxConcurrentUploads` and `maxConcurrentUploadsPerUser`. */
export class UploadSlots {
  private total = 0;
  private readonly perAccount = new Map<string, number>();

  constructor(private readonly limits: Pick<Limits, "maxConcurrentUploads" | "maxConcurrentUploadsPerUser">) {}

  /** Uploads in progress, in total or for one account. */
  inUse(account?: string): number {
    return account === undefined ? this.total : (this.perAccount.get(account) ?? 0);
  }

  /**
   * Takes a slot for `account`; throws TOO_MANY_REQUESTS when the account
   * or the whole registry is at its limit. Returns the function that gives
   * the slot back (calling it again does nothing).
   */
  acquire(account: string): () => void {
    const mine = this.perAccount.get(account) ?? 0;
    if (mine >= this.limits.maxConcurrentUploadsPerUser) {
      fail("TOO_MANY_REQUESTS", `${account} already has ${mine} uploads in progress, the most one account may have at once`, {
        retryAfter: RETRY_AFTER_SECONDS,
        limit: this.limits.maxConcurrentUploadsPerUser,
      });
    }
    if (this.total >= this.limits.maxConcurrentUploads) {
      fail("TOO_MANY_REQUESTS", `the registry already has ${this.total} uploads in progress, the most it takes at once`, {
        retryAfter: RETRY_AFTER_SECONDS,
        limit: this.limits.maxConcurrentUploads,
      });
    }
    this.total++;
    this.perAccount.set(account, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.perAccount.get(account) ?? 1) - 1;
      if (left > 0) this.perAccount.set(account, left);
      else this.perAccount.delete(account);
    };
  }

  /** Runs `fn` holding a slot for `account`. */
  async with<T>(account: string, fn: () => Promise<T>): Promise<T> {
    const release = this.acquire(account);
    try {
      return await fn();
    } finally {
      release();
    }
  }
}
