/**
 * @module `mcr retention show|apply|edit|plan|run`: the retention rules as
 * a file (managed like the policy), the plan with the rule behind every
 * decision, and a run without the sweep (`mcr gc --retention` runs them
 * and then sweeps), on the local data directory or a remote registry.
 */
import type { Command } from "commander";
import { readFileSync } from "node:fs";
import { isEmptyDiff } from "../../lib/policy/diff.ts";
import type { RetentionPlan } from "../../lib/retention/plan.ts";
import type { RetentionRule } from "../../lib/retention/rule.ts";
import { formatRetentionJson, formatRetentionToml, parseRetentionText } from "../../lib/retention/rules-file.ts";
import { runRetention, type RetentionRunReport } from "../../lib/retention/run.ts";
import { planRetention } from "../../lib/retention/plan.ts";
import { applyRetention, diffRetention, isNoChange, retentionRules, type RetentionApplyResult, type RetentionChange } from "../../lib/retention/store.ts";
import { editDocument } from "../edit-document.ts";
import { localActor } from "../local.ts";
import { printJson, UsageError } from "../output.ts";
import { formatRuleSetDiff } from "../policy-diff.ts";
import { onTarget, targetOptions, type TargetOptions } from "../target.ts";

const describe = (r: RetentionRule) => {
  const keeps = [
    r.keep_last !== null && `keep_last ${r.keep_last}`,
    r.keep_tags.length > 0 && `keep_tags ${r.keep_tags.join(",")}`,
    r.keep_pushed_within && `pushed within ${r.keep_pushed_within}`,
    r.keep_pulled_within && `pulled within ${r.keep_pulled_within}`,
    r.untagged_after && `untagged after ${r.untagged_after}`,
  ].filter(Boolean);
  return `${keeps.join(", ")} on ${r.repositories.join(",")}`;
};

/** A change as lines: the rules' diff, or, when only their order moved, that (plans list rules in file order). */
function changeLines(change: RetentionChange): string[] {
  return change.reordered && isEmptyDiff(change.diff) ? ["~ the order of the rules"] : formatRuleSetDiff(change.diff, describe);
}

function currentRules(opts: TargetOptions): Promise<RetentionRule[]> {
  return onTarget(opts, {
    local: (reg) => retentionRules(reg),
    remote: async (api) => (await api.get<{ rules: RetentionRule[] }>("/v1/retention")).rules,
  });
}

function replaceRules(opts: TargetOptions, rules: readonly RetentionRule[], dryRun = false): Promise<RetentionApplyResult> {
  return onTarget(opts, {
    local: (reg) => applyRetention(reg, rules, localActor(), { dryRun }),
    remote: (api) => api.put<RetentionApplyResult>(`/v1/retention${dryRun ? "?dry_run=1" : ""}`, { rules }),
  });
}

