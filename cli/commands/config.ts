/**
 * @module `mcr config check|print`: validate a configuration file, and
 * show the effective configuration (file, environment and flags merged,
 * secrets redacted).
 */
import type { Command } from "commander";
import { loadSharedSigningKey } from "../../lib/auth/signing-key.ts";
import { renderJson, renderToml } from "../../lib/config/render.ts";
import { readTlsFiles } from "../../lib/config/tls.ts";
import { checkBucket, s3StoreOptions } from "../../lib/storage/s3-config.ts";
import { addSettingFlags, loadFromFlags, type ConfigFlags } from "../config-options.ts";
import { printJson, UsageError } from "../output.ts";

export function registerConfig(program: Command): void {
  const config = program.command("config").description("check and print the configuration");

  config
    .command("check [file]")
    .description("validate a configuration file (and the environment); exit 2 when invalid")
    .option("--config <file>", "the file to check (env MCR_CONFIG)")
    .action(async (file: string | undefined, opts: { config?: string }) => {
      const named = file ?? opts.config ?? process.env.MCR_CONFIG;
      if (!named) throw new UsageError("name a file: mcr config check FILE (or --config, or MCR_CONFIG)");
      const loaded = loadFromFlags({ config: named });
      const { cert, key } = loaded.config.server.tls;
      if (cert !== null && key !== null) readTlsFiles(cert, key);
      // The shared signing key must exist, be private and parse: mcr serve would refuse it otherwise.
      const signingKeyFile = loaded.config.auth.signing_key_file;
      if (signingKeyFile !== null) loadSharedSigningKey(signingKeyFile);
      // With a bucket configured, the check reaches it: bad credentials or a missing bucket show now, not at the first push.
      const s3 = s3StoreOptions(loaded.config.storage.s3);
      if (s3) {
        await checkBucket(s3);
        console.log(`${loaded.file}: S3 bucket ${s3.bucket} at ${s3.endpoint}: reachable, writable`);
      }
      console.log(`${loaded.file}: ok`);
    });

  addSettingFlags(config.command("print").description("print the effective configuration (secrets redacted)"))
    .option("--json", "print JSON, with the source of each value")
    .action((opts: ConfigFlags & { json?: boolean }) => {
      const loaded = loadFromFlags(opts);
      if (opts.json) return printJson(renderJson(loaded));
      process.stdout.write(renderToml(loaded));
    });
}
