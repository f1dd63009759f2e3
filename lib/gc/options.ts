/**
 * @module What a GC run is asked to do: dry run or not, the grace period,
 * whether untagged manifests go too, and whether retention runs first. Shared by `mcr gc` and /v1/gc.
 */
import { fail } from "../errors.ts";
import { parseDuration } from "../config/duration.ts";

/** Default grace period: anything used within the last hour is kept. */
export const DEFAULT_GRACE_MS = 60 * 60 * 1000;
/** The longest grace period accepted (a year). */
const MAX_GRACE_MS = 365 * 24 * 60 * 60 * 1000;

/** The options of one run. */
export interface GcOptions {
  /** Report what would be removed; change nothing. */
  dryRun: boolean;
  /** Anything pushed, mounted or read within this many milliseconds is kept. 0: only references protect. */
  graceMs: number;
  /** Also remove manifests that no tag, index or kept referrer reaches. */
  untagged: boolean;
  /** First apply the retention rules (`mcr gc --retention`), then sweep. */
  retention: boolean;
}

/** Options with defaults filled in; throws INVALID_ARGUMENT for a bad grace period. */
export function gcOptions(input: Partial<GcOptions> = {}): GcOptions {
  const graceMs = input.graceMs ?? DEFAULT_GRACE_MS;
  if (!Number.isSafeInteger(graceMs) || graceMs < 0 || graceMs > MAX_GRACE_MS) {
    fail("INVALID_ARGUMENT", "the grace period must be between 0 and 365 days");
  }
  return { dryRun: input.dryRun ?? false, graceMs, untagged: input.untagged ?? false, retention: input.retention ?? false };
}

/** A grace period as operators write it: `0s`, `90s`, `30m`, `1h`, `7d`; throws INVALID_ARGUMENT. */
export function parseGrace(text: string): number {
  if (/^\s*0+(s|m|h|d|w)?\s*$/.test(text)) return 0;
  try {
    return gcOptions({ graceMs: parseDuration(text) }).graceMs;
  } catch (error) {
    fail("INVALID_ARGUMENT", (error as Error).message.replace("must be positive", "must not be negative"));
  }
}

/** A duration for people: `0s`, `90s`, `30m`, `1h`, `1h30m`, `7d`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, size] of [["d", 86_400], ["h", 3_600], ["m", 60], ["s", 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join("") || `${ms}ms`;
}
