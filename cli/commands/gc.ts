/**
 * @module `mcr gc`: garbage collection on the local data directory, safe
 * while `mcr serve` runs on it. A live view on a terminal, plain lines
 * otherwise (cron mail), or the report as JSON. Exit 1 when another run
 * holds the lock or when blob files are missing.
 */
import type { Command } from "commander";
import { gcOptions, parseGrace } from "../../lib/gc/options.ts";
import type { GcProgress } from "../../lib/gc/report.ts";
import { runGc, skippedPhases } from "../../lib/gc/run.ts";
import { loadConfig } from "../../lib/config/load.ts";
import type { GcReport } from "../../lib/gc/report.ts";
import { localActor, withRegistry } from "../local.ts";
import type { AdminClient } from "../remote/admin-client.ts";
import { resolveTarget, targetOptions, type TargetOptions } from "../target.ts";
import { printJson, safe, UsageError } from "../output.ts";
import { missingLines, optionsLine, summaryLine } from "../views/gc-format.ts";
import { gcLines } from "../views/gc-lines.ts";

interface GcFlags extends TargetOptions {
  dryRun?: boolean;
  grace?: string;
  untagged?: boolean;
  retention?: boolean;
  json?: boolean;
}

/** A run as /v1/gc/<id> shows it. */
interface RemoteRun {
  status: "running" | "succeeded" | "failed";
  progress: GcProgress | null;
  report: GcReport | null;
  error: string | null;
}

/** Starts a run on the server and follows it until it ends, passing on its progress. */
async function runRemote(api: AdminClient, flags: GcFlags, onProgress: (p: GcProgress) => void): Promise<GcReport> {
  const body = { ...(flags.dryRun ? { dry_run: true } : {}), ...(flags.untagged ? { untagged: true } : {}), ...(flags.retention ? { retention: true } : {}), ...(flags.grace ? { grace: flags.grace } : {}) };
  const { id } = await api.post<{ id: number }>("/v1/gc", body);
  for (;;) {
    const run = await api.get<RemoteRun>(`/v1/gc/${id}`);
    if (run.progress) onProgress(run.progress);
    if (run.status !== "running") {
      if (run.status === "failed" || !run.report) throw new Error(`gc run ${id} failed: ${run.error ?? "no report"}`);
      return run.report;
    }
    await Bun.sleep(1000);
  }
}

/** Where progress goes: nowhere (--json), the ink view (a terminal), or lines. */
async function progressSink(flags: GcFlags, header: string): Promise<{ progress(p: GcProgress): void; end(finished: boolean): void }> {
  if (flags.json) return { progress() {}, end() {} };
  if (process.stdout.isTTY) {
    const { gcTerminalView } = await import("../views/gc-progress.tsx");
    return gcTerminalView(header, skippedPhases({ untagged: flags.untagged ?? false, retention: flags.retention ?? false }));
  }
  console.log(`gc: ${header}`);
  const lines = gcLines((line) => console.log(line));
  return { progress: lines.progress, end: () => lines.end() };
}

export function registerGc(program: Command): void {
  targetOptions(program
    .command("gc")
    .description("remove blobs, links and uploads nothing uses (safe while mcr serve runs)")
    .option("--dry-run", "report what would be removed; change nothing")
    .option("--grace <duration>", "keep anything pushed or used this recently, e.g. 30m, 1h, 0s (default: gc.grace, 1h; with --server, the server's)")
    .option("--untagged", "also remove manifests no tag, index or kept referrer reaches, with their referrers")
    .option("--retention", "first apply the retention rules (mcr retention show), then sweep")
    .option("--json", "print the report as JSON"))
    .action(async (flags: GcFlags) => {
      let graceMs: number | undefined;
      try {
        if (flags.grace !== undefined) graceMs = parseGrace(flags.grace);
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
      const target = resolveTarget(flags);
      // Locally the configuration's gc.grace applies when --grace is absent; a server applies its own gc.grace.
      if (graceMs === undefined && target.kind === "local") graceMs = loadConfig({ file: target.opts.config ?? null, flags: {} }).config.gc.grace;
      const options = gcOptions({ dryRun: flags.dryRun, untagged: flags.untagged, retention: flags.retention, graceMs });
      const sink = await progressSink(flags, optionsLine(options));
      let report: GcReport;
      try {
        report =
          target.kind === "remote"
            ? await runRemote(target.api, flags, (p) => sink.progress(p))
            : await withRegistry(target.opts, (reg) => runGc(reg, { ...options, actor: localActor(), onProgress: (p) => sink.progress(p) }));
      } catch (error) {
        sink.end(false);
        throw error;
      }
      sink.end(true);
      if (flags.json) printJson(report);
      else {
        console.log(summaryLine(report));
        for (const s of report.retentionRun?.skipped ?? []) console.log(`retention skipped ${s.repository}: ${s.reason}`);
      }
      const warnings = missingLines(report);
      for (const line of warnings) console.error(safe(line));
      if (warnings.length > 0) {
        console.error(`mcr gc: ${warnings.length} blob file(s) missing: the store is damaged`);
        process.exitCode = 1;
      }
    });
}
