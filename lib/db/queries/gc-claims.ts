/**
 * @module Queries on GC claims: digests whose files a GC run is removing.
 * A claim is taken in the transaction that decides the file goes, and
 * released after the file is gone; meanwhile no blob row may be created
 * for the digest.
 */
import type { Kysely } from "kysely";
import { prepared } from "../prepared.ts";
import type { DB } from "../schema.ts";
import { batches } from "./batch.ts";

/** A claim on one digest. */
export interface Claim {
  digest: string;
  run_id: number;
}

const claimOf = prepared((db, digest: string) => db.selectFrom("gc_claims").select(["digest", "run_id"]).where("digest", "=", digest));

/** The claim on `digest`, if any. Asked for every blob a push records, so compiled once. */
export async function findClaim(db: Kysely<DB>, digest: string): Promise<Claim | undefined> {
  return claimOf.first(db, digest);
}

/** Which of `digests` are claimed. */
export async function claimedDigests(db: Kysely<DB>, digests: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (const batch of batches(digests)) {
    const rows = await db.selectFrom("gc_claims").select("digest").where("digest", "in", batch).execute();
    for (const r of rows) found.add(r.digest);
  }
  return found;
}

/** Claims `digests` for run `runId`. */
export async function insertClaims(db: Kysely<DB>, digests: readonly string[], runId: number, now: number): Promise<void> {
  for (const batch of batches(digests)) {
    await db.insertInto("gc_claims").values(batch.map((digest) => ({ digest, run_id: runId, created_at: now }))).execute();
  }
}

/** Releases claims on `digests`. */
export async function deleteClaims(db: Kysely<DB>, digests: readonly string[]): Promise<void> {
  for (const batch of batches(digests)) await db.deleteFrom("gc_claims").where("digest", "in", batch).execute();
}

/** Claims held by runs other than `runId` (left by runs that died), in digest order after `after`. */
export async function foreignClaims(db: Kysely<DB>, runId: number, after: string, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom("gc_claims")
    .select("digest")
    .where("run_id", "!=", runId)
    .where("digest", ">", after)
    .orderBy("digest")
    .limit(limit)
    .execute();
  return rows.map((r) => r.digest);
}

/** Hands claims on `digests` to run `runId`. */
export async function adoptClaims(db: Kysely<DB>, digests: readonly string[], runId: number): Promise<void> {
  for (const batch of batches(digests)) await db.updateTable("gc_claims").set({ run_id: runId }).where("digest", "in", batch).execute();
}
