/**
 * @module Splits long lists so no statement passes SQLite's bound-parameter limit.
 */

/** Rows per statement; with a few columns each this stays far below 32,766 parameters. */
export const BATCH = 500;

/** `items` in consecutive slices of at most `size`. */
export function* batches<T>(items: readonly T[], size = BATCH): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
