/**
 * @module Running retention: make a plan, then carry it out repository by
 * repository in short transactions of at most BATCH items, each of which
 * re-checks its decisions first. A tag pushed or moved since the plan, a
 * manifest used, re-pushed, re-tagged or newly referenced since the plan
 * stays. Every removal is audited with the rules that decided it.
 */
import type { Kysely } from "kysely";
import { anyTagged, parentIds, referrerIds } from "../db/queries/gc-manifests.ts";
import { deleteManifestRow, manifestIdsByDigest } from "../db/queries/manifests.ts";
import { currentTag, manifestsNow, removeTag } from "../db/queries/retention.ts";
import type { DB } from "../db/schema.ts";
import type { Registry } from "../registry/registry.ts";
import type { ManifestDecision, TagDecision } from "./evaluate.ts";
import { planRetention, type PlannedRepository, type RetentionPlan, type PlanOptions } from "./plan.ts";

/** Items (tags or manifests) per transaction: short enough that pushes barely wait. */
export const BATCH = 100;

/** What a run removed (or, dry, would), and what it left because it changed since the plan. */
export interface RetentionRunReport {
  dryRun: boolean;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  repositories: number;
  tagsRemoved: number;
  manifestsRemoved: number;
  /** Planned removals left in place because the re-check found them changed (pushed, moved, used). */
  keptOnRecheck: number;
  /** Repositories left alone, and why. */
  skipped: { repository: string; reason: string }[];
  /** Per repository, the tags and manifest digests removed. */
  removed: { repository: string; tags: string[]; manifests: string[] }[];
}

/** How to run. */
export interface RetentionRunRequest extends Omit<PlanOptions, "onProgress"> {
  actor: string;
  dryRun?: boolean;
  /** Called after each transaction; may throw to stop the run. */
  onProgress?: (repositoriesChecked: number, removed: number) => void;
  /** Runs first inside each deleting transaction; may throw to stop (GC passes its lock check). */
  checkpoint?: (trx: Kysely<DB>) => Promise<void>;
  /** An existing plan to carry out instead of making one. */
  plan?: RetentionPlan;
}

/** Plans and applies retention; returns what it did. */
export async function runRetention(reg: Registry, request: RetentionRunRequest): Promise<RetentionRunReport> {
  const started = reg.now();
  const plan = request.plan ?? (await planRetention(reg, { repo: request.repo, rules: request.rules, onProgress: (n) => request.onProgress?.(n, 0) }));
  const report: RetentionRunReport = {
    dryRun: request.dryRun ?? false,
    startedAt: new Date(started).toISOString(),
    finishedAt: "",
    durationMs: 0,
    repositories: plan.repositories.length,
    tagsRemoved: 0,
    manifestsRemoved: 0,
    keptOnRecheck: 0,
    skipped: [],
    removed: [],
  };
  let checked = 0;
  for (const repo of plan.repositories) {
    checked++;
    if (repo.skipped) {
      report.skipped.push({ repository: repo.repository, reason: repo.skipped.reason });
      continue;
    }
    const tags = repo.tags.filter((t) => !t.keep);
    const removed = { repository: repo.repository, tags: [] as string[], manifests: [] as string[] };
    if (report.dryRun) {
      removed.tags = tags.map((t) => t.tag);
      removed.manifests = repo.manifests.flat().map((m) => m.digest);
    } else {
      for (let i = 0; i < tags.length; i += BATCH) {
        const batch = tags.slice(i, i + BATCH);
        const gone = await reg.db.transaction().execute(async (trx) => {
          await request.checkpoint?.(trx);
          const done: TagDecision[] = [];
          for (const t of batch) if (await removeTagIfUnchanged(trx, plan, repo, t)) done.push(t);
          return done;
        });
        report.keptOnRecheck += batch.length - gone.length;
        for (const t of gone) {
          removed.tags.push(t.tag);
          reg.audit.record({ event: "retention.tag.deleted", actor: request.actor, outcome: "success", repository: repo.repository, tag: t.tag, digest: t.digest, detail: { rules: t.rules, reason: t.reason, planned: plan.createdAt } });
        }
        request.onProgress?.(checked, report.tagsRemoved + removed.tags.length + report.manifestsRemoved);
      }
      for (let i = 0; i < repo.manifests.length; ) {
        // Whole groups per transaction, about BATCH manifests at a time.
        const batch: ManifestDecision[][] = [];
        let size = 0;
        while (i < repo.manifests.length && (batch.length === 0 || size + repo.manifests[i]!.length <= BATCH)) {
          size += repo.manifests[i]!.length;
          batch.push(repo.manifests[i++]!);
        }
        const gone = await reg.db.transaction().execute(async (trx) => {
          await request.checkpoint?.(trx);
          const done: ManifestDecision[] = [];
          for (const group of batch) done.push(...(await removeGroupIfUnchanged(trx, repo.repositoryId, group)));
          return done;
        });
        report.keptOnRecheck += size - gone.length;
        for (const m of gone) {
          removed.manifests.push(m.digest);
          reg.audit.record({ event: "retention.manifest.deleted", actor: request.actor, outcome: "success", repository: repo.repository, digest: m.digest, detail: { rules: m.rules, reason: m.reason, planned: plan.createdAt } });
        }
        request.onProgress?.(checked, report.tagsRemoved + removed.tags.length + report.manifestsRemoved + removed.manifests.length);
      }
    }
    report.tagsRemoved += removed.tags.length;
    report.manifestsRemoved += removed.manifests.length;
    if (removed.tags.length > 0 || removed.manifests.length > 0) report.removed.push(removed);
    request.onProgress?.(checked, report.tagsRemoved + report.manifestsRemoved);
  }
  request.onProgress?.(checked, report.tagsRemoved + report.manifestsRemoved);
  const finished = reg.now();
  report.finishedAt = new Date(finished).toISOString();
  report.durationMs = finished - started;
  return report;
}

