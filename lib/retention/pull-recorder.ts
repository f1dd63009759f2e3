/**
 * @module Recording pulls cheaply for `keep_pulled_within`: a manifest GET
 * or HEAD only notes the manifest id and time in memory (a map lookup);
 * a timer writes the notes every PULL_FLUSH_MS in one statement, or at
 * once past MAX_PENDING ids. A write per request would cost a transaction
 * on the pull path. A crash loses at most the last few seconds of pulls;
 * retention covers that gap with `manifests.last_seen_at`, which every
 * read refreshes synchronously (see plan.ts, `recentUseSince`).
 */
import type { Kysely } from "kysely";
import { recordPulls } from "../db/queries/retention.ts";
import type { DB } from "../db/schema.ts";

/** How long a pull may wait in memory before it is written. */
export const PULL_FLUSH_MS = 5_000;
/** Distinct manifests noted before a write is made at once. */
const MAX_PENDING = 10_000;

/** The per-process buffer of pulls. */
export class PullRecorder {
  private pending = new Map<number, number>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private writing: Promise<void> = Promise.resolve();
  /** Writes that failed (reported nowhere else: a lost pull only keeps an image a little less long). */
  failures = 0;

  constructor(private readonly db: Kysely<DB>) {}

  /** Notes that manifest `manifestId` was pulled at `at`. */
  record(manifestId: number, at: number): void {
    const seen = this.pending.get(manifestId);
    if (seen === undefined || at > seen) this.pending.set(manifestId, at);
    if (this.pending.size >= MAX_PENDING) void this.flush();
    else if (this.timer === null) {
      this.timer = setTimeout(() => void this.flush(), PULL_FLUSH_MS);
      this.timer.unref?.();
    }
  }

  /** Writes what is noted; resolves once it (and any write before it) is done. */
  flush(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.size > 0) {
      const batch = [...this.pending];
      this.pending = new Map();
      this.writing = this.writing.then(() =>
        recordPulls(this.db, batch).catch(() => {
          this.failures++;
        }),
      );
    }
    return this.writing;
  }
}
