/**
 * @module GC phases "blobs" and "memberships".
 *
 * A blob is garbage when no manifest of any repository references it and
 * it was not pushed, mounted or read since the cutoff. Its rows (the blob
 * and every repository's link to it) go in a short transaction that
 * re-checks both conditions and claims the digest; the file is unlinked
 * after commit, then the claim released. Uploads that finish meanwhile wait
 * on the claim (lib/gc/claims.ts), so none links a row to a vanishing file.
 *
 * A repository's link to a blob that is kept (another repository's
 * manifests use it) is removed on the same terms, judged per repository: no
 * manifest of that repository references it and the blob is idle. The
 * blob then stays readable only where it is used.
 */
import { deleteClaims, insertClaims } from "../db/queries/gc-claims.ts";
import {
  deleteBlobRows,
  deleteIdleMembership,
  holdersOf,
  idleBlobPage,
  idleMembershipPage,
  referencingManifests,
  stillIdleUnreferenced,
  type BlobRow,
} from "../db/queries/gc-sweep.ts";
import { PAGE, SWEEP_BATCH, type GcContext } from "./context.ts";

/** Removes garbage blobs: rows, then files (counts them, in a dry run). */
export async function sweepBlobs(ctx: GcContext): Promise<void> {
  const { reg } = ctx;
  let checked = 0;
  let removed = 0;
  for (let after = ""; ; ) {
    const page = await idleBlobPage(reg.db, ctx.cutoff, after, PAGE);
    const refs = await referencingManifests(reg.db, page.map((b) => b.digest));
    // Unreferenced, or referenced only by manifests this run removes.
    const garbage = page.filter((b) => (refs.get(b.digest) ?? []).every((id) => ctx.doomedManifests.has(id)));
    for (let i = 0; i < garbage.length; i += SWEEP_BATCH) {
      const batch = garbage.slice(i, i + SWEEP_BATCH);
      removed += ctx.options.dryRun ? await countBatch(ctx, batch) : await removeBatch(ctx, batch);
      ctx.progress("blobs", checked + Math.min(page.length, i + SWEEP_BATCH), removed);
    }
    checked += page.length;
    ctx.progress("blobs", checked, removed);
    if (page.length < PAGE) return;
    after = page[page.length - 1]!.digest;
  }
}

/** Removes one batch: rows and claims in one transaction, files after it, claims released after them. */
async function removeBatch(ctx: GcContext, batch: BlobRow[]): Promise<number> {
  const { reg } = ctx;
  const { doomed, holders } = await reg.db.transaction().execute(async (trx) => {
    await ctx.checkpoint(trx);
    const rows = await stillIdleUnreferenced(trx, batch.map((b) => b.digest), ctx.cutoff);
    const digests = rows.map((b) => b.digest);
    const held = await holdersOf(trx, digests);
    await deleteBlobRows(trx, digests);
    await insertClaims(trx, digests, ctx.runId, reg.now());
    return { doomed: rows, holders: held };
  });
  for (const blob of doomed) {
    if (await reg.store.delete(blob.digest)) ctx.tally.bytesFreed += blob.size;
    else missing(ctx, blob, holders.get(blob.digest) ?? []);
  }
  await reg.db.transaction().execute((trx) => deleteClaims(trx, doomed.map((b) => b.digest)));
  ctx.tally.blobsRemoved += doomed.length;
  return doomed.length;
}

/** A dry run's version of removeBatch: looks, changes nothing. */
async function countBatch(ctx: GcContext, batch: BlobRow[]): Promise<number> {
  const holders = await holdersOf(ctx.reg.db, batch.map((b) => b.digest));
  for (const blob of batch) {
    ctx.doomedBlobs.add(blob.digest);
    if (await ctx.reg.store.stat(blob.digest)) ctx.tally.bytesFreed += blob.size;
    else missing(ctx, blob, holders.get(blob.digest) ?? []);
  }
  ctx.tally.blobsRemoved += batch.length;
  return batch.length;
}

/** A garbage row had no file: it goes (nothing uses it), but loudly. */
function missing(ctx: GcContext, blob: BlobRow, repositories: string[]): void {
  ctx.tally.missing.push({ digest: blob.digest, size: blob.size, referenced: false, repositories, removed: true });
}

/** Removes repositories' links to kept blobs they no longer use. */
export async function sweepMemberships(ctx: GcContext): Promise<void> {
  const { reg } = ctx;
  let checked = 0;
  let removed = 0;
  for (let after = { repositoryId: 0, digest: "" }; ; ) {
    const page = await idleMembershipPage(reg.db, ctx.cutoff, after, PAGE);
    const unused = page.filter((m) => !ctx.doomedBlobs.has(m.digest) && m.manifest_ids.every((id) => ctx.doomedManifests.has(id)));
    for (let i = 0; i < unused.length; i += SWEEP_BATCH) {
      const batch = unused.slice(i, i + SWEEP_BATCH);
      if (ctx.options.dryRun) {
        removed += batch.length;
      } else {
        removed += await reg.db.transaction().execute(async (trx) => {
          await ctx.checkpoint(trx);
          let n = 0;
          for (const m of batch) if (await deleteIdleMembership(trx, m.repository_id, m.digest, ctx.cutoff)) n++;
          return n;
        });
      }
    }
    checked += page.length;
    ctx.progress("memberships", checked, removed);
    if (page.length < PAGE) break;
    const last = page[page.length - 1]!;
    after = { repositoryId: last.repository_id, digest: last.digest };
  }
  ctx.tally.membershipsRemoved += removed;
}
