/**
 * @module Running retention: make a plan, then carry it out repository by
 * repository in short transactions of at most BATCH items, each of which
 * re-checks its decisions first. A tag pushed or moved since the plan, a
 * manifest used, re-pushed, re-tagged or newly referenced since the plan
 * stays. Every removal is audited with the rules that decided it.
 */
import type { Kysely } from "kysely";
import { currentTags, manifestsBySubjectOrDigest, manifestsNow, parentEdges, removeManifests, removeTags, taggedIds } from "../db/queries/retention.ts";
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
  try {
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
            return removeTagsIfUnchanged(trx, plan, repo, batch);
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
            return removeGroupsIfUnchanged(trx, repo.repositoryId, batch);
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
  } catch (error) {
    // What was removed before the failure is audited already; say how the run ended.
    if (!report.dryRun) {
      const message = error instanceof Error ? error.message : String(error);
      reg.audit.record({ event: "retention.finished", actor: request.actor, outcome: "failure", detail: { tagsRemoved: report.tagsRemoved, manifestsRemoved: report.manifestsRemoved, planned: plan.createdAt, error: message } });
    }
    throw error;
  }
  request.onProgress?.(checked, report.tagsRemoved + report.manifestsRemoved);
  const finished = reg.now();
  report.finishedAt = new Date(finished).toISOString();
  report.durationMs = finished - started;
  if (!report.dryRun) {
    const { removed: _each, ...counts } = report;
    reg.audit.record({ event: "retention.finished", actor: request.actor, outcome: "success", detail: { ...counts, skipped: report.skipped.length, planned: plan.createdAt } });
  }
  return report;
}

/** Inside a transaction: removes the tags that still point where the plan saw them, unpulled since; returns those removed. */
async function removeTagsIfUnchanged(trx: Kysely<DB>, plan: RetentionPlan, repo: PlannedRepository, batch: TagDecision[]): Promise<TagDecision[]> {
  const now = new Map((await currentTags(trx, repo.repositoryId, batch.map((t) => t.tag))).map((t) => [t.name, t]));
  const doomed = batch.filter((t) => {
    const current = now.get(t.tag);
    if (!current || current.manifest_id !== t.manifestId || current.updated_at !== t.pushedAt) return false;
    if (repo.pulledWithinMs === null) return true;
    // The plan found it unpulled; a pull since then (recorded, or still only a use) keeps it.
    if (current.last_seen_at >= plan.recentUseSince) return false;
    return current.pulled_at === null || current.pulled_at < plan.now - repo.pulledWithinMs;
  });
  await removeTags(trx, repo.repositoryId, doomed.map((t) => t.tag));
  return doomed;
}

/**
 * Inside a transaction: removes each group of manifests that nothing has
 * come to keep since the plan (a use or re-push, a tag, an index or a
 * referrer outside the group, a subject pushed); returns what it removed.
 * The checks are made for all groups at once, a few statements in all.
 */
async function removeGroupsIfUnchanged(trx: Kysely<DB>, repositoryId: number, groups: ManifestDecision[][]): Promise<ManifestDecision[]> {
  const planned = groups.flat();
  const present = new Map((await manifestsNow(trx, planned.map((m) => m.id))).map((m) => [m.id, m]));
  const ids = [...present.keys()];
  const tagged = await taggedIds(trx, ids);
  const parents = new Map<number, number[]>();
  for (const e of await parentEdges(trx, ids)) parents.set(e.child_id, [...(parents.get(e.child_id) ?? []), e.manifest_id]);
  const digests = [...present.values()].flatMap((m) => (m.subject === null ? [m.digest] : [m.digest, m.subject]));
  const related = await manifestsBySubjectOrDigest(trx, repositoryId, [...new Set(digests)]);
  const referrers = new Map<string, number[]>();
  const byDigest = new Map<string, number>();
  for (const r of related) {
    byDigest.set(r.digest, r.id);
    if (r.subject !== null) referrers.set(r.subject, [...(referrers.get(r.subject) ?? []), r.id]);
  }
  const removed: ManifestDecision[] = [];
  for (const group of groups) {
    const members = new Set(group.map((m) => m.id));
    const outside = (list: readonly number[] | undefined) => (list ?? []).some((id) => !members.has(id));
    const here = group.filter((m) => present.has(m.id));
    if (here.length === 0) continue;
    const kept = here.some((m) => {
      const now = present.get(m.id)!;
      if (now.last_seen_at !== m.lastSeenAt || tagged.has(m.id) || outside(parents.get(m.id)) || outside(referrers.get(m.digest))) return true;
      const subject = now.subject === null ? undefined : byDigest.get(now.subject);
      return subject !== undefined && !members.has(subject);
    });
    if (!kept) removed.push(...here);
  }
  await removeManifests(trx, removed.map((m) => m.id));
  return removed;
}
