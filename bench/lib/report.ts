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

/** Which mcr the ratio column compares: with 2 workers when it ran (the issue's targets are for it), else the binary, else the source. */
export function primaryMcr(rows: readonly Row[]): TargetId {
  if (rows.some((r) => r.cells["mcr-w2"])) return "mcr-w2";
  return rows.some((r) => r.cells["mcr-bin"]) ? "mcr-bin" : "mcr-src";
}

const MCRS = ["mcr-src", "mcr-w2", "mcr-bin"] as const;
const NAMES: Record<TargetId, string> = { "mcr-src": "source", "mcr-w2": "2 workers", "mcr-bin": "binary", distribution: "Dist", "bun-bare": "bare", "mcr-pg": "PostgreSQL" };

/** The table's target columns, in order. */
const COLUMN_NAMES: Record<TargetId, string> = {
  "mcr-src": "mcr (source)",
  "mcr-w2": "mcr (2 workers)",
  "mcr-bin": "mcr (binary)",
  distribution: "Distribution",
  "bun-bare": "bare Bun.serve",
  "mcr-pg": "mcr (source, PostgreSQL)",
};

/**
 * Rows of shares of the runtime's ceiling, from the bare Bun.serve's
 * cells: each mcr's push as a share of the bare server draining the same
 * body (goal ≥ 90%), its small requests as a share of the bare server's
 * constant 200 to HEAD, and pushes with 2 workers against 1.
 */
export function shares(results: Results): void {
  const section = "the runtime's ceiling";
  for (const row of [...results.rows]) {
    const bare = row.cells["bun-bare"];
    if (row.section.startsWith("push ") && bare && row.label.endsWith("(MB/s)") && !row.label.startsWith("dd ")) {
      for (const id of MCRS) {
        const cell = row.cells[id];
        if (cell) results.set(section, `push ${row.label.replace(" (MB/s)", "")}: % of bare Bun.serve draining the body`, id, { value: (100 * cell.value) / bare.value }, { ratio: false, goal: { text: "≥ 90%", met: (m) => m.value >= 90 } });
      }
      const one = row.cells["mcr-src"];
      const two = row.cells["mcr-w2"];
      if (one && two) results.set(section, `push ${row.label.replace(" (MB/s)", "")}: 2 workers against 1 (%)`, "mcr-w2", { value: (100 * two.value) / one.value }, { ratio: false, goal: { text: "≥ 95% (no slower, within noise)", met: (m) => m.value >= 95 } });
    }
    if (row.label.endsWith("(req/s)") && !row.label.includes(":")) {
      const mode = row.label.slice(row.label.indexOf(", ") + 2, row.label.indexOf(" (req/s)"));
      const head = results.rows.find((r) => r.label === `HEAD blob, ${mode} (req/s)`)?.cells["bun-bare"];
      if (!head) continue;
      for (const id of MCRS) {
        const cell = row.cells[id];
        if (cell) results.set(section, `${row.label.replace(" (req/s)", "")}: % of bare Bun.serve's constant 200 to HEAD`, id, { value: (100 * cell.value) / head.value }, { ratio: false });
      }
    }
  }
}

/** The table as Markdown. */
export function renderTable(results: Results): string {
  const mcr = primaryMcr(results.rows);
  // Only the targets that ran get a column.
  const columns = (Object.keys(COLUMN_NAMES) as TargetId[]).filter((id) => results.rows.some((r) => r.cells[id]));
  const header = ["workload", ...columns.map((id) => COLUMN_NAMES[id]), `${NAMES[mcr]}/Dist`, "target", "met"];
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
      `| ${[name, ...columns.map(show), row.ratio && Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : "", row.goal?.text ?? "", met].join(" | ")} |`,
    );
  }
  return lines.join("\n");
}
