/**
 * @module `mcr policy show|apply|edit|test`: the access policy as a file
 * for scripts, an editor round-trip for people, and an explanation of any
 * decision.
 */
import type { Command } from "commander";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RegistryError } from "../../lib/errors.ts";
import { explainDecision } from "../../lib/policy/explain.ts";
import { formatPolicyJson, formatPolicyToml, parsePolicyText } from "../../lib/policy/policy-file.ts";
import { diffRules, isEmptyDiff } from "../../lib/policy/diff.ts";
import { applyPolicy } from "../../lib/policy/store.ts";
import { dataOption, localActor, withRegistry } from "../local.ts";
import { printJson, UsageError } from "../output.ts";
import { formatDiff } from "../policy-diff.ts";

export function registerPolicy(program: Command): void {
  const policy = program.command("policy").description("show, change and explain the access policy");

  policy
    .command("show")
    .description("print the rules (TOML, or --json)")
    .option("--json", "print JSON")
    .option(...dataOption)
    .action(async (opts: { json?: boolean; data?: string }) => {
      const rules = await withRegistry(opts.data, (reg) => reg.policy.rules());
      process.stdout.write(opts.json ? formatPolicyJson(rules) : formatPolicyToml(rules));
    });

  policy
    .command("apply")
    .description("replace the whole rule set with a file's (TOML or JSON)")
    .requiredOption("-f, --file <file>", "policy file, or - for standard input")
    .option("--dry-run", "print the changes without applying them")
    .option(...dataOption)
    .action(async (opts: { file: string; dryRun?: boolean; data?: string }) => {
      const text = opts.file === "-" ? await new Response(Bun.stdin.stream()).text() : readPolicyFile(opts.file);
      const rules = parsePolicyText(text);
      const result = await withRegistry(opts.data, (reg) => applyPolicy(reg, rules, localActor(), { dryRun: opts.dryRun }));
      for (const line of formatDiff(result.diff)) console.log(line);
      if (opts.dryRun) console.log("dry run: nothing applied");
      else if (result.applied) console.log("policy applied");
    });

  policy
    .command("edit")
    .description("edit the rules in $EDITOR, validate, show the diff and confirm")
    .option(...dataOption)
    .action(async (opts: { data?: string }) => {
      await withRegistry(opts.data, async (reg) => {
        const current = await reg.policy.rules();
        const file = join(tmpdir(), `mcr-policy-${process.pid}.toml`);
        let text = formatPolicyToml(current);
        let lastInvalid: string | null = null;
        try {
          for (;;) {
            writeFileSync(file, text, { mode: 0o600 });
            const editor = process.env.VISUAL || process.env.EDITOR || "vi";
            const proc = Bun.spawnSync(["sh", "-c", `${editor} "$1"`, "editor", file], { stdio: ["inherit", "inherit", "inherit"] });
            if (proc.exitCode !== 0) throw new Error(`${editor} exited with ${proc.exitCode}; nothing changed`);
            const edited = readFileSync(file, "utf8");
            let rules;
            try {
              rules = parsePolicyText(stripErrorHeader(edited), "toml");
            } catch (error) {
              if (!(error instanceof RegistryError)) throw error;
              // Saved again without a change: give up rather than loop.
              if (stripErrorHeader(edited) === lastInvalid) throw new Error(`policy not changed:\n${error.message}`);
              lastInvalid = stripErrorHeader(edited);
              // Re-open with the problems at the top, like visudo.
              text = `${error.message.split("\n").map((l) => `# ERROR: ${l}`).join("\n")}\n${lastInvalid}`;
              continue;
            }
            const diff = diffRules(current, rules);
            if (isEmptyDiff(diff)) return console.log("no changes");
            const { confirm } = await import("../views/confirm.tsx");
            if (!(await confirm("Policy changes:", formatDiff(diff)))) return console.log("not applied");
            await applyPolicy(reg, rules, localActor());
            return console.log("policy applied");
          }
        } finally {
          rmSync(file, { force: true });
        }
      });
    });

  policy
    .command("test")
    .description("explain whether an account may do an action on a repository")
    .requiredOption("--user <name>", 'account name, or "anonymous"')
    .requiredOption("--action <action>", "pull, push, delete, catalog or overwrite")
    .requiredOption("--repo <name>", "repository name")
    .option("--json", "print JSON")
    .option(...dataOption)
    .action(async (opts: { user: string; action: string; repo: string; json?: boolean; data?: string }) => {
      const decision = await withRegistry(opts.data, (reg) => explainDecision(reg, opts.user, opts.action, opts.repo));
      if (opts.json) return printJson(decision);
      console.log(`${decision.allowed ? "ALLOW" : "DENY"}: ${opts.user} ${opts.action} ${opts.repo}`);
      console.log(`  ${decision.reason}`);
      for (const rule of decision.matched) {
        const decided = decision.decidedBy.some((d) => d.id === rule.id) ? "*" : " ";
        console.log(` ${decided} ${rule.effect.padEnd(5)} ${rule.id}${rule.description ? ` — ${rule.description}` : ""}`);
      }
    });
}

function readPolicyFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
  }
}

function stripErrorHeader(text: string): string {
  return text.replace(/^(# ERROR: .*\n)+/, "");
}

