#!/usr/bin/env bun
/**
 * @module The mcr command line: one program, a command group per file.
 * Exit codes: 0 ok, 1 failure, 2 usage.
 */
import { Command, CommanderError } from "commander";
import { RegistryError } from "../lib/errors.ts";
import { registerPolicy } from "./commands/policy.ts";
import { registerBackup } from "./commands/backup.ts";
import { registerConfig } from "./commands/config.ts";
import { registerDb } from "./commands/db.ts";
import { registerFsck } from "./commands/fsck.ts";
import { registerLogin } from "./commands/login.ts";
import { registerAudit } from "./commands/audit.ts";
import { registerAuth } from "./commands/auth.ts";
import { registerRepo } from "./commands/repo.ts";
import { registerGc } from "./commands/gc.ts";
import { registerRetention } from "./commands/retention.ts";
import { registerServe } from "./commands/serve.ts";
import { registerStorage } from "./commands/storage.ts";
import { registerToken } from "./commands/token.ts";
import { registerUser } from "./commands/user.ts";
import { registerVersion } from "./commands/version.ts";
import { safeLines, UsageError } from "./output.ts";
import { version } from "./version.ts";

const program = new Command("mcr")
  .description("a self-hosted OCI container registry")
  .version(version.version, "-V, --version")
  .exitOverride()
  .showHelpAfterError();
registerServe(program);
registerUser(program);
registerToken(program);
registerPolicy(program);
registerConfig(program);
registerBackup(program);
registerFsck(program);
registerDb(program);
registerLogin(program);
registerAudit(program);
registerAuth(program);
registerRepo(program);
registerGc(program);
registerRetention(program);
registerStorage(program);
registerVersion(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exit(error.exitCode === 0 ? 0 : 2);
  }
  // Messages can carry what a server or a client sent (names, server errors): escaped, line breaks kept.
  console.error(`mcr: ${safeLines(error instanceof Error ? error.message : String(error))}`);
  // Bad arguments are usage errors (2); everything else, including refused operations, is a failure (1).
  const usage = error instanceof UsageError || (error instanceof RegistryError && error.code === "INVALID_ARGUMENT");
  process.exit(usage ? 2 : 1);
}
