/**
 * @module Single flight: concurrent callers asking for the same key share
 * one run of the work. It saves upstream traffic only; correctness never
 * depends on it (the database and the blob store settle any race between
 * processes), so it can stay in the process.
 */

/** Runs at most one `work` per key at a time; callers arriving meanwhile get the same promise. */
export class SingleFlight<T> {
  private readonly running = new Map<string, Promise<T>>();

  /** The running promise for `key`, or a new run of `work`; `leader` says which the caller got. */
  run(key: string, work: () => Promise<T>): { promise: Promise<T>; leader: boolean } {
    const current = this.running.get(key);
    if (current) return { promise: current, leader: false };
    const promise = work().finally(() => this.running.delete(key));
    this.running.set(key, promise);
    return { promise, leader: true };
  }
}
