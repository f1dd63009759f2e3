/**
 * @module `mcr gc`'s progress as plain lines, for logs and cron mail: one
 * line per phase when it ends, and one every 10 s within a long phase.
 */
import type { GcPhase, GcProgress } from "../../lib/gc/report.ts";
import { formatBytes, phaseLabels } from "./gc-format.ts";

const INTERIM_MS = 10_000;

/** A progress sink that prints lines with `print`. */
export function gcLines(print: (line: string) => void): { progress(p: GcProgress): void; end(): void } {
  let current: GcProgress | null = null;
  let lastLine = Date.now();
  const line = (p: GcProgress, suffix = "") => {
    print(`gc: ${phaseLabels[p.phase as GcPhase]}: ${p.checked} checked, ${p.removed} removed${suffix}`);
    lastLine = Date.now();
  };
  return {
    progress(p) {
      if (current && current.phase !== p.phase) line(current);
      else if (current && Date.now() - lastLine > INTERIM_MS) line(p, ` so far, ${formatBytes(p.bytesFreed)} freed`);
      current = p;
    },
    end() {
      if (current) line(current);
      current = null;
    },
  };
}
