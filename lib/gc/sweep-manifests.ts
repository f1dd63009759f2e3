/**
 * @module GC phase "manifests" (only with `--untagged`): removes the groups
 * of manifests that marking found nothing keeps. Each group goes in one
 * short transaction that first re-checks it: still idle, untagged, listed
 * by no index outside the group, with no referrer or subject outside it.
 * A tag, an index or a referrer pushed since marking keeps the whole group.
 */
import type { Kysely } from "kysely";
import { anyTagged, manifestNodes, parentIds, referrerIds } from "../db/queries/gc-manifests.ts";
import { deleteManifestRow, manifestIdsByDigest } from "../db/queries/manifests.ts";
import type { DB } from "../db/schema.ts";
import { SWEEP_BATCH, type GcContext } from "./context.ts";
import { markUntagged, type DoomedGroup } from "./mark-manifests.ts";

/** Removes untagged manifests nothing keeps (counts them, in a dry run). */
export async function sweepManifests(ctx: GcContext): Promise<void> {
  const { groups, weighed } = await markUntagged(ctx.reg.db, ctx.cutoff);
  let removed = 0;
  const record = (ids: readonly number[]) => {
    for (const id of ids) ctx.doomedManifests.add(id);
    removed += ids.length;
    ctx.tally.manifestsRemoved += ids.length;
  };
  for (let i = 0; i < groups.length; ) {
    // Whole groups per transaction, about SWEEP_BATCH manifests at a time.
    const batch: DoomedGroup[] = [];
    let size = 0;
    while (i < groups.length && (batch.length === 0 || size + groups[i]!.ids.length <= SWEEP_BATCH)) {
      size += groups[i]!.ids.length;
      batch.push(groups[i++]!);
    }
    if (ctx.options.dryRun) {
      for (const group of batch) record(group.ids);
    } else {
      const gone = await ctx.reg.db.transaction().execute(async (trx) => {
        await ctx.checkpoint(trx);
        const ids: number[] = [];
        for (const group of batch) ids.push(...(await removeGroup(trx, group, ctx.cutoff)));
        return ids;
      });
      record(gone);
    }
    ctx.progress("manifests", weighed, removed);
  }
  ctx.progress("manifests", weighed, removed);
}

/** Inside a transaction: removes the group if nothing outside it has come to keep it; returns the ids removed. */
async function removeGroup(trx: Kysely<DB>, group: DoomedGroup, cutoff: number): Promise<number[]> {
  const members = new Set(group.ids);
  const outside = (ids: Iterable<number>) => [...ids].some((id) => !members.has(id));
  const present = await manifestNodes(trx, group.ids);
  if (present.length === 0 || present.some((n) => n.last_seen_at >= cutoff)) return [];
  const ids = present.map((n) => n.id);
  if (await anyTagged(trx, ids)) return [];
  if (outside(await parentIds(trx, ids))) return [];
  if (outside(await referrerIds(trx, group.repositoryId, present.map((n) => n.digest)))) return [];
  const subjects = present.flatMap((n) => (n.subject === null ? [] : [n.subject]));
  if (outside((await manifestIdsByDigest(trx, group.repositoryId, subjects)).values())) return [];
  const here = new Set(ids);
  for (const id of group.ids) if (here.has(id)) await deleteManifestRow(trx, id);
  return ids;
}
