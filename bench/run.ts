/**
 * @module `bun run bench`: starts mcr (from source, and from dist/mcr when
 * built) and CNCF Distribution side by side, runs the same workloads
 * against each in turn, and prints the table (Markdown) or, with --json,
 * every measurement.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import type { Bench } from "./lib/bench.ts";
import { ensureTools } from "./lib/tools.ts";
import { parseOptions, type WorkloadId } from "./lib/options.ts";
import { memoryBytes } from "./lib/proc.ts";
import { renderTable, Results, shares } from "./lib/report.ts";
import { mcrBinary, startBare, startDistribution, startMcr, type Target } from "./lib/targets.ts";
import { pullWorkload, pushWorkload } from "./workloads/blobs.ts";
import { imagesWorkload } from "./workloads/images.ts";
import { listsWorkload } from "./workloads/lists.ts";
import { requestsWorkload } from "./workloads/requests.ts";

const workloads: Record<WorkloadId, (bench: Bench) => Promise<void>> = {
  push: pushWorkload,
  pull: pullWorkload,
  requests: requestsWorkload,
  images: imagesWorkload,
  lists: listsWorkload,
};

let opts;
try {
  opts = parseOptions(process.argv.slice(2));
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}
const log = (line: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);
ensureTools(log);

const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "mcr-bench-"));
mkdirSync(dir, { recursive: true });
const results = new Results();
const targets: Target[] = [];
const started = new Date();
try {
  const binary = opts.binary ?? mcrBinary();
  for (const id of opts.targets) {
    const where = join(dir, id);
    mkdirSync(where, { recursive: true });
    if (id === "mcr-src") targets.push(await startMcr(id, [process.execPath, join(import.meta.dir, "..", "cli", "main.ts")], where));
    else if (id === "mcr-w2") targets.push(await startMcr(id, [process.execPath, join(import.meta.dir, "..", "cli", "main.ts")], where, 2));
    else if (id === "bun-bare") targets.push(await startBare(where));
    else if (id === "mcr-bin") {
      if (binary) targets.push(await startMcr(id, [binary], where));
      else log("dist/mcr not built (bun run build): the binary is left out");
    } else targets.push(await startDistribution(where));
  }
  log(`data in ${dir}; targets: ${targets.map((t) => t.label).join(", ")}`);
  const bench: Bench = { opts, dir, targets, results, log };
  const hwm: Record<string, number[]> = {};
  for (const id of opts.only) {
    log(`--- ${id}`);
    // Each workload sees the targets that take part in it (the bare server only pushes and answers small requests).
    await workloads[id]({ ...bench, targets: targets.filter((t) => !t.workloads || t.workloads.includes(id)) });
    for (const target of targets) hwm[target.id] = target.pids().map((pid) => memoryBytes(pid, "VmHWM"));
    results.record({ workload: "rss", after: id, vmHwmBytes: { ...hwm } });
  }
  shares(results);
  for (const target of targets) {
    if (target.id === "bun-bare") continue;
    const peak = Math.max(...target.pids().map((pid) => memoryBytes(pid, "VmHWM")));
    results.set("server memory", "peak RSS, VmHWM over the whole run (MiB)", target.id, { value: peak / 2 ** 20 }, {
      ratio: false,
      goal: { text: "< 150 MiB", met: (m) => m.value < 150 },
    });
  }
  results.note("Distribution is two processes on one storage directory, one without auth and one with htpasswd; its memory is the larger of the two.");
} finally {
  for (const target of targets) await target.stop().catch(() => {});
  if (!opts.keep && !opts.dir) rmSync(dir, { recursive: true, force: true });
}

if (opts.json) {
  console.log(JSON.stringify({ started: started.toISOString(), options: opts, rows: results.rows, notes: results.notes, raw: results.raw }, null, 2));
} else {
  console.log(`\nmcr bench, ${started.toISOString()}, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB${opts.quick ? ", --quick sizes" : ""}\n`);
  console.log(renderTable(results));
  console.log("");
  for (const note of results.notes) console.log(`- ${note}`);
}