export function registerRetention(program: Command): void {
  const retention = program.command("retention").description("retention rules: which tags each repository keeps (mcr gc --retention applies them)");

  targetOptions(retention.command("show").description("print the rules (TOML, or --json)").option("--json", "print JSON")).action(
    async (opts: TargetOptions & { json?: boolean }) => {
      const rules = await currentRules(opts);
      process.stdout.write(opts.json ? formatRetentionJson(rules) : formatRetentionToml(rules));
    },
  );

  targetOptions(
    retention
      .command("apply")
      .description("replace the whole rule set with a file's (TOML or JSON)")
      .requiredOption("-f, --file <file>", "rules file, or - for standard input")
      .option("--dry-run", "print the changes without applying them"),
  ).action(async (opts: TargetOptions & { file: string; dryRun?: boolean }) => {
    const text = opts.file === "-" ? await new Response(Bun.stdin.stream()).text() : readRulesFile(opts.file);
    const result = await replaceRules(opts, parseRetentionText(text), opts.dryRun);
    for (const line of changeLines(result)) console.log(line);
    if (opts.dryRun) console.log("dry run: nothing applied");
    else if (result.applied) console.log("retention rules applied");
  });

  targetOptions(retention.command("edit").description("edit the rules in $EDITOR, validate, show the diff and confirm")).action(async (opts: TargetOptions) => {
    const current = await currentRules(opts);
    const rules = await editDocument("retention", formatRetentionToml(current), (text) => parseRetentionText(text, "toml"));
    const change = diffRetention(current, rules);
    if (isNoChange(change)) return console.log("no changes");
    const { confirm } = await import("../views/confirm.tsx");
    if (!(await confirm("Retention changes:", changeLines(change)))) return console.log("not applied");
    await replaceRules(opts, rules);
    console.log("retention rules applied");
  });

  targetOptions(
    retention
      .command("plan")
      .description("explain what retention would remove now, per repository, and which rules decided")
      .option("--repo <glob>", "only repositories matching this glob")
      .option("--all", "also list the tags kept, with the rules keeping them")
      .option("--json", "print the plan as JSON"),
  ).action(async (opts: TargetOptions & { repo?: string; all?: boolean; json?: boolean }) => {
    const query = opts.repo === undefined ? "" : `?${new URLSearchParams({ repo: opts.repo })}`;
    const plan = await onTarget<RetentionPlan>(opts, {
      local: (reg) => planRetention(reg, { repo: opts.repo }),
      remote: (api) => api.get<RetentionPlan>(`/v1/retention/plan${query}`),
    });
    if (opts.json) return printJson(plan);
    for (const line of planLines(plan, opts.all ?? false)) console.log(line);
  });

  targetOptions(
    retention
      .command("run")
      .description("apply the rules now, without the GC sweep (blobs go with the next mcr gc)")
      .option("--repo <glob>", "only repositories matching this glob")
      .option("--dry-run", "report what would be removed; change nothing")
      .option("--json", "print the report as JSON"),
  ).action(async (opts: TargetOptions & { repo?: string; dryRun?: boolean; json?: boolean }) => {
    const report = await onTarget<RetentionRunReport>(opts, {
      local: (reg) => runRetention(reg, { actor: localActor(), dryRun: opts.dryRun, repo: opts.repo }),
      remote: (api) => api.post<RetentionRunReport>("/v1/retention/run", { dry_run: opts.dryRun ?? false, ...(opts.repo ? { repo: opts.repo } : {}) }),
    });
    if (opts.json) return printJson(report);
    const verb = report.dryRun ? "would remove" : "removed";
    console.log(
      `retention ${verb} ${report.tagsRemoved} tag(s) and ${report.manifestsRemoved} manifest(s) in ${report.removed.length} of ${report.repositories} covered repositories` +
        (report.keptOnRecheck > 0 ? `; ${report.keptOnRecheck} left because they changed since the plan` : "") +
        ` in ${(report.durationMs / 1000).toFixed(1)}s`,
    );
    for (const s of report.skipped) console.log(`skipped ${s.repository}: ${s.reason}`);
  });
}

/** The plan for people: per repository, each removal with its reason and rules; kept tags too with `all`. */
export function planLines(plan: RetentionPlan, all: boolean): string[] {
  const t = plan.totals;
  const lines = [
    `retention plan at ${plan.createdAt}: ${t.repositories} repositories covered (${t.skipped} skipped); ` +
      `${t.tagsRemoved} tag(s) and ${t.manifestsRemoved} manifest(s) would go, ${t.tagsKept} tag(s) stay`,
  ];
  for (const repo of plan.repositories) {
    const removedTags = repo.tags.filter((d) => !d.keep);
    const manifests = repo.manifests.flat();
    if (repo.skipped) {
      lines.push(`${repo.repository}: skipped: ${repo.skipped.reason}`);
      continue;
    }
    if (removedTags.length === 0 && manifests.length === 0 && !all) continue;
    lines.push(`${repo.repository} (rules: ${repo.rules.join(", ")}): ${removedTags.length} tag(s) and ${manifests.length} manifest(s) go, ${repo.tags.length - removedTags.length} tag(s) stay`);
    for (const d of repo.tags) {
      if (d.keep && !all) continue;
      lines.push(`  ${d.keep ? "keep  " : "remove"} tag ${d.tag} ${short(d.digest)}: ${d.reason}${d.keep ? "" : ` [${d.rules.join(", ")}]`}`);
    }
    for (const m of manifests) lines.push(`  remove manifest ${short(m.digest)}: ${m.reason} [${m.rules.join(", ")}]`);
  }
  return lines;
}

const short = (digest: string) => digest.slice(0, 19);

function readRulesFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
  }
}
