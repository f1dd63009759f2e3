/**
 * @module GC phases that compare the store with the database.
 *
 * "recover": claims left by a run that died between removing rows and
 * releasing its claims; their files are unlinked now (no row can have been
 * written for a claimed digest). "orphans": files with no row, older than
 * the cutoff (a crash between a store commit and its row, or a store
 * written by hand), claimed, unlinked, released like garbage blobs.
 * "verify": rows whose file is missing, reported, never removed.
 */
import { adoptClaims, claimedDigests, deleteClaims, foreignClaims, insertClaims } from "../db/queries/gc-claims.ts";
import { blobPage, blobRowsAmong, holdersOf, referencingManifests } from "../db/queries/gc-sweep.ts";
import type { StoredBlob } from "../storage/blob-store.ts";
import { PAGE, SWEEP_BATCH, type GcContext } from "./context.ts";

/** Finishes what dead runs left claimed. */
export async function recoverClaims(ctx: GcContext): Promise<void> {
  const { reg } = ctx;
  let checked = 0;
  let removed = 0;
  for (let after = ""; ; ) {
    const digests = await foreignClaims(reg.db, ctx.runId, after, SWEEP_BATCH);
    if (digests.length === 0) return;
    checked += digests.length;
    if (ctx.options.dryRun) {
      for (const digest of digests) if (await countOrphan(ctx, digest)) removed++;
      ctx.progress("recover", checked, removed);
      after = digests[digests.length - 1]!;
      continue;
    }
    const orphans = await reg.db.transaction().execute(async (trx) => {
      await ctx.checkpoint(trx);
      // A row would mean a writer got in; then the file is its, whatever the claim says.
      const rows = await blobRowsAmong(trx, digests);
      await deleteClaims(trx, [...rows]);
      const mine = digests.filter((d) => !rows.has(d));
      await adoptClaims(trx, mine, ctx.runId);
      return mine;
    });
    removed += await unlinkClaimed(ctx, orphans);
    ctx.progress("recover", checked, removed);
  }
}

/** Removes files that have no row and are older than the cutoff. */
export async function sweepOrphans(ctx: GcContext): Promise<void> {
  const { reg } = ctx;
  let checked = 0;
  let removed = 0;
  let page: StoredBlob[] = [];
  const flush = async () => {
    const digests = page.map((b) => b.digest);
    const rows = await blobRowsAmong(reg.db, digests);
    const claimed = await claimedDigests(reg.db, digests);
    const orphans = page.filter((b) => !rows.has(b.digest) && !claimed.has(b.digest) && b.modifiedAt < ctx.cutoff).map((b) => b.digest);
    for (let i = 0; i < orphans.length; i += SWEEP_BATCH) {
      const batch = orphans.slice(i, i + SWEEP_BATCH);
      if (ctx.options.dryRun) {
        for (const digest of batch) if (await countOrphan(ctx, digest)) removed++;
        continue;
      }
      const mine = await reg.db.transaction().execute(async (trx) => {
        await ctx.checkpoint(trx);
        const nowRows = await blobRowsAmong(trx, batch);
        const nowClaimed = await claimedDigests(trx, batch);
        const still = batch.filter((d) => !nowRows.has(d) && !nowClaimed.has(d));
        await insertClaims(trx, still, ctx.runId, reg.now());
        return still;
      });
      removed += await unlinkClaimed(ctx, mine);
    }
    checked += page.length;
    ctx.progress("orphans", checked, removed);
    page = [];
  };
  for await (const blob of reg.store.list()) {
    page.push(blob);
    if (page.length >= PAGE) await flush();
  }
  await flush();
}

/** Unlinks the files of digests this run has claimed, then releases the claims; returns how many files went. */
async function unlinkClaimed(ctx: GcContext, digests: string[]): Promise<number> {
  let removed = 0;
  for (const digest of digests) {
    const size = (await ctx.reg.store.stat(digest))?.size ?? 0;
    if (await ctx.reg.store.delete(digest)) {
      removed++;
      ctx.tally.orphansRemoved++;
      ctx.tally.bytesFreed += size;
    }
  }
  await ctx.reg.db.transaction().execute((trx) => deleteClaims(trx, digests));
  return removed;
}

/** A dry run's count of an orphan file; false when there is no file. */
async function countOrphan(ctx: GcContext, digest: string): Promise<boolean> {
  const stat = await ctx.reg.store.stat(digest);
  if (!stat) return false;
  ctx.tally.orphansRemoved++;
  ctx.tally.bytesFreed += stat.size;
  return true;
}

/** Reports every row whose file is missing (corruption); removes nothing. */
export async function verifyRows(ctx: GcContext): Promise<void> {
  const { reg } = ctx;
  let checked = 0;
  for (let after = ""; ; ) {
    const page = await blobPage(reg.db, after, PAGE);
    const lost = [];
    for (const blob of page) if (!ctx.doomedBlobs.has(blob.digest) && !(await reg.store.stat(blob.digest))) lost.push(blob);
    if (lost.length > 0) {
      const digests = lost.map((b) => b.digest);
      const holders = await holdersOf(reg.db, digests);
      const refs = await referencingManifests(reg.db, digests);
      for (const blob of lost) {
        const referenced = (refs.get(blob.digest) ?? []).some((id) => !ctx.doomedManifests.has(id));
        ctx.tally.missing.push({ digest: blob.digest, size: blob.size, referenced, repositories: holders.get(blob.digest) ?? [], removed: false });
      }
    }
    checked += page.length;
    ctx.progress("verify", checked, 0);
    if (page.length < PAGE) return;
    after = page[page.length - 1]!.digest;
  }
}
