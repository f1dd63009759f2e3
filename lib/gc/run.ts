/**
 * @module Running a garbage collection: take the lock, run the phases in
 * order, record the report, audit the start and the finish. `runGc` runs
 * to the end (`mcr gc`); `startGc` returns as soon as the run holds the
 * lock and has an id, and finishes in the background (`POST /v1/gc`);
 * `stopGcRuns` stops a process's runs when it shuts down.
 */
import { finishGcRun, setGcRunProgress, heartbeatGcLock } from "../db/queries/gc-runs.ts";
import { checkpointLog } from "../db/queries/maintenance.ts";
import { TOUCH_INTERVAL_MS } from "../registry/blobs.ts";
import type { Registry } from "../registry/registry.ts";
import { checkpoint, stopIfAsked, type GcContext } from "./context.ts";
import { acquireGcLock, HEARTBEAT_MS, releaseGcLock, type HeldLock } from "./lock.ts";
import { gcOptions, type GcOptions } from "./options.ts";
import { recoverClaims, sweepOrphans, verifyRows } from "./reconcile.ts";
import { emptyTally, type GcPhase, type GcProgress, type GcReport } from "./report.ts";
import { sweepBlobs, sweepMemberships } from "./sweep-blobs.ts";
import { sweepManifests } from "./sweep-manifests.ts";
import { sweepUploads } from "./sweep-uploads.ts";
import { applyRetentionPhase } from "./retention-phase.ts";

/** What to run, who asks, and where progress goes. */
export interface GcRequest extends Partial<GcOptions> {
  /** The audit log's name for whoever started the run. */
  actor: string;
  /** Called as the run moves; must not throw. */
  onProgress?: (progress: GcProgress) => void;
}

/** A run that has started. */
export interface StartedGc {
  runId: number;
  /** Settles with the report when the run ends (rejects if it fails). */
  done: Promise<GcReport>;
}

const phases: readonly [GcPhase, (ctx: GcContext) => Promise<void>][] = [
  ["retention", applyRetentionPhase],
  ["recover", recoverClaims],
  ["uploads", sweepUploads],
  ["manifests", sweepManifests],
  ["blobs", sweepBlobs],
  ["memberships", sweepMemberships],
  ["orphans", sweepOrphans],
  ["verify", verifyRows],
];

/** The phases a run with these options leaves out (the live view does not list them). */
export function skippedPhases(options: { untagged: boolean; retention: boolean }): GcPhase[] {
  return [...(options.untagged ? [] : ["manifests" as const]), ...(options.retention ? [] : ["retention" as const])];
}

/** Runs running in this process, per registry, so a shutting-down server can stop them. */
const running = new WeakMap<Registry, Set<{ stop: AbortController; done: Promise<unknown> }>>();

/** Runs a garbage collection to its end; throws CONFLICT while another run holds the lock. */
export async function runGc(reg: Registry, request: GcRequest): Promise<GcReport> {
  return (await startGc(reg, request)).done;
}

/** Takes the lock and starts a run; the returned promise resolves once it has an id. */
export async function startGc(reg: Registry, request: GcRequest): Promise<StartedGc> {
  const options = gcOptions(request);
  const lock = await acquireGcLock(reg, request.actor, options);
  const stop = new AbortController();
  const done = execute(reg, lock, options, request, stop.signal);
  const runs = running.get(reg) ?? new Set();
  running.set(reg, runs);
  const entry = { stop, done };
  runs.add(entry);
  void done.then(
    () => runs.delete(entry),
    () => runs.delete(entry),
  );
  return { runId: lock.runId, done };
}

/** Asks this process's runs on `reg` to stop, and waits until they have. */
export async function stopGcRuns(reg: Registry): Promise<void> {
  const runs = [...(running.get(reg) ?? [])];
  for (const run of runs) run.stop.abort();
  await Promise.all(runs.map((run) => run.done.catch(() => {})));
}

async function execute(reg: Registry, lock: HeldLock, options: GcOptions, request: GcRequest, signal: AbortSignal): Promise<GcReport> {
  const { runId, startedAt } = lock;
  // A read within the grace period may have been recorded up to a touch interval earlier.
  const cutoff = startedAt - options.graceMs - (options.graceMs > 0 ? TOUCH_INTERVAL_MS : 0);
  const tally = emptyTally();
  let latest: GcProgress | null = null;
  const ctx: GcContext = {
    reg,
    runId,
    actor: request.actor,
    options,
    startedAt,
    cutoff,
    tally,
    doomedManifests: new Set(),
    doomedBlobs: new Set(),
    progress(phase, checked, removed) {
      latest = { phase, checked, removed, bytesFreed: tally.bytesFreed };
      request.onProgress?.(latest);
      stopIfAsked(signal);
    },
    checkpoint: (trx) => checkpoint(trx, runId, reg.now(), signal),
  };
  reg.audit.record({ event: "gc.started", actor: request.actor, outcome: "success", detail: { run: runId, ...options } });
  const beat = setInterval(() => {
    void (async () => {
      if (!(await heartbeatGcLock(reg.db, runId, reg.now()))) return;
      if (latest) await setGcRunProgress(reg.db, runId, JSON.stringify(latest));
    })().catch(() => {});
  }, HEARTBEAT_MS);
  beat.unref();
  const report = (): GcReport => {
    const finishedAt = reg.now();
    return {
      runId,
      ...options,
      startedAt: new Date(startedAt).toISOString(),
      finishedAt: new Date(finishedAt).toISOString(),
      durationMs: finishedAt - startedAt,
      ...tally,
    };
  };
  try {
    const skipped = skippedPhases(options);
    for (const [phase, run] of phases) {
      if (skipped.includes(phase)) continue;
      ctx.progress(phase, 0, 0);
      await run(ctx);
    }
    const result = report();
    await finishGcRun(reg.db, runId, { status: "succeeded", finished_at: reg.now(), report: JSON.stringify(result), error: null });
    reg.audit.record({ event: "gc.finished", actor: request.actor, outcome: "success", detail: auditCounts(result) });
    await reg.audit.flush();
    // The rows removed freed pages; without this the log would keep their space until SQLite's next checkpoint.
    if (!options.dryRun) await checkpointLog(reg.db).catch(() => {});
    return result;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const partial = report();
    await finishGcRun(reg.db, runId, { status: "failed", finished_at: reg.now(), report: JSON.stringify(partial), error: message }).catch(() => {});
    reg.audit.record({ event: "gc.finished", actor: request.actor, outcome: "failure", detail: { ...auditCounts(partial), error: message } });
    throw error;
  } finally {
    clearInterval(beat);
    await releaseGcLock(reg, runId).catch(() => {});
  }
}

/** The report's counts, without the list of missing blobs. */
function auditCounts(report: GcReport): Record<string, unknown> {
  const { runId, missing, retentionRun, startedAt: _started, finishedAt: _finished, ...counts } = report;
  const retention = retentionRun ? { tagsRemoved: retentionRun.tagsRemoved, manifestsRemoved: retentionRun.manifestsRemoved, skipped: retentionRun.skipped.length } : null;
  return { run: runId, ...counts, missing: missing.length, ...(retention ? { retentionRun: retention } : {}) };
}
