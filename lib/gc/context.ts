/**
 * @module What every phase of a GC run shares: the registry, the run's
 * id and cutoffs, its tally, progress reporting, and the checkpoint each
 * sweep transaction passes (the run still holds the lock and was not asked
 * to stop).
 */
import type { Kysely } from "kysely";
import { fail } from "../errors.ts";
import { heartbeatGcLock } from "../db/queries/gc-runs.ts";
import type { DB } from "../db/schema.ts";
import type { Registry } from "../registry/registry.ts";
import type { GcOptions } from "./options.ts";
import type { GcPhase, GcTally } from "./report.ts";

/** Items per sweep transaction: short enough that pushes barely wait on GC. */
export const SWEEP_BATCH = 100;
/** Rows per candidate page. */
export const PAGE = 500;

/** One run's shared state. */
export interface GcContext {
  reg: Registry;
  runId: number;
  /** Who started the run, as the audit log names them. */
  actor: string;
  options: GcOptions;
  startedAt: number;
  /** Blobs and manifests last seen before this are idle. */
  cutoff: number;
  tally: GcTally;
  /** Manifests the manifest phase removed, or in a dry run would remove. */
  doomedManifests: Set<number>;
  /** In a dry run, blobs the blob phase would remove (later phases must not count them again). */
  doomedBlobs: Set<string>;
  /** Records progress within `phase`; throws when the run was asked to stop (every page passes here). */
  progress(phase: GcPhase, checked: number, removed: number): void;
  /** Throws when the run must stop: asked to, or its lock was taken over. */
  checkpoint(trx: Kysely<DB>): Promise<void>;
}

/** Throws when `signal` asks the run to stop. */
export function stopIfAsked(signal?: AbortSignal): void {
  if (signal?.aborted) fail("UNAVAILABLE", "garbage collection was stopped (the process is shutting down)");
}

/** Throws unless run `runId` still holds the lock (refreshing its heartbeat), or when `signal` asks to stop. */
export async function checkpoint(trx: Kysely<DB>, runId: number, now: number, signal?: AbortSignal): Promise<void> {
  stopIfAsked(signal);
  if (!(await heartbeatGcLock(trx, runId, now))) {
    fail("CONFLICT", `garbage collection run ${runId} lost its lock to another run; stopping`);
  }
}
