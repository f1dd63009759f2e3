/**
 * @module What operators ask of a running registry: is it ready to serve
 * (database answering, storage writable), and how much does it hold.
 */
import { blobTotals, pingDatabase, uploadSessionCount } from "../db/queries/stats.ts";
import type { Registry } from "./registry.ts";

/** One readiness check's result. */
export interface CheckResult {
  ok: boolean;
  /** Why it failed. */
  error?: string;
}

/** Readiness: every check must pass. */
export interface Readiness {
  ready: boolean;
  checks: { database: CheckResult; storage: CheckResult };
}

async function check(fn: () => Promise<void>): Promise<CheckResult> {
  try {
    await fn();
    return { ok: true };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

/** Checks the database answers a query and the blob store accepts a write. */
export async function checkReadiness(reg: Registry): Promise<Readiness> {
  const [database, storage] = await Promise.all([check(() => pingDatabase(reg.db)), check(() => reg.store.probe())]);
  return { ready: database.ok && storage.ok, checks: { database, storage } };
}

/** Counts for metrics. */
export interface RegistryStats {
  blobs: number;
  blobBytes: number;
  uploadSessions: number;
}

/** How many blobs (and bytes) are stored and upload sessions open. */
export async function registryStats(reg: Registry): Promise<RegistryStats> {
  const [blobs, uploadSessions] = await Promise.all([blobTotals(reg.db), uploadSessionCount(reg.db)]);
  return { blobs: blobs.count, blobBytes: blobs.bytes, uploadSessions };
}
