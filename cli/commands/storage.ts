/**
 * @module `mcr storage migrate --to s3`: copies the data directory's blobs
 * into the S3 bucket `[storage.s3]` names (the configuration `mcr serve`
 * reads, or flags), verified and resumable; the operator then switches the
 * configuration. Exit 1 when any blob could not be copied intact.
 */
import type { Command } from "commander";
import { loadConfig } from "../../lib/config/load.ts";
import type { SettingKey } from "../../lib/config/settings.ts";
import { migrateBlobs } from "../../lib/maintenance/s3-migrate.ts";
import { FsBlobStore } from "../../lib/storage/fs-store.ts";
import { s3StoreOptions } from "../../lib/storage/s3-config.ts";
import { S3BlobStore } from "../../lib/storage/s3-store.ts";
import { configOption } from "../config-options.ts";
import { dataOption, type LocalOptions } from "../local.ts";
import { bytes, printJson, safe } from "../output.ts";

interface MigrateFlags extends LocalOptions {
  to: string;
  endpoint?: string;
  bucket?: string;
  prefix?: string;
  region?: string;
  concurrency?: string;
  json?: boolean;
}

export function registerStorage(program: Command): void {
  const storage = program.command("storage").description("move blobs between stores");
  storage
    .command("migrate")
    .description("copy the data directory's blobs into the S3 bucket of [storage.s3], each verified from the bucket; re-run to resume; then set [storage.s3] for mcr serve")
    .requiredOption("--to <store>", "target store (s3)")
    .option("--endpoint <url>", "storage.s3.endpoint (default: the configuration's)")
    .option("--bucket <name>", "storage.s3.bucket (default: the configuration's)")
    .option("--prefix <prefix>", "storage.s3.prefix (default: the configuration's)")
    .option("--region <region>", "storage.s3.region (default: the configuration's)")
    .option("--concurrency <n>", "blobs sent at once", "4")
    .option("--json", "print JSON (every blob's digest and outcome)")
    .option(...dataOption)
    .option(...configOption)
    .action(async (opts: MigrateFlags) => {
      if (opts.to !== "s3") throw new Error(`--to ${safe(opts.to)}: only s3 is supported`);
      const concurrency = Number(opts.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new Error("--concurrency must be an integer from 1 to 64");
      const flags: Partial<Record<SettingKey, string>> = {
        "storage.data_dir": opts.data,
        "storage.s3.endpoint": opts.endpoint,
        "storage.s3.bucket": opts.bucket,
        "storage.s3.prefix": opts.prefix,
        "storage.s3.region": opts.region,
      };
      const { config } = loadConfig({ file: opts.config ?? null, flags });
      const s3 = s3StoreOptions(config.storage.s3);
      if (!s3) throw new Error("no bucket: set storage.s3.bucket (or --bucket, MCR_S3_BUCKET) and its credentials");
      const source = new FsBlobStore(config.storage.data_dir);
      const report = await migrateBlobs(source, new S3BlobStore({ ...s3, redirect: false }), { concurrency });
      if (opts.json) printJson(report);
      else {
        for (const item of report.items) {
          if (item.outcome === "corrupt" || item.outcome === "failed") console.log(safe(`${item.outcome.padEnd(8)} ${item.digest}: ${item.detail ?? ""}`));
        }
        console.log(
          `${report.blobs} blobs: ${report.copied} copied (${bytes(report.bytesCopied)}, verified), ${report.present} already in the bucket, ` +
            `${report.corrupt} corrupt, ${report.failed} failed, in ${report.seconds.toFixed(1)} s`,
        );
        if (report.corrupt + report.failed === 0) console.log(`every blob is in s3://${s3.bucket}/${s3.prefix}; set [storage.s3] in mcr serve's configuration and restart it`);
        else console.log("re-run to retry; switch only when none is corrupt or failed");
      }
      if (report.corrupt + report.failed > 0) process.exitCode = 1;
    });
}
