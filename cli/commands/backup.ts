/**
 * @module `mcr backup DIR` (safe while the server runs) and `mcr restore
 * DIR` (into a new or empty data directory, server stopped).
 */
import { join } from "node:path";
import type { Command } from "commander";
import { backupDataDir } from "../../lib/maintenance/fs-backup.ts";
import { restoreDataDir } from "../../lib/maintenance/fs-restore.ts";
import { configOption } from "../config-options.ts";
import { dataOption, localTarget, withRegistry, type LocalOptions } from "../local.ts";
import { bytes, printJson, safe } from "../output.ts";
import { version } from "../version.ts";

export function registerBackup(program: Command): void {
  program
    .command("backup <dir>")
    .description("copy the database and blobs into DIR (new or empty), consistently, while the server runs")
    .option("--copy", "copy blobs even when DIR is on the same file system (default: hard links there)")
    .option("--json", "print JSON")
    .option(...dataOption)
    .option(...configOption)
    .action(async (dir: string, opts: LocalOptions & { copy?: boolean; json?: boolean }) => {
      const report = await withRegistry(opts, (reg) => backupDataDir(reg, dir, { link: !opts.copy, mcrVersion: version.version }));
      if (opts.json) printJson(report);
      else {
        console.log(`backed up the database (${bytes(report.databaseBytes)}) and ${report.blobs} blobs (${bytes(report.bytes)}; ${report.linked} linked, ${report.copied} copied) to ${report.dir}`);
      }
      const damaged = [...report.missing.map((d) => `${d}: file missing`), ...report.sizeMismatches.map((d) => `${d}: size differs from the database`)];
      if (damaged.length > 0) {
        console.error(`mcr: ${damaged.length} recorded blob(s) could not be backed up intact; run mcr fsck:\n  ${damaged.slice(0, 20).map(safe).join("\n  ")}`);
        process.exitCode = 1;
      }
    });

  program
    .command("restore <dir>")
    .description("restore the backup in DIR into the data directory, which must not exist or be empty (server stopped)")
    .option("--link", "hard-link blobs from the backup instead of copying them")
    .option("--json", "print JSON")
    .option(...dataOption)
    .option(...configOption)
    .action(async (dir: string, opts: LocalOptions & { link?: boolean; json?: boolean }) => {
      process.umask(0o077);
      const target = localTarget(opts);
      const report = await restoreDataDir(dir, target.dataDir, { link: opts.link });
      if (opts.json) return printJson(report);
      console.log(`restored ${report.blobs} blobs (${bytes(report.bytes)}; ${report.linked} linked, ${report.copied} copied) and the database into ${report.dataDir}`);
      if (report.schemaVersion.now !== report.schemaVersion.backup) {
        console.log(`the database schema was migrated from version ${report.schemaVersion.backup} to ${report.schemaVersion.now}`);
      }
      // The restore is a single-box data directory; a registry configured for PostgreSQL reads its metadata there.
      if (target.database) {
        console.log(`storage.database is set: the restored metadata is in ${join(report.dataDir, "mcr.db")}; copy it into an empty PostgreSQL database with`);
        console.log(`  mcr db migrate --from ${join(report.dataDir, "mcr.db")} --to postgres://…   (see docs/scale-out.md)`);
      }
    });
}
