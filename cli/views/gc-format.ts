/**
 * @module Words and numbers for `mcr gc`'s output, shared by the terminal
 * view and the plain lines: byte sizes, durations, the one-line summary and
 * the warnings about missing files.
 */
import { formatDuration } from "../../lib/gc/options.ts";
import type { GcPhase, GcReport } from "../../lib/gc/report.ts";

/** What each phase looks at, for people. */
export const phaseLabels: Record<GcPhase, string> = {
  retention: "retention rules",
  recover: "unfinished removals",
  uploads: "upload sessions",
  manifests: "untagged manifests",
  blobs: "blobs",
  memberships: "repository links",
  orphans: "files without a row",
  verify: "rows without a file",
};

/** `1.5 MiB`, `512 B`. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** `0.4s`, `2m13s`. */
export function formatElapsed(ms: number): string {
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : formatDuration(ms);
}

/** The options line: `grace 1h, untagged, retention, dry run`. */
export function optionsLine(options: { graceMs: number; untagged: boolean; retention?: boolean; dryRun: boolean }): string {
  return [`grace ${formatDuration(options.graceMs)}`, options.untagged && "untagged", options.retention && "retention", options.dryRun && "dry run"].filter(Boolean).join(", ");
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** One sentence saying what the run removed (or would) and freed. */
export function summaryLine(report: GcReport): string {
  const verb = report.dryRun ? "would remove" : "removed";
  const what = [
    count(report.blobsRemoved, "blob"),
    count(report.manifestsRemoved, "manifest"),
    count(report.membershipsRemoved, "repository link"),
    count(report.orphansRemoved, "orphan file"),
    count(report.uploadsRemoved, "stale upload"),
  ].join(", ");
  const freed = `${report.dryRun ? "would free" : "freed"} ${formatBytes(report.bytesFreed)}`;
  const retention = report.retentionRun
    ? `; retention ${verb} ${count(report.retentionRun.tagsRemoved, "tag")} and ${count(report.retentionRun.manifestsRemoved, "manifest")}` +
      (report.retentionRun.skipped.length > 0 ? `, skipped ${count(report.retentionRun.skipped.length, "repository", "repositories")}` : "")
    : "";
  return `gc run ${report.runId} ${verb} ${what}; ${freed} in ${formatElapsed(report.durationMs)}${retention}`;
}

/** One warning per blob whose file is missing; empty when the store is whole. */
export function missingLines(report: GcReport): string[] {
  return report.missing.map((m) => {
    const where = m.repositories.length > 0 ? ` in ${m.repositories.join(", ")}` : "";
    const fate = m.removed
      ? "unused, so its row was removed as garbage"
      : `${m.referenced ? "used by manifests" : "recently used"}, so its row is kept: push it again or restore the file from a backup`;
    return `warning: blob ${m.digest} (${formatBytes(m.size)})${where} has no file: ${fate}`;
  });
}
