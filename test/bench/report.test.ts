/**
 * @module The bench table: one row per figure, the ratio against
 * Distribution from the binary when it ran, and each target's verdict.
 */
import { describe, expect, test } from "bun:test";
import { renderTable, Results } from "../../bench/lib/report.ts";

describe("renderTable", () => {
  test("rows in order, ratios from the binary when present, verdicts from the goals", () => {
    const r = new Results();
    const goal = { text: "≥ 2× Dist", met: (_m: unknown, ratio: number) => ratio >= 2 };
    r.set("push", "mono (MB/s)", "mcr-src", { value: 300 }, { goal });
    r.set("push", "mono (MB/s)", "mcr-bin", { value: 250 }, { goal });
    r.set("push", "mono (MB/s)", "distribution", { value: 100 }, { goal });
    r.set("push", "chunks (MB/s)", "mcr-bin", { value: 150 }, { goal });
    r.set("push", "chunks (MB/s)", "distribution", { value: 100 }, { goal });
    r.set("memory", "peak (MiB)", "mcr-bin", { value: 112.4, text: "112 MiB" }, { ratio: false });
    const lines = renderTable(r).split("\n");
    expect(lines[0]).toContain("binary/Dist");
    expect(lines[2]).toBe("| **push** mono (MB/s) | 300 | 250 | 100 | 2.50× | ≥ 2× Dist | yes |");
    expect(lines[3]).toBe("| chunks (MB/s) |  | 150 | 100 | 1.50× | ≥ 2× Dist | **no** |");
    expect(lines[4]).toBe("| **memory** peak (MiB) |  | 112 MiB |  |  |  |  |");
  });

  test("without the binary, the source is compared", () => {
    const r = new Results();
    r.set("lists", "catalog (ms)", "mcr-src", { value: 5 });
    r.set("lists", "catalog (ms)", "distribution", { value: 100 });
    const table = renderTable(r);
    expect(table).toContain("source/Dist");
    expect(table).toContain("| 0.05× |");
  });
});
