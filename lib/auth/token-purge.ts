/**
 * @module Deletes access token rows that ended: sessions and refresh tokens
 * a day after they were revoked or expired, personal/robot tokens after 30
 * days (so `mcr token list` shows a revoked one for a while). The server
 * purges at start and every hour; deletes go in small batches so the write
 * lock is never held for long. Live rows are never touched.
 */
import { deleteEndedTokens } from "../db/queries/tokens.ts";
import type { Registry } from "../registry/registry.ts";

/** How long ended rows are kept, by kind of token. */
export interface TokenRetention {
  /** Sessions and refresh tokens. */
  derivedMs: number;
  /** Personal and robot tokens. */
  personalMs: number;
}

const DAY_MS = 86_400_000;

/** A day for sessions and refresh tokens, 30 days for personal/robot tokens. */
export const DEFAULT_TOKEN_RETENTION: TokenRetention = { derivedMs: DAY_MS, personalMs: 30 * DAY_MS };

const PURGE_BATCH = 1000;
const PURGE_EVERY_MS = 60 * 60 * 1000;

/** Deletes token rows that ended longer ago than `retention` keeps them; returns how many went. */
export async function purgeEndedTokens(reg: Registry, retention: TokenRetention = DEFAULT_TOKEN_RETENTION): Promise<number> {
  const now = reg.now();
  let removed = 0;
  // Personal tokens last: deleting one also deletes (by cascade) what was made from it, already ended with it.
  for (const [kinds, keepMs] of [
    [["session", "refresh"], retention.derivedMs],
    [["token"], retention.personalMs],
  ] as const) {
    for (;;) {
      const n = await deleteEndedTokens(reg.db, kinds, now - keepMs, PURGE_BATCH);
      removed += n;
      if (n < PURGE_BATCH) break;
    }
  }
  return removed;
}

/**
 * Purges now and then every hour, without keeping the process alive.
 * `report` hears how many rows went, or why purging failed. Returns a stop
 * function that resolves once a purge under way has finished, so the
 * database can be closed after it.
 */
export function scheduleTokenPurge(reg: Registry, report: (outcome: { removed: number } | { error: unknown }) => void): () => Promise<void> {
  let running: Promise<void> = Promise.resolve();
  const run = () => {
    running = purgeEndedTokens(reg).then((removed) => report({ removed }), (error: unknown) => report({ error }));
  };
  run();
  const timer = setInterval(run, PURGE_EVERY_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    return running;
  };
}
