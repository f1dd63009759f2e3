/**
 * @module How long the audit log keeps events. Every event goes after
 * N days. Noise, the events anyone can cause in bulk without changing
 * anything (failed and throttled logins, denials, pulls), is also capped
 * at M rows of its own; the record of what changed (pushes, deletes,
 * tags, accounts, tokens, policy, GC, successful logins) is kept for its
 * full age, so no flood of unauthenticated requests can push it out. The
 * server prunes at start and every hour, in small batches, so it never
 * holds the write lock for long.
 */
import { deleteAuditEventsBefore, deleteNoiseUpTo, noiseIdBeyond } from "../db/queries/audit.ts";
import type { Registry } from "../registry/registry.ts";

/** The limits: every event goes after `days`; noise also beyond the newest `noiseRows` noise events. */
export interface AuditRetention {
  days: number;
  noiseRows: number;
}

/** 90 days, and at most a million noise rows (a few hundred MB). */
export const DEFAULT_AUDIT_RETENTION: AuditRetention = { days: 90, noiseRows: 1_000_000 };

/** Events recorded for every occurrence that need no change to happen: what the noise cap applies to. */
const NOISE_EVENTS: ReadonlySet<string> = new Set(["access.denied", "manifest.pulled"]);

/** Whether an event is noise: capped by count as well as by age. */
export function isNoise(event: string, outcome: string): boolean {
  return (event === "login" && outcome !== "success") || NOISE_EVENTS.has(event);
}

const DAY_MS = 86_400_000;
const PRUNE_BATCH = 5000;
const PRUNE_EVERY_MS = 60 * 60 * 1000;

/** Deletes events older than `retention.days`, and noise beyond the newest `retention.noiseRows`; returns how many went. */
export async function pruneAuditEvents(reg: Registry, retention: AuditRetention = DEFAULT_AUDIT_RETENTION): Promise<number> {
  if (!(retention.days > 0) || !(retention.noiseRows > 0)) throw new Error("audit retention needs positive days and rows");
  const before = reg.now() - retention.days * DAY_MS;
  let removed = await inBatches(() => deleteAuditEventsBefore(reg.db, before, PRUNE_BATCH));
  const upToId = await noiseIdBeyond(reg.db, retention.noiseRows);
  if (upToId > 0) removed += await inBatches(() => deleteNoiseUpTo(reg.db, upToId, PRUNE_BATCH));
  return removed;
}

async function inBatches(step: () => Promise<number>): Promise<number> {
  let removed = 0;
  for (;;) {
    const n = await step();
    removed += n;
    if (n < PRUNE_BATCH) return removed;
  }
}

/**
 * Prunes now and then every hour, without keeping the process alive.
 * `report` hears how many events went, or why pruning failed. Returns a stop function.
 */
export function scheduleAuditPruning(
  reg: Registry,
  retention: AuditRetention,
  report: (outcome: { removed: number } | { error: unknown }) => void,
): () => void {
  const run = () => pruneAuditEvents(reg, retention).then((removed) => report({ removed }), (error: unknown) => report({ error }));
  void run();
  const timer = setInterval(run, PRUNE_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
