/**
 * @module `mcr policy show|apply|edit|test`: the access policy as a file
 * for scripts, an editor round-trip for people, and an explanation of any
 * decision, on the local data directory or a remote registry (`--server`).
 */
import type { Command } from "commander";
import { readFileSync } from "node:fs";
import { diffRules, isEmptyDiff } from "../../lib/policy/diff.ts";
import type { Decision } from "../../lib/policy/evaluate.ts";
import { explainDecision } from "../../lib/policy/explain.ts";
import { formatPolicyJson, formatPolicyToml, parsePolicyText } from "../../lib/policy/policy-file.ts";
import type { Rule } from "../../lib/policy/rule.ts";
import { applyPolicy, type ApplyResult } from "../../lib/policy/store.ts";
import { editDocument } from "../edit-document.ts";
import { localActor } from "../local.ts";
import { printJson, safe, UsageError } from "../output.ts";
import { formatDiff } from "../policy-diff.ts";
import { onTarget, targetOptions, type TargetOptions } from "../target.ts";

/** The rules where the options point. */
function currentRules(opts: TargetOptions): Promise<readonly Rule[]> {
  return onTarget(opts, {
    local: (reg) => reg.policy.rules(),
    remote: async (api) => (await api.get<{ rules: Rule[] }>("/v1/policy")).rules,
  });
}

/** Replaces the rules where the options point (or, with dryRun, says what would change). */
function replaceRules(opts: TargetOptions, rules: readonly Rule[], dryRun = false): Promise<ApplyResult> {
  return onTarget(opts, {
    local: (reg) => applyPolicy(reg, rules, localActor(), { dryRun }),
    remote: (api) => api.put<ApplyResult>(`/v1/policy${dryRun ? "?dry_run=1" : ""}`, { rules }),
  });
}

export function registerPolicy(program: Command): void {
  const policy = program.command("policy").description("show, change and explain the access policy");

  targetOptions(policy.command("show").description("print the rules (TOML, or --json)").option("--json", "print JSON")).action(
    async (opts: TargetOptions & { json?: boolean }) => {
      const rules = await currentRules(opts);
      process.stdout.write(opts.json ? formatPolicyJson(rules) : formatPolicyToml(rules));
    },
  );

  targetOptions(
    policy
      .command("apply")
      .description("replace the whole rule set with a file's (TOML or JSON)")
      .requiredOption("-f, --file <file>", "policy file, or - for standard input")
      .option("--dry-run", "print the changes without applying them"),
  ).action(async (opts: TargetOptions & { file: string; dryRun?: boolean }) => {
    const text = opts.file === "-" ? await new Response(Bun.stdin.stream()).text() : readPolicyFile(opts.file);
    const result = await replaceRules(opts, parsePolicyText(text), opts.dryRun);
    for (const line of formatDiff(result.diff)) console.log(line);
    if (opts.dryRun) console.log("dry run: nothing applied");
    else if (result.applied) console.log("policy applied");
  });

  targetOptions(policy.command("edit").description("edit the rules in $EDITOR, validate, show the diff and confirm")).action(
    async (opts: TargetOptions) => {
      const current = await currentRules(opts);
      const rules = await editRules(current);
      const diff = diffRules(current, rules);
      if (isEmptyDiff(diff)) return console.log("no changes");
      const { confirm } = await import("../views/confirm.tsx");
      if (!(await confirm("Policy changes:", formatDiff(diff)))) return console.log("not applied");
      await replaceRules(opts, rules);
      console.log("policy applied");
    },
  );

  targetOptions(
    policy
      .command("test")
      .description("explain whether an account may do an action on a repository")
      .requiredOption("--user <name>", 'account name, or "anonymous"')
      .requiredOption("--action <action>", "pull, push, delete, catalog or overwrite")
      .requiredOption("--repo <name>", "repository name")
      .option("--json", "print JSON"),
  ).action(async (opts: TargetOptions & { user: string; action: string; repo: string; json?: boolean }) => {
    const query = new URLSearchParams({ user: opts.user, action: opts.action, repo: opts.repo });
    const decision = await onTarget<Decision>(opts, {
      local: (reg) => explainDecision(reg, opts.user, opts.action, opts.repo),
      remote: (api) => api.get<Decision>(`/v1/policy/test?${query}`),
    });
    if (opts.json) return printJson(decision);
    // The explanation names rules, their descriptions and (remotely) whatever the server says: all escaped.
    console.log(safe(`${decision.allowed ? "ALLOW" : "DENY"}: ${opts.user} ${opts.action} ${opts.repo}`));
    console.log(`  ${safe(decision.reason)}`);
    for (const rule of decision.matched) {
      const decided = decision.decidedBy.some((d) => d.id === rule.id) ? "*" : " ";
      console.log(safe(` ${decided} ${rule.effect.padEnd(5)} ${rule.id}${rule.description ? ` — ${rule.description}` : ""}`));
    }
  });
}

/** The $EDITOR round trip for the policy (cli/edit-document.ts). */
function editRules(current: readonly Rule[]): Promise<Rule[]> {
  return editDocument("policy", formatPolicyToml(current), (text) => parsePolicyText(text, "toml"));
}

function readPolicyFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
  }
}
