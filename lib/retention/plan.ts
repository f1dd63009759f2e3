/**
 * @module `mcr retention plan`: the decisions for every repository the
 * rules cover, made from one pass over the repositories in pages (each a
 * few short reads, no transaction held). The plan is also what a run
 * executes, re-checking each decision as it deletes.
 */
import { repositoryContents, repositoryPage } from "../db/queries/retention.ts";
import { fail } from "../errors.ts";
import { checkGlob, globToRegExp } from "../policy/glob.ts";
import type { Rule } from "../policy/rule.ts";
import { TOUCH_INTERVAL_MS } from "../registry/blobs.ts";
import type { Registry } from "../registry/registry.ts";
import { compileRetention, coveringRules } from "./compile.ts";
import { evaluateRepository, type RepositoryPlan } from "./evaluate.ts";
import { PULL_FLUSH_MS } from "./pull-recorder.ts";
import type { RetentionRule } from "./rule.ts";
import { retentionRules } from "./store.ts";

/** A repository's plan, with what a run needs to re-check its pull-based decisions. */
export interface PlannedRepository extends RepositoryPlan {
  /** The longest keep_pulled_within of the rules covering it, in ms; null when none has one. */
  pulledWithinMs: number | null;
}

/** What retention would do now. */
export interface RetentionPlan {
  /** When the plan was made (ISO) and its clock (ms). */
  createdAt: string;
  now: number;
  /** A use recorded since this moment counts as a pull (see EvaluationTime). */
  recentUseSince: number;
  rules: string[];
  repositories: PlannedRepository[];
  totals: { repositories: number; skipped: number; tagsKept: number; tagsRemoved: number; manifestsRemoved: number };
}

const PAGE = 500;

/** Options of a plan: only repositories matching `repo` (a glob); `rules` instead of the stored ones. */
export interface PlanOptions {
  repo?: string;
  rules?: readonly RetentionRule[];
  onProgress?: (repositoriesChecked: number) => void;
}

/** Plans retention for every covered repository (matching `options.repo`). */
export async function planRetention(reg: Registry, options: PlanOptions = {}): Promise<RetentionPlan> {
  let only: RegExp | null = null;
  if (options.repo !== undefined) {
    const problem = checkGlob(options.repo);
    if (problem) fail("INVALID_ARGUMENT", `bad repository glob "${options.repo.slice(0, 255)}": ${problem}`);
    only = globToRegExp(options.repo);
  }
  // Pulls this process has seen but not yet written count too.
  await reg.pulls.flush();
  const rules = compileRetention(options.rules ?? (await retentionRules(reg)));
  const immutable = immutability(await reg.policy.rules());
  const now = reg.now();
  const time = { now, recentUseSince: now - TOUCH_INTERVAL_MS - PULL_FLUSH_MS };
  const repositories: PlannedRepository[] = [];
  let after = 0;
  let checked = 0;
  for (;;) {
    const page = await repositoryPage(reg.db, after, PAGE);
    for (const repo of page) {
      if (only && !only.test(repo.name)) continue;
      const covering = coveringRules(rules, repo.name);
      if (covering.length === 0) continue;
      const contents = await repositoryContents(reg.db, repo.id);
      const plan = evaluateRepository(repo.id, repo.name, contents, covering, time, immutable(repo.name));
      const pulled = covering.map((c) => c.keepPulledMs).filter((ms): ms is number => ms !== null);
      repositories.push({ ...plan, pulledWithinMs: pulled.length > 0 ? Math.max(...pulled) : null });
    }
    checked += page.length;
    options.onProgress?.(checked);
    if (page.length < PAGE) break;
    after = page[page.length - 1]!.id;
  }
  const totals = { repositories: repositories.length, skipped: 0, tagsKept: 0, tagsRemoved: 0, manifestsRemoved: 0 };
  for (const r of repositories) {
    if (r.skipped) totals.skipped++;
    for (const t of r.tags) t.keep ? totals.tagsKept++ : totals.tagsRemoved++;
    for (const g of r.manifests) totals.manifestsRemoved += g.length;
  }
  return { createdAt: new Date(now).toISOString(), now, recentUseSince: time.recentUseSince, rules: rules.map((r) => r.rule.id), repositories, totals };
}

/**
 * For a repository, the policy rules that make it immutable: enabled deny
 * rules on `overwrite` or `delete` whose subjects are everyone (`*`, or
 * both `authenticated` and `anonymous`).
 */
export function immutability(policy: readonly Rule[]): (repository: string) => string[] {
  const denying = policy
    .filter((r) => r.enabled && r.effect === "deny" && r.actions.some((a) => a === "overwrite" || a === "delete"))
    .filter((r) => r.subjects.includes("*") || (r.subjects.includes("authenticated") && r.subjects.includes("anonymous")))
    .map((r) => ({ id: r.id, patterns: r.repositories.map(globToRegExp) }));
  return (repository) => denying.filter((r) => r.patterns.some((p) => p.test(repository))).map((r) => r.id);
}
