/**
 * @module Queries on GC runs and on the lock row that lets one run at a time.
 */
import type { Kysely } from "kysely";
import type { DB, GcLock, GcRun, GcStatus } from "../schema.ts";

const LOCK = "gc";

/** The lock row, if some run holds (or held, and died holding) it. */
export async function findGcLock(db: Kysely<DB>): Promise<GcLock | undefined> {
  return db.selectFrom("gc_lock").selectAll().where("name", "=", LOCK).executeTakeFirst();
}

/** Makes `run_id` the holder, replacing whatever row was there. */
export async function setGcLock(db: Kysely<DB>, row: Omit<GcLock, "name">): Promise<void> {
  await db
    .insertInto("gc_lock")
    .values({ name: LOCK, ...row })
    .onConflict((oc) => oc.column("name").doUpdateSet({ ...row }))
    .execute();
}

/** Refreshes the holder's heartbeat; false when `runId` no longer holds the lock. */
export async function heartbeatGcLock(db: Kysely<DB>, runId: number, now: number): Promise<boolean> {
  const result = await db.updateTable("gc_lock").set({ heartbeat_at: now }).where("name", "=", LOCK).where("run_id", "=", runId).executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Releases the lock if `runId` holds it. */
export async function deleteGcLock(db: Kysely<DB>, runId: number): Promise<void> {
  await db.deleteFrom("gc_lock").where("name", "=", LOCK).where("run_id", "=", runId).execute();
}

/** Records a new run; returns its id. */
export async function insertGcRun(db: Kysely<DB>, row: Pick<GcRun, "actor" | "options" | "pid" | "host" | "started_at">): Promise<number> {
  const { id } = await db
    .insertInto("gc_runs")
    .values({ ...row, status: "running", finished_at: null, progress: null, report: null, error: null })
    .returning("id")
    .executeTakeFirstOrThrow();
  return id;
}

/** Stores a running run's latest progress (JSON). */
export async function setGcRunProgress(db: Kysely<DB>, id: number, progress: string): Promise<void> {
  await db.updateTable("gc_runs").set({ progress }).where("id", "=", id).execute();
}

/** Marks a run finished. */
export async function finishGcRun(
  db: Kysely<DB>,
  id: number,
  end: { status: Exclude<GcStatus, "running">; finished_at: number; report: string | null; error: string | null },
): Promise<void> {
  await db.updateTable("gc_runs").set(end).where("id", "=", id).execute();
}

/** One run. */
export async function findGcRun(db: Kysely<DB>, id: number): Promise<GcRun | undefined> {
  return db.selectFrom("gc_runs").selectAll().where("id", "=", id).executeTakeFirst();
}

/** The newest `limit` runs, newest first. */
export async function listGcRuns(db: Kysely<DB>, limit: number): Promise<GcRun[]> {
  return db.selectFrom("gc_runs").selectAll().orderBy("id", "desc").limit(limit).execute();
}
