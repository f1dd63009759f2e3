/**
 * @module `mcr auth keygen FILE`: creates the token signing key file that
 * replicas with data directories of their own share
 * (`auth.signing_key_file`). Run once, then give every box the file.
 */
import type { Command } from "commander";
import { createSigningKeyFile } from "../../lib/auth/signing-key.ts";
import { printJson } from "../output.ts";

export function registerAuth(program: Command): void {
  const auth = program.command("auth").description("manage the token signing key");

  auth
    .command("keygen <file>")
    .description("create a new Ed25519 signing key file (mode 0600) for auth.signing_key_file; never replaces an existing file")
    .option("--json", "print JSON")
    .action((file: string, opts: { json?: boolean }) => {
      const key = createSigningKeyFile(file);
      if (opts.json) return printJson({ file, kid: key.kid });
      console.log(`created signing key ${file} (key id ${key.kid}, mode 0600)`);
      console.log(`  give every replica this same file and set auth.signing_key_file (env MCR_AUTH_SIGNING_KEY_FILE) to its path`);
    });
}
