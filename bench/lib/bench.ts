/**
 * @module What every workload gets: the options, a scratch directory, the
 * running registries (in an order that alternates between rounds), the
 * results, and a progress log on stderr.
 */
import type { Options } from "./options.ts";
import type { Results } from "./report.ts";
import type { Mode, Target } from "./targets.ts";

/** The shared state of one bench run. */
export interface Bench {
  opts: Options;
  dir: string;
  targets: Target[];
  results: Results;
  log(line: string): void;
}

/** The targets for round `round`: reversed every other round, so no registry always goes first. */
export function inTurn(bench: Bench, round: number): Target[] {
  return round % 2 === 0 ? bench.targets : [...bench.targets].reverse();
}

/** The modes to run, each with its round number. */
export function rounds(bench: Bench): { mode: Mode; round: number }[] {
  return bench.opts.modes.map((mode, round) => ({ mode, round }));
}

export const modeLabel = (mode: Mode) => (mode === "auth" ? "auth on" : "auth off");

export const MB = 1e6;
export const MiB = 1024 * 1024;

/**
 * Flushes every dirty page to disk (`sync`) before a timed run that
 * writes, so no run pays for the writeback of the one before it (a server
 * that does not fsync leaves its data for the next one to wait behind).
 */
export function settleDisk(): void {
  Bun.spawnSync(["sync"]);
}

/** Median of some numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
