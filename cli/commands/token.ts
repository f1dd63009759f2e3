/**
 * @module `mcr token create|list|revoke`: personal and robot access tokens,
 * usable as the password in `docker login` and Basic auth.
 */
import type { Command } from "commander";
import { createToken, listTokens, revokeToken } from "../../lib/auth/tokens.ts";
import { parseDuration } from "../../lib/config/duration.ts";
import { dataOption, localActor, withRegistry } from "../local.ts";
import { printJson, printTable, UsageError, when } from "../output.ts";

export function registerToken(program: Command): void {
  const token = program.command("token").description("manage access tokens");

  token
    .command("create")
    .description("create a token (printed once)")
    .requiredOption("--user <name>", "the account the token acts as")
    .requiredOption("--name <label>", "what the token is for")
    .option("--expires <duration>", "lifetime, e.g. 90d (default: never)")
    .option("--json", "print JSON")
    .option(...dataOption)
    .action(async (opts: { user: string; name: string; expires?: string; json?: boolean; data?: string }) => {
      let expiresInMs: number | null = null;
      try {
        if (opts.expires !== undefined) expiresInMs = parseDuration(opts.expires);
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
      const created = await withRegistry(opts, (reg) =>
        createToken(reg, { user: opts.user, label: opts.name, expiresInMs }, localActor()),
      );
      if (opts.json) return printJson({ id: created.id, token: created.token, expiresAt: created.expiresAt });
      console.log(`token ${created.id} for ${opts.user} (expires ${when(created.expiresAt, "never")}):`);
      console.log(created.token);
      console.log("it is shown only now; use it as the password, e.g. skopeo login --username NAME");
    });

  token
    .command("list")
    .description("list tokens (never their secrets)")
    .option("--user <name>", "only this account's tokens")
    .option("--json", "print JSON")
    .option(...dataOption)
    .action(async (opts: { user?: string; json?: boolean; data?: string }) => {
      const tokens = await withRegistry(opts, (reg) => listTokens(reg, opts.user));
      if (opts.json) return printJson(tokens);
      printTable(
        ["ID", "USER", "LABEL", "CREATED", "EXPIRES", "LAST USED", "STATUS"],
        tokens.map((t) => [
          t.id,
          t.user,
          t.label,
          when(t.createdAt),
          when(t.expiresAt, "never"),
          when(t.lastUsedAt, "never"),
          t.revokedAt !== null ? "revoked" : t.expiresAt !== null && t.expiresAt <= Date.now() ? "expired" : "active",
        ]),
      );
    });

  token
    .command("revoke <id>")
    .description("revoke a token; it stops working on its next use")
    .option(...dataOption)
    .action(async (id: string, opts: { data?: string }) => {
      await withRegistry(opts, (reg) => revokeToken(reg, id, localActor()));
      console.log(`token ${id} revoked`);
    });
}
