/**
 * @module GC runs as recorded: what `GET /v1/gc` lists and `mcr gc`'s
 * callers can look up. A run still marked running whose process died is
 * shown as failed (abandoned); the next run records that for good.
 */
import { fail } from "../errors.ts";
import { findGcLock, findGcRun, listGcRuns } from "../db/queries/gc-runs.ts";
import type { GcLock, GcRun, GcStatus } from "../db/schema.ts";
import type { Registry } from "../registry/registry.ts";
import { holderAlive } from "./lock.ts";
import type { GcOptions } from "./options.ts";
import type { GcProgress, GcReport } from "./report.ts";

/** One run, as the API shows it. */
export interface GcRunInfo {
  id: number;
  status: GcStatus;
  actor: string;
  options: GcOptions;
  pid: number;
  host: string;
  startedAt: string;
  finishedAt: string | null;
  /** Where it is, while it runs. */
  progress: GcProgress | null;
  /** The report (partial if it failed). */
  report: GcReport | null;
  error: string | null;
}

/** Run `id`; throws NOT_FOUND. */
export async function getGcRun(reg: Registry, id: number): Promise<GcRunInfo> {
  const row = Number.isSafeInteger(id) ? await findGcRun(reg.db, id) : undefined;
  if (!row) fail("NOT_FOUND", `no garbage collection run ${id}`);
  return runInfo(row, await findGcLock(reg.db), reg.now());
}

/** The newest runs, newest first. */
export async function listGcRunInfos(reg: Registry, limit = 20): Promise<GcRunInfo[]> {
  const lock = await findGcLock(reg.db);
  const now = reg.now();
  return (await listGcRuns(reg.db, limit)).map((row) => runInfo(row, lock, now));
}

function runInfo(row: GcRun, lock: GcLock | undefined, now: number): GcRunInfo {
  const live = lock !== undefined && lock.run_id === row.id && holderAlive(lock, now);
  const abandoned = row.status === "running" && !live;
  return {
    id: row.id,
    status: abandoned ? "failed" : row.status,
    actor: row.actor,
    options: JSON.parse(row.options) as GcOptions,
    pid: row.pid,
    host: row.host,
    startedAt: new Date(row.started_at).toISOString(),
    finishedAt: row.finished_at === null ? null : new Date(row.finished_at).toISOString(),
    progress: row.status === "running" && row.progress !== null ? (JSON.parse(row.progress) as GcProgress) : null,
    report: row.report === null ? null : (JSON.parse(row.report) as GcReport),
    error: abandoned ? `abandoned: its process (pid ${row.pid} on ${row.host}) stopped without finishing` : row.error,
  };
}
