/**
 * @module `mcr gc`: garbage collection on the local data directory, safe
 * while `mcr serve` runs on it. A live view on a terminal, plain lines
 * otherwise (cron mail), or the report as JSON. Exit 1 when another run
 * holds the lock or when blob files are missing.
 */
import type { Command } from "commander";
import { gcOptions, parseGrace } from "../../lib/gc/options.ts";
import type { GcProgress } from "../../lib/gc/report.ts";
import { runGc } from "../../lib/gc/run.ts";
import { dataOption, localActor, withRegistry } from "../local.ts";
import { printJson, UsageError } from "../output.ts";
import { missingLines, optionsLine, summaryLine } from "../views/gc-format.ts";
import { gcLines } from "../views/gc-lines.ts";

interface GcFlags {
  dryRun?: boolean;
  grace?: string;
  untagged?: boolean;
  json?: boolean;
  data?: string;
}

/** Where progress goes: nowhere (--json), the ink view (a terminal), or lines. */
async function progressSink(flags: GcFlags, header: string): Promise<{ progress(p: GcProgress): void; end(finished: boolean): void }> {
  if (flags.json) return { progress() {}, end() {} };
  if (process.stdout.isTTY) {
    const { gcTerminalView } = await import("../views/gc-progress.tsx");
    return gcTerminalView(header, flags.untagged ? [] : ["manifests"]);
  }
  console.log(`gc: ${header}`);
  const lines = gcLines((line) => console.log(line));
  return { progress: lines.progress, end: () => lines.end() };
}

export function registerGc(program: Command): void {
  program
    .command("gc")
    .description("remove blobs, links and uploads nothing uses (safe while mcr serve runs)")
    .option("--dry-run", "report what would be removed; change nothing")
    .option("--grace <duration>", "keep anything pushed or used this recently, e.g. 30m, 1h, 0s (default 1h)")
    .option("--untagged", "also remove manifests no tag, index or kept referrer reaches, with their referrers")
    .option("--json", "print the report as JSON")
    .option(...dataOption)
    .action(async (flags: GcFlags) => {
      let graceMs: number | undefined;
      try {
        if (flags.grace !== undefined) graceMs = parseGrace(flags.grace);
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
      const options = gcOptions({ dryRun: flags.dryRun, untagged: flags.untagged, graceMs });
      const sink = await progressSink(flags, optionsLine(options));
      let report;
      try {
        report = await withRegistry(flags.data, (reg) => runGc(reg, { ...options, actor: localActor(), onProgress: (p) => sink.progress(p) }));
      } catch (error) {
        sink.end(false);
        throw error;
      }
      sink.end(true);
      if (flags.json) printJson(report);
      else console.log(summaryLine(report));
      const warnings = missingLines(report);
      for (const line of warnings) console.error(line);
      if (warnings.length > 0) {
        console.error(`mcr gc: ${warnings.length} blob file(s) missing: the store is damaged`);
        process.exitCode = 1;
      }
    });
}
