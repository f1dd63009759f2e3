/**
 * @module Evaluating retention for one repository: a pure function from
 * its tags, manifests and index edges to decisions, each naming the rules
 * that made it.
 *
 * Tags: in a repository that a rule with a keep selector covers, a tag
 * stays if any such rule keeps it and goes otherwise (keep wins). Tags of
 * a referrer whose subject is in the repository follow the subject.
 * Manifests: kept are those with a kept tag, untagged ones not yet past
 * `untagged_after`, and, from any kept manifest, the children of an index
 * and the referrers of a subject. The rest goes: a manifest whose last tag
 * went, an untagged one unused too long, and what only those held (their
 * children, their referrers). A referrer never keeps its subject.
 * A tag pushed or moved, or a manifest pushed or used, at or after the
 * plan's moment is a change after the plan: kept, and not counted.
 */
import { doomedGroups, groupBy } from "../gc/mark-manifests.ts";
import type { ManifestRow, TagRow } from "../db/queries/retention.ts";
import { roughly, type CompiledRetentionRule } from "./compile.ts";
import { keepsTags } from "./rule.ts";

/** Everything retention reads of one repository. */
export interface RepositoryContents {
  tags: TagRow[];
  manifests: ManifestRow[];
  edges: { manifest_id: number; child_id: number }[];
}

/** The moment a plan is made, and from when a use counts as a pull not yet recorded. */
export interface EvaluationTime {
  now: number;
  /** A manifest used (pushed, pulled, checked) since this counts as pulled now (pull records lag behind). */
  recentUseSince: number;
}

/** The decision about one tag. */
export interface TagDecision {
  tag: string;
  digest: string;
  manifestId: number;
  /** The tag's push (or move) time when planned: a tag pushed or moved since is not removed. */
  pushedAt: number;
  keep: boolean;
  /** The rules that kept it, or (removed) the rules that covered it and kept it not. */
  rules: string[];
  reason: string;
}

/** A manifest to remove, and why. */
export interface ManifestDecision {
  id: number;
  digest: string;
  /** Its last use when planned: a manifest used since is not removed. */
  lastSeenAt: number;
  rules: string[];
  reason: string;
}

/** What retention decided for one repository. */
export interface RepositoryPlan {
  repository: string;
  repositoryId: number;
  /** Every enabled rule covering the repository. */
  rules: string[];
  /** Set when nothing in the repository is touched, and why. */
  skipped: { reason: string; rules: string[] } | null;
  tags: TagDecision[];
  /** Manifests to remove, in groups removed together, each group's indexes before their children. */
  manifests: ManifestDecision[][];
}

const empty = (repositoryId: number, repository: string, covering: readonly CompiledRetentionRule[]): RepositoryPlan => ({
  repository,
  repositoryId,
  rules: covering.map((c) => c.rule.id),
  skipped: null,
  tags: [],
  manifests: [],
});

/**
 * Decides what repository `repository` keeps under `covering` (its rules,
 * in file order). `immutableBy` names policy rules that deny overwrite or
 * delete there to everyone: then nothing is touched unless a covering rule
 * says `override_immutable`.
 */
