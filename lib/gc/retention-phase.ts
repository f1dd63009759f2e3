/**
 * @module GC phase "retention" (`mcr gc --retention`): applies the
 * retention rules before the sweeps, inside the run's lock and with its
 * checkpoint in every deleting transaction, so the blobs of the images it
 * removes are swept by the same run once idle past the grace period. In a
 * dry run the manifests it would remove count as removed for the blob
 * phase, which then reports the bytes they would free.
 */
import { planRetention } from "../retention/plan.ts";
import { runRetention } from "../retention/run.ts";
import type { GcContext } from "./context.ts";

/** Plans and applies retention as the first phase of a GC run. */
export async function applyRetentionPhase(ctx: GcContext): Promise<void> {
  const plan = await planRetention(ctx.reg, { onProgress: (n) => ctx.progress("retention", n, 0) });
  const report = await runRetention(ctx.reg, {
    actor: ctx.actor,
    dryRun: ctx.options.dryRun,
    plan,
    checkpoint: ctx.checkpoint,
    onProgress: (checked, removed) => ctx.progress("retention", checked, removed),
  });
  if (ctx.options.dryRun) for (const repo of plan.repositories) if (!repo.skipped) for (const g of repo.manifests) for (const m of g) ctx.doomedManifests.add(m.id);
  ctx.tally.retentionRun = {
    repositories: report.repositories,
    tagsRemoved: report.tagsRemoved,
    manifestsRemoved: report.manifestsRemoved,
    keptOnRecheck: report.keptOnRecheck,
    skipped: report.skipped,
  };
}
