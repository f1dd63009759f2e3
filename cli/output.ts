/**
 * @module Rendering for commands: aligned text tables, JSON, dates, byte
 * counts, and the usage error that maps to exit code 2.
 */

/** A mistake in how a command was called: exit code 2. */
export class UsageError extends Error {}

/**
 * Code points a terminal acts on rather than shows: C0 controls (ESC, CR,
 * BS, tab, newline), DEL, C1 controls (U+0080-009F, CSI among them), the line
 * and paragraph separators, and the bidi marks, embeddings, overrides and
 * isolates that reorder what follows them.
 */
const TERMINAL_ACTIVE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/**
 * A string a client sent, made safe to print: every terminal-active code
 * point is shown as a visible escape (`\x1b`, `\u{202e}`), so a user name or
 * artifact type cannot move the cursor, erase rows or reorder text. JSON
 * output keeps exact values; this is for text meant for people.
 */
export function safe(text: string): string {
  return text.replace(TERMINAL_ACTIVE, (c) => {
    const code = c.codePointAt(0)!;
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u{${code.toString(16)}}`;
  });
}

/** Like `safe`, keeping line breaks: for multi-line messages (errors) whose lines are each escaped. */
export function safeLines(text: string): string {
  return text.split("\n").map(safe).join("\n");
}

/** Prints rows as aligned columns under a header; every cell is escaped (`safe`). */
export function printTable(header: string[], unsafeRows: string[][]): void {
  const rows = unsafeRows.map((row) => row.map(safe));
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
