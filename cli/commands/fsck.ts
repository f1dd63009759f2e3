/**
 * @module `mcr fsck [--repair]`: re-hashes every blob and checks that rows
 * and files agree (on S3: the bucket's objects, read back and hashed);
 * `--sample N` hashes only N blobs chosen at random. Exit 1 when anything
 * is corrupt.
 */
import type { Command } from "commander";
import { fsck } from "../../lib/maintenance/fsck.ts";
import { configOption } from "../config-options.ts";
import { dataOption, withRegistry, type LocalOptions } from "../local.ts";
import { bytes, printJson, safe } from "../output.ts";

export function registerFsck(program: Command): void {
  program
    .command("fsck")
    .description("verify every blob against its digest and the database against the files; exit 1 on corruption")
    .option("--repair", "fix what is safe: delete corrupt blob files (never served again, pushed again by clients), close upload sessions without bytes")
    .option("--sample <n>", "hash only N recorded blobs chosen at random; check the rest for presence and size from one listing (large S3 buckets)")
    .option("--json", "print JSON")
    .option(...dataOption)
    .option(...configOption)
    .action(async (opts: LocalOptions & { repair?: boolean; json?: boolean; sample?: string }) => {
      const sample = opts.sample === undefined ? undefined : Number(opts.sample);
      if (sample !== undefined && (!Number.isInteger(sample) || sample < 0)) throw new Error("--sample must be a whole number");
      const report = await withRegistry(opts, (reg) => fsck(reg, { repair: opts.repair, sample }));
      if (opts.json) printJson(report);
      else {
        for (const p of report.problems) console.log(safe(`${p.kind.padEnd(18)} ${p.subject}: ${p.message}${p.repaired ? ` [repaired: ${p.repaired}]` : ""}`));
        for (const n of report.notes) console.log(safe(`${`note: ${n.kind}`.padEnd(18)} ${n.subject}: ${n.message}${n.repaired ? ` [repaired: ${n.repaired}]` : ""}`));
        const verdict = report.problems.length === 0 ? "no corruption" : `${report.problems.length} problem(s)`;
        const hashed = sample === undefined ? "" : `; ${report.blobs.hashed} hashed, the rest found with their size`;
        console.log(`checked ${report.blobs.checked} blobs (${bytes(report.blobs.bytes)}${hashed}) and ${report.manifests.checked} manifests: ${verdict}`);
      }
      if (report.problems.length > 0) process.exitCode = 1;
    });
}
