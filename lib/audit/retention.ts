/**
 * @module How long the audit log keeps events: N days or M rows, whichever
 * keeps less. The server prunes at start and every hour; pruning deletes
 * in small batches so it never holds the write lock for long.
 */
import { deleteOldAuditEvents, maxAuditEventId } from "../db/queries/audit.ts";
import type { Registry } from "../registry/registry.ts";

/** The limits; events past either are deleted. */
export interface AuditRetention {
  days: number;
  rows: number;
}

/** 90 days, and at most a million rows (a few hundred MB). */
export const DEFAULT_AUDIT_RETENTION: AuditRetention = { days: 90, rows: 1_000_000 };

const DAY_MS = 86_400_000;
const PRUNE_BATCH = 5000;
const PRUNE_EVERY_MS = 60 * 60 * 1000;

/** Deletes events older than `retention.days` or beyond the newest `retention.rows`; returns how many went. */
export async function pruneAuditEvents(reg: Registry, retention: AuditRetention = DEFAULT_AUDIT_RETENTION): Promise<number> {
  if (!(retention.days > 0) || !(retention.rows > 0)) throw new Error("audit retention needs positive days and rows");
  const before = reg.now() - retention.days * DAY_MS;
  const upToId = (await maxAuditEventId(reg.db)) - retention.rows;
  let removed = 0;
  for (;;) {
    const n = await deleteOldAuditEvents(reg.db, before, upToId, PRUNE_BATCH);
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