export function evaluateRepository(
  repositoryId: number,
  repository: string,
  contents: RepositoryContents,
  covering: readonly CompiledRetentionRule[],
  time: EvaluationTime,
  immutableBy: readonly string[] = [],
): RepositoryPlan {
  const plan = empty(repositoryId, repository, covering);
  if (immutableBy.length > 0 && !covering.some((c) => c.rule.override_immutable)) {
    plan.skipped = { reason: `immutable: the policy denies overwrite or delete here to everyone (${immutableBy.join(", ")}); set override_immutable = true to allow`, rules: [...immutableBy] };
    return plan;
  }
  const { manifests } = contents;
  const byId = new Map(manifests.map((m) => [m.id, m]));
  // Tags and edges pushed after the manifests were read name manifests not here: too new to touch, left out.
  const tags = contents.tags.filter((t) => byId.has(t.manifest_id));
  const edges = contents.edges.filter((e) => byId.has(e.manifest_id) && byId.has(e.child_id));
  const byDigest = new Map(manifests.map((m) => [m.digest, m.id]));
  const tagsOf = groupBy(tags, (t) => t.manifest_id, (t) => t);
  const children = groupBy(edges, (e) => e.manifest_id, (e) => e.child_id);
  const parents = groupBy(edges, (e) => e.child_id, (e) => e.manifest_id);
  const referrers = groupBy(manifests.filter((m) => m.subject !== null && byDigest.has(m.subject)), (m) => byDigest.get(m.subject!)!, (m) => m.id);
  // A referrer whose subject is here goes and stays with it, tags and all.
  const attached = (m: ManifestRow) => m.subject !== null && byDigest.has(m.subject);
  const lastPulled = (m: ManifestRow) => Math.max(m.pulled_at ?? -Infinity, m.last_seen_at >= time.recentUseSince ? m.last_seen_at : -Infinity);

  // The plan decides on the state at `time.now`, but reads each repository later: a tag pushed or
  // moved since (or in the same millisecond) is a change after the plan, left alone like one made
  // after the read (which the run's re-check catches), and it does not push older tags out of keep_last.
  const late = (t: TagRow) => t.updated_at >= time.now;
  const decided = new Map<string, TagDecision>();
  for (const t of tags.filter(late)) {
    const m = byId.get(t.manifest_id)!;
    decided.set(t.name, { tag: t.name, digest: m.digest, manifestId: m.id, pushedAt: t.updated_at, keep: true, rules: [], reason: "pushed or moved since the plan began" });
  }
  const tagRules = covering.filter((c) => keepsTags(c.rule));
  const candidates = tags.filter((t) => !late(t) && !attached(byId.get(t.manifest_id)!));
  const ranked = [...candidates].sort((a, b) => b.updated_at - a.updated_at || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const rank = new Map(ranked.map((t, i) => [t.name, i]));
  for (const t of candidates) {
    const m = byId.get(t.manifest_id)!;
    const base = { tag: t.name, digest: m.digest, manifestId: m.id, pushedAt: t.updated_at };
    if (tagRules.length === 0) {
      decided.set(t.name, { ...base, keep: true, rules: [], reason: "no rule here decides about tags" });
      continue;
    }
    const keptBy = tagRules.flatMap((c) => {
      const why = keepReason(c, t, rank.get(t.name)!, lastPulled(m), time.now);
      return why === null ? [] : [{ id: c.rule.id, why }];
    });
    if (keptBy.length > 0) {
      decided.set(t.name, { ...base, keep: true, rules: keptBy.map((k) => k.id), reason: keptBy.map((k) => `${k.id}: ${k.why}`).join("; ") });
    } else {
      const pulled = lastPulled(m);
      const facts = [
        `#${rank.get(t.name)! + 1} newest`,
        `pushed ${roughly(time.now - t.updated_at)} ago`,
        pulled === -Infinity ? "never pulled" : `pulled ${roughly(time.now - pulled)} ago`,
      ];
      decided.set(t.name, { ...base, keep: false, rules: tagRules.map((c) => c.rule.id), reason: `no rule keeps it (${facts.join(", ")})` });
    }
  }
  const keptTags = [...decided.values()].filter((d) => d.keep);
  // Emptying is judged on the tags as they were at the plan's moment: one pushed since does not license it.
  const keptThen = candidates.filter((t) => decided.get(t.name)!.keep);
  if (tagRules.length > 0 && candidates.length > 0 && keptThen.length === 0 && !tagRules.some((c) => c.rule.allow_empty)) {
    plan.skipped = {
      reason: `the rules would remove every tag (${candidates.length}); set allow_empty = true on a rule to allow it`,
      rules: tagRules.map((c) => c.rule.id),
    };
    return plan;
  }

  // Manifests: mark from the roots.
  const untaggedRules = covering.filter((c) => c.untaggedAfterMs !== null);
  const lenient = untaggedRules.reduce<CompiledRetentionRule | null>((a, c) => (a === null || c.untaggedAfterMs! > a.untaggedAfterMs! ? c : a), null);
  const keptByTag = new Set(keptTags.map((d) => d.manifestId));
  const cause = new Map<number, { rules: string[]; reason: string }>();
  const kept = new Set<number>();
  const queue: number[] = [];
  for (const m of manifests) {
    // Pushed or used since the plan's moment (read later): a change after the plan, kept like a tag pushed since.
    if (m.last_seen_at >= time.now) {
      queue.push(m.id);
      continue;
    }
    const own = tagsOf.get(m.id);
    if (attached(m)) continue;
    if (own) {
      if (keptByTag.has(m.id)) queue.push(m.id);
      else cause.set(m.id, { rules: tagRules.map((c) => c.rule.id), reason: `its last tag went (${own.map((t) => t.name).sort().join(", ")})` });
      continue;
    }
    if (parents.has(m.id)) continue;
    const idle = time.now - Math.max(m.last_seen_at, m.pulled_at ?? 0);
    if (lenient !== null && idle > lenient.untaggedAfterMs!) {
      cause.set(m.id, { rules: [lenient.rule.id], reason: `untagged and unused for ${roughly(idle)} (untagged_after ${lenient.rule.untagged_after})` });
    } else {
      queue.push(m.id);
    }
  }
  while (queue.length > 0) {
    const id = queue.pop()!;
    if (kept.has(id)) continue;
    kept.add(id);
    for (const next of [...(children.get(id) ?? []), ...(referrers.get(id) ?? [])]) if (!kept.has(next)) queue.push(next);
  }
  const doomed = manifests.filter((m) => !kept.has(m.id));
  const explain = (m: ManifestRow, seen = new Set<number>()): { rules: string[]; reason: string } => {
    const known = cause.get(m.id);
    if (known) return known;
    seen.add(m.id);
    const via = attached(m) ? byId.get(byDigest.get(m.subject!)!)! : byId.get((parents.get(m.id) ?? []).find((p) => !kept.has(p) && !seen.has(p)) ?? -1);
    const upstream = via && !seen.has(via.id) ? explain(via, seen) : { rules: [], reason: "" };
    const result = { rules: upstream.rules, reason: attached(m) ? `referrer of ${m.subject}, which goes` : `listed only by index ${via?.digest ?? "?"}, which goes` };
    cause.set(m.id, result);
    return result;
  };
  const decisions = new Map(doomed.map((m) => [m.id, { id: m.id, digest: m.digest, lastSeenAt: m.last_seen_at, ...explain(m) }]));

  // Tags of referrers follow their manifest.
  for (const t of tags) {
    if (decided.has(t.name)) continue;
    const m = byId.get(t.manifest_id)!;
    const gone = decisions.get(m.id);
    const base = { tag: t.name, digest: m.digest, manifestId: m.id, pushedAt: t.updated_at };
    decided.set(t.name, gone ? { ...base, keep: false, rules: gone.rules, reason: `a referrer: ${gone.reason}` } : { ...base, keep: true, rules: [], reason: `a referrer of ${m.subject}, which stays` });
  }
  plan.tags = [...decided.values()].sort((a, b) => (rank.get(a.tag) ?? Infinity) - (rank.get(b.tag) ?? Infinity) || (a.tag < b.tag ? -1 : 1));

  // Groups removed together: doomed manifests joined by index and subject edges.
  const subjectOf = (id: number) => {
    const m = byId.get(id)!;
    return attached(m) ? byDigest.get(m.subject!)! : undefined;
  };
  plan.manifests = doomedGroups(doomed.map((m) => m.id), kept, edges, subjectOf, children).map((ids) => ids.map((id) => decisions.get(id)!));
  return plan;
}

/** Why rule `c` keeps tag `t`, or null when it does not. */
function keepReason(c: CompiledRetentionRule, t: TagRow, rank: number, pulledAt: number, now: number): string | null {
  const why: string[] = [];
  if (c.rule.keep_last !== null && rank < c.rule.keep_last) why.push(`keep_last ${c.rule.keep_last} (#${rank + 1})`);
  const glob = c.rule.keep_tags.find((_, i) => c.tags[i]!.test(t.name));
  if (glob !== undefined) why.push(`keep_tags "${glob}"`);
  if (c.keepPushedMs !== null && now - t.updated_at <= c.keepPushedMs) why.push(`pushed ${roughly(now - t.updated_at)} ago (keep_pushed_within ${c.rule.keep_pushed_within})`);
  if (c.keepPulledMs !== null && now - pulledAt <= c.keepPulledMs) why.push(`pulled ${roughly(now - pulledAt)} ago (keep_pulled_within ${c.rule.keep_pulled_within})`);
  return why.length > 0 ? why.join(", ") : null;
}
