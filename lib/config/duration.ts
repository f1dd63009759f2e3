/**
 * @module Durations as operators write them: `90s`, `15m`, `1h`, `90d`, `2w`.
 */

const UNITS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** Milliseconds in `text`; throws a readable error for anything else. */
export function parseDuration(text: string): number {
  const match = /^(\d{1,9})(s|m|h|d|w)$/.exec(text.trim());
  if (!match) throw new Error(`invalid duration "${text}": use a number and a unit, e.g. 30m, 12h, 90d`);
  const value = Number(match[1]) * UNITS[match[2] as keyof typeof UNITS];
  if (value <= 0) throw new Error(`invalid duration "${text}": must be positive`);
  return value;
}
