/**
 * @module The audit log writer. Recording never waits on the database:
 * events are queued and written in one transaction a few milliseconds
 * later (or as soon as a batch fills), so the request path stays fast.
 */
import type { Kysely } from "kysely";
import { insertAuditEvents } from "../db/queries/audit.ts";
import type { DB, NewAuditEvent } from "../db/schema.ts";
import { AuditTally, DEFAULT_TALLY_LIMITS, type TallyLimits } from "./audit-tally.ts";
import { isNoise } from "./retention.ts";

/**
 * Who caused an event and from where: what every recording lib/ operation
 * takes, built once per request by the server (or per command by the CLI).
 */
export interface AuditContext {
  /** `user:NAME`, `robot:NAME`, `local:NAME` (a command on the host), `system` or `anonymous`. */
  actor: string;
  /** The client's address; null for commands run on the host. */
  source: string | null;
}

/** What a caller knows about an event; the time is added here. Event names are open: any string is stored. */
export interface AuditInput {
  event: string;
  actor: string;
  outcome: "success" | "failure" | "denied";
  source?: string | null;
  repository?: string | null;
  digest?: string | null;
  tag?: string | null;
  detail?: Record<string, unknown>;
}

const FLUSH_DELAY_MS = 5;
const BATCH = 200;

/** Counters of what the log did, for tests and metrics. */
export interface AuditStats {
  recorded: number;
  written: number;
  /** Transactions (insert statements) that wrote them. */
  batches: number;
  failed: number;
  /** Events summed into tallies (`count`) rather than written one each. */
  counted: number;
}

/** Queues audit events and writes them in batches. */
export class AuditLog {
  /** Running totals since the log was opened. */
  readonly stats: AuditStats = { recorded: 0, written: 0, batches: 0, failed: 0, counted: 0 };
  private queue: NewAuditEvent[] = [];
  private timer: Timer | null = null;
  private tallyTimer: Timer | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private readonly tally: AuditTally;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly now: () => number,
    private readonly tallyLimits: TallyLimits = DEFAULT_TALLY_LIMITS,
  ) {
    this.tally = new AuditTally(tallyLimits);
  }

  /**
   * Counts an event anyone can repeat for free (a throttled login): one
   * event per `key` per window is written, with the count and the times of
   * the first and last. `scope` (the client) bounds the keys one source opens.
   */
  count(key: string, scope: string, input: AuditInput): void {
    const now = this.now();
    this.recordDue(now, false);
    this.tally.add(now, key, scope, input);
    this.stats.counted++;
    if (this.tallyTimer === null) this.armTallyTimer();
  }

  /** Tallies whose window has ended become queued events (all of them when `all`). */
  private recordDue(now: number, all: boolean): void {
    for (const input of this.tally.take(now, all)) this.record(input);
  }

  private armTallyTimer(): void {
    this.tallyTimer = setTimeout(() => {
      this.tallyTimer = null;
      this.recordDue(this.now(), false);
      if (this.tally.size > 0) this.armTallyTimer();
    }, this.tallyLimits.windowMs);
    // Closing the registry writes what is still open; a pending tally must not keep a process alive.
    this.tallyTimer.unref();
  }

  /** Queues one event. */
  record(input: AuditInput): void {
    this.queue.push({
      time: this.now(),
      event: input.event,
      actor: input.actor,
      outcome: input.outcome,
      source: input.source ?? null,
      repository: input.repository ?? null,
      digest: input.digest ?? null,
      tag: input.tag ?? null,
      detail: input.detail ? JSON.stringify(input.detail) : null,
      noise: isNoise(input.event, input.outcome) ? 1 : 0,
    });
    this.stats.recorded++;
    if (this.queue.length >= BATCH) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_DELAY_MS);
  }

  /** Events queued and not yet written. */
  get pending(): number {
    return this.queue.length;
  }

  /** Writes every tally, ended or not, and everything queued: for closing. */
  drain(): Promise<void> {
    if (this.tallyTimer) clearTimeout(this.tallyTimer);
    this.tallyTimer = null;
    this.recordDue(this.now(), true);
    return this.flush();
  }

  /** Writes everything queued so far (and tallies whose window has ended); resolves when it is in the database. */
  flush(): Promise<void> {
    this.recordDue(this.now(), false);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.queue;
    this.queue = [];
    this.flushing = this.flushing.then(async () => {
      if (batch.length === 0) return;
      try {
        await insertAuditEvents(this.db, batch);
        this.stats.written += batch.length;
        this.stats.batches++;
      } catch (error) {
        this.stats.failed += batch.length;
        // Losing audit events silently would hide them; say so where operators look.
        console.error(`audit: could not write ${batch.length} event(s):`, error);
      }
    });
    return this.flushing;
  }
}
