/**
 * @module What a GC run reports: while it runs (progress by phase) and
 * when it ends (counts, bytes freed, missing files). The same report is
 * printed by `mcr gc --json` and returned by /v1/gc.
 */

/** The phases of a run, in order. */
export const gcPhases = ["retention", "recover", "uploads", "manifests", "blobs", "memberships", "orphans", "verify"] as const;
export type GcPhase = (typeof gcPhases)[number];

/** Where a run is. */
export interface GcProgress {
  phase: GcPhase;
  /** Items looked at so far in this phase. */
  checked: number;
  /** Items removed (or, in a dry run, found removable) so far in this phase. */
  removed: number;
  /** Bytes freed (or that would be) so far, all phases. */
  bytesFreed: number;
}

/**
 * A blob row whose file is not in the store: corruption. It is never
 * removed quietly: a referenced or recent one is kept (push it again or
 * restore the file); an unreferenced, idle one is removed as garbage and
 * still listed here.
 */
export interface MissingBlob {
  digest: string;
  size: number;
  /** Whether a manifest references it. */
  referenced: boolean;
  /** Repositories that held it. */
  repositories: string[];
  /** Whether this run removed its row (or would, in a dry run). */
  removed: boolean;
}

/** The outcome of a run. */
export interface GcReport {
  runId: number;
  dryRun: boolean;
  graceMs: number;
  untagged: boolean;
  retention: boolean;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  manifestsRemoved: number;
  blobsRemoved: number;
  membershipsRemoved: number;
  orphansRemoved: number;
  uploadsRemoved: number;
  /** Bytes of blob files, orphan files and upload files removed (or that would be). */
  bytesFreed: number;
  /** Rows whose file is missing; non-empty means corruption. */
  missing: MissingBlob[];
  /** What the retention phase did (`--retention`), else null. */
  retentionRun: RetentionSummary | null;
}

/** The retention phase's outcome in a GC report; the full list of removals is in the audit log. */
export interface RetentionSummary {
  repositories: number;
  tagsRemoved: number;
  manifestsRemoved: number;
  keptOnRecheck: number;
  skipped: { repository: string; reason: string }[];
}

/** Counts a run accumulates; it becomes the report's body. */
export type GcTally = Omit<GcReport, "runId" | "dryRun" | "graceMs" | "untagged" | "retention" | "startedAt" | "finishedAt" | "durationMs">;

/** A tally of nothing. */
export function emptyTally(): GcTally {
  return { manifestsRemoved: 0, blobsRemoved: 0, membershipsRemoved: 0, orphansRemoved: 0, uploadsRemoved: 0, bytesFreed: 0, missing: [], retentionRun: null };
}
