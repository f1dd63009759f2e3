/**
 * @module The results of a run and the side-by-side table: one row per
 * figure, a column per registry, the ratio mcr/Distribution, and the
 * issue's target for that figure with whether this run met it.
 */
import type { TargetId } from "./targets.ts";

/** One registry's figure in a row. */
export interface Cell {
  value: number;
  /** Shown instead of the bare value (e.g. with latency and CPU beside it). */
  text?: string;
}

/** A target on a row: its wording and how to check it against this run. */
export interface Goal {
  text: string;
  /** `mcr` is the cell of the mcr build the ratio uses; `ratio` is mcr/Distribution (NaN when either is missing). */
  met(mcr: Cell, ratio: number): boolean;
}

/** One line of the table. */
export interface Row {
  section: string;
  label: string;
  cells: Partial<Record<TargetId, Cell>>;
  /** Whether mcr/Distribution is meaningful for this row. */
  ratio: boolean;
  goal?: Goal;
}

/** Everything a run measured. */
export class Results {
  readonly rows: Row[] = [];
  readonly notes: string[] = [];
  readonly raw: Record<string, unknown>[] = [];

  /** Adds (or extends) the row `section`/`label` with one registry's cell. */
  set(section: string, label: string, target: TargetId, cell: Cell, options: { ratio?: boolean; goal?: Goal } = {}): void {
    let row = this.rows.find((r) => r.section === section && r.label === label);
    if (!row) {
      row = { section, label, cells: {}, ratio: options.ratio ?? true, goal: options.goal };
      this.rows.push(row);
    }
    row.cells[target] = cell;
  }

  /** Keeps a measurement as measured, for --json. */
  record(entry: Record<string, unknown>): void {
    this.raw.push(entry);
  }

  note(text: string): void {
    if (!this.notes.includes(text)) this.notes.push(text);
  }
}

const fmt = (value: number) =>
  !Number.isFinite(value) ? "–" : Math.abs(value) >= 100 ? Math.round(value).toLocaleString("en-US") : value.toPrecision(3);

/** Which mcr build the ratio column compares: the binary when it ran, else the source. */
export function primaryMcr(rows: readonly Row[]): TargetId {
  return rows.some((r) => r.cells["mcr-bin"]) ? "mcr-bin" : "mcr-src";
}

/** The table as Markdown. */
export function renderTable(results: Results): string {
  const mcr = primaryMcr(results.rows);
  const pg = results.rows.some((r) => r.cells["mcr-pg"]);
  const header = ["workload", "mcr (source)", "mcr (binary)", "Distribution", ...(pg ? ["mcr (source, PostgreSQL)"] : []), `${mcr === "mcr-bin" ? "binary" : "source"}/Dist`, "target", "met"];
  const lines = [`| ${header.join(" | ")} |`, `| ${header.map(() => "---").join(" | ")} |`];
  let section = "";
  for (const row of results.rows) {
    const show = (id: TargetId) => {
      const cell = row.cells[id];
      return cell ? (cell.text ?? fmt(cell.value)) : "";
    };
    const m = row.cells[mcr];
    const d = row.cells.distribution;
    const ratio = m && d && d.value !== 0 ? m.value / d.value : Number.NaN;
    const met = row.goal && m ? (row.goal.met(m, ratio) ? "yes" : "**no**") : "";
    const name = row.section === section ? row.label : `**${row.section}** ${row.label}`;
    section = row.section;
    lines.push(
      `| ${[name, show("mcr-src"), show("mcr-bin"), show("distribution"), ...(pg ? [show("mcr-pg")] : []), row.ratio && Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : "", row.goal?.text ?? "", met].join(" | ")} |`,
    );
  }
  return lines.join("\n");
}
