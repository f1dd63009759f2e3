/**
 * @module One GC at a time across processes: a lock row naming the run that
 * holds it, with the holder's pid, host, start time and heartbeat. A lock
 * whose holder died (its pid is gone on this host, or it has not beaten for
 * LOCK_STALE_MS) is taken over, and the dead run is recorded as failed.
 */
import { hostname } from "node:os";
import type { Kysely } from "kysely";
import { fail } from "../errors.ts";
import { deleteGcLock, findGcLock, finishGcRun, findGcRun, heartbeatGcLock, insertGcRun, setGcLock } from "../db/queries/gc-runs.ts";
import type { DB, GcLock } from "../db/schema.ts";
import type { Registry } from "../registry/registry.ts";

/** How often a running GC refreshes its heartbeat. */
export const HEARTBEAT_MS = 5_000;
/**
 * A holder silent this long is dead even if its pid exists (the pid was
 * reused, or the holder is on another host). Generous, because a live GC
 * mistaken for dead could unlink a file a writer has just relied on.
 */
export const LOCK_STALE_MS = 10 * 60_000;

/** Whether the process holding `lock` is still running, as far as this process can tell. */
export function holderAlive(lock: GcLock, now: number): boolean {
  if (now - lock.heartbeat_at > LOCK_STALE_MS) return false;
  if (lock.host !== hostname()) return true;
  try {
    process.kill(lock.pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Whether run `runId` holds the lock and is alive: its claims must be respected. */
export async function runIsLive(db: Kysely<DB>, runId: number, now: number): Promise<boolean> {
  const lock = await findGcLock(db);
  return lock !== undefined && lock.run_id === runId && holderAlive(lock, now);
}

/** A run that holds the lock. */
export interface HeldLock {
  runId: number;
  startedAt: number;
}

/**
 * Records a new run and takes the lock for it, in one transaction. Throws
 * CONFLICT while another live run holds it; takes over from a dead one.
 */
export async function acquireGcLock(reg: Registry, actor: string, options: object): Promise<HeldLock> {
  const startedAt = reg.now();
  const host = hostname();
  const runId = await reg.db.transaction().execute(async (trx) => {
    const lock = await findGcLock(trx);
    if (lock && holderAlive(lock, startedAt)) {
      const since = new Date(lock.started_at).toISOString();
      fail("CONFLICT", `garbage collection run ${lock.run_id} is already running (pid ${lock.pid} on ${lock.host}, since ${since})`, {
        run: lock.run_id,
      });
    }
    if (lock) {
      const dead = await findGcRun(trx, lock.run_id);
      if (dead?.status === "running") {
        const error = `abandoned: its process (pid ${lock.pid} on ${lock.host}) stopped without finishing`;
        await finishGcRun(trx, lock.run_id, { status: "failed", finished_at: startedAt, report: null, error });
      }
    }
    const id = await insertGcRun(trx, { actor, options: JSON.stringify(options), pid: process.pid, host, started_at: startedAt });
    await setGcLock(trx, { run_id: id, pid: process.pid, host, started_at: startedAt, heartbeat_at: startedAt });
    return id;
  });
  return { runId, startedAt };
}

/** Refreshes the heartbeat; throws CONFLICT when the lock was taken over (this run was presumed dead). */
export async function heartbeat(reg: Registry, runId: number): Promise<void> {
  if (!(await heartbeatGcLock(reg.db, runId, reg.now()))) {
    fail("CONFLICT", `garbage collection run ${runId} lost its lock to another run; stopping`);
  }
}

/** Releases the lock held by `runId`. */
export async function releaseGcLock(reg: Registry, runId: number): Promise<void> {
  await deleteGcLock(reg.db, runId);
}