/** Inside a transaction: removes the tag if it still points where the plan saw it, unpulled since; returns whether it did. */
async function removeTagIfUnchanged(trx: Kysely<DB>, plan: RetentionPlan, repo: PlannedRepository, t: TagDecision): Promise<boolean> {
  const now = await currentTag(trx, repo.repositoryId, t.tag);
  if (!now || now.manifest_id !== t.manifestId || now.updated_at !== t.pushedAt) return false;
  if (repo.pulledWithinMs !== null) {
    // The plan found it unpulled; a pull since then (recorded, or still only a use) keeps it.
    if (now.last_seen_at >= plan.recentUseSince) return false;
    if (now.pulled_at !== null && now.pulled_at >= plan.now - repo.pulledWithinMs) return false;
  }
  await removeTag(trx, repo.repositoryId, t.tag);
  return true;
}

/**
 * Inside a transaction: removes a group of manifests if nothing has come
 * to keep it since the plan (a use or re-push, a tag, an index or a
 * referrer outside the group, a subject pushed); returns what it removed.
 */
async function removeGroupIfUnchanged(trx: Kysely<DB>, repositoryId: number, group: ManifestDecision[]): Promise<ManifestDecision[]> {
  const planned = new Map(group.map((m) => [m.id, m]));
  const outside = (ids: Iterable<number>) => [...ids].some((id) => !planned.has(id));
  const present = await manifestsNow(trx, [...planned.keys()]);
  if (present.length === 0 || present.some((m) => m.last_seen_at !== planned.get(m.id)!.lastSeenAt)) return [];
  const ids = present.map((m) => m.id);
  if (await anyTagged(trx, ids)) return [];
  if (outside(await parentIds(trx, ids))) return [];
  if (outside(await referrerIds(trx, repositoryId, present.map((m) => m.digest)))) return [];
  const subjects = present.flatMap((m) => (m.subject === null ? [] : [m.subject]));
  if (outside((await manifestIdsByDigest(trx, repositoryId, subjects)).values())) return [];
  const here = new Set(ids);
  const removed: ManifestDecision[] = [];
  for (const m of group) {
    if (!here.has(m.id)) continue;
    await deleteManifestRow(trx, m.id);
    removed.push(m);
  }
  return removed;
}
