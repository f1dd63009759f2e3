/**
 * @module `mcr db migrate --from mcr-data/mcr.db --to postgres://…`: moves
 * a registry's metadata to another database, verified by row counts and
 * SHA-256 per table. Stop the server first; point `storage.database` at
 * the new one before starting it again.
 */
import type { Command } from "commander";
import { databasePassword } from "../../lib/config/database.ts";
import { moveDatabase } from "../../lib/maintenance/db-migrate.ts";
import { printJson, safe } from "../output.ts";

export function registerDb(program: Command): void {
  const db = program.command("db").description("the metadata database");
  db.command("migrate")
    .description("copy every row of a registry database into a new, empty one (SQLite file or postgres:// URL) and verify it")
    .requiredOption("--from <database>", "the database to read: a SQLite file (mcr-data/mcr.db) or a postgres:// URL")
    .requiredOption("--to <database>", "the new database: a postgres:// URL (password from MCR_DATABASE_PASSWORD_FILE or PGPASSWORD) or a SQLite file")
    .option("--json", "print JSON")
    .action(async (opts: { from: string; to: string; json?: boolean }) => {
      // The password is found as for storage.database: a file, or the environment.
      const report = await moveDatabase({ from: opts.from, to: opts.to, password: databasePassword() });
      if (opts.json) return printJson(report);
      for (const t of report.tables) console.log(safe(`${t.table.padEnd(20)} ${String(t.rows).padStart(10)} rows  sha256 ${t.sha256.slice(0, 16)}`));
      const rows = report.tables.reduce((n, t) => n + t.rows, 0);
      console.log(`copied and verified ${rows} rows in ${report.tables.length} tables (schema version ${report.schemaVersion}): counts and SHA-256 equal on both sides`);
    });
}
