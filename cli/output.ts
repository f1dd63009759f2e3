/**
 * @module Rendering for commands: aligned text tables, JSON, dates, byte
 * counts, and the usage error that maps to exit code 2.
 */

/** A mistake in how a command was called: exit code 2. */
export class UsageError extends Error {}

/** Prints rows as aligned columns under a header. */
export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  console.log(line(header));
  for (const row of rows) console.log(line(row));
}

/** Prints a value as indented JSON. */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

/** A timestamp for tables: ISO, to the minute, or "-" / `none`. */
export function when(ms: number | null, none = "-"): string {
  return ms === null ? none : new Date(ms).toISOString().slice(0, 16).replace("T", " ");
}

/** A byte count for people: `512 B`, `1.5 KiB`, `12.3 MiB`, `2.0 GiB`. */
export function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}
