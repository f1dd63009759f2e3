/**
 * @module `mcr token create|list|revoke`: personal and robot access tokens,
 * usable as the password in `docker login` and Basic auth, on the local
 * data directory or a remote registry (`--server`).
 */
import type { Command } from "commander";
import { createToken, listTokens, revokeToken, type TokenInfo } from "../../lib/auth/tokens.ts";
import { parseDuration } from "../../lib/config/duration.ts";
import { localActor } from "../local.ts";
import { printJson, printTable, safe, UsageError, when } from "../output.ts";
import { onTarget, targetOptions, type TargetOptions } from "../target.ts";

/** A created token, shown once. */
interface CreatedToken {
  id: string;
  token: string;
  expiresAt: number | null;
}

export function registerToken(program: Command): void {
  const token = program.command("token").description("manage access tokens");

  targetOptions(
    token
      .command("create")
      .description("create a token (printed once)")
      .requiredOption("--user <name>", "the account the token acts as")
      .requiredOption("--name <label>", "what the token is for")
      .option("--expires <duration>", "lifetime, e.g. 90d (default: never)")
      .option("--json", "print JSON"),
  ).action(async (opts: TargetOptions & { user: string; name: string; expires?: string; json?: boolean }) => {
    let expiresInMs: number | null = null;
    try {
      if (opts.expires !== undefined) expiresInMs = parseDuration(opts.expires);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const created = await onTarget<CreatedToken>(opts, {
      local: (reg) => createToken(reg, { user: opts.user, label: opts.name, expiresInMs }, localActor()),
      remote: (api) => api.post<CreatedToken>("/v1/tokens", { user: opts.user, name: opts.name, ...(expiresInMs !== null ? { expires_in_ms: expiresInMs } : {}) }),
    });
    if (opts.json) return printJson({ id: created.id, token: created.token, expiresAt: created.expiresAt });
    console.log(safe(`token ${created.id} for ${opts.user} (expires ${when(created.expiresAt, "never")}):`));
    console.log(created.token);
    console.log("it is shown only now; use it as the password, e.g. skopeo login --username NAME");
  });

  targetOptions(
    token
      .command("list")
      .description("list personal and robot tokens (never their secrets); --all adds admin sessions and refresh tokens")
      .option("--user <name>", "only this account's tokens")
      .option("--all", "every kind: personal/robot tokens, admin API sessions, OAuth2 refresh tokens")
      .option("--json", "print JSON"),
  ).action(async (opts: TargetOptions & { user?: string; all?: boolean; json?: boolean }) => {
    const kind = opts.all ? "all" : "token";
    const query = new URLSearchParams({ ...(opts.user ? { user: opts.user } : {}), ...(opts.all ? { all: "true" } : {}) }).toString();
    const tokens = await onTarget(opts, {
      local: (reg) => listTokens(reg, opts.user, kind),
      remote: async (api) => (await api.get<{ tokens: TokenInfo[] }>(`/v1/tokens${query ? `?${query}` : ""}`)).tokens,
    });
    if (opts.json) return printJson(tokens);
    const status = (t: TokenInfo) => (t.revokedAt !== null ? "revoked" : t.expiresAt !== null && t.expiresAt <= Date.now() ? "expired" : "active");
    const row = (t: TokenInfo) => [t.id, t.user, t.label, when(t.createdAt), when(t.expiresAt, "never"), when(t.lastUsedAt, "never"), status(t)];
    if (!opts.all) return printTable(["ID", "USER", "LABEL", "CREATED", "EXPIRES", "LAST USED", "STATUS"], tokens.map(row));
    printTable(
      ["ID", "KIND", "USER", "LABEL", "FROM", "CREATED", "EXPIRES", "LAST USED", "STATUS"],
      tokens.map((t) => {
        const [id, ...rest] = row(t);
        return [id!, t.kind, rest[0]!, rest[1]!, t.parentId ?? (t.kind === "token" ? "" : "password"), ...rest.slice(2)];
      }),
    );
  });

  targetOptions(
    token.command("revoke <id>").description("revoke a token, session or refresh token, and what was made from it; it stops working on its next use"),
  ).action(async (id: string, opts: TargetOptions) => {
    await onTarget(opts, {
      local: async (reg) => void (await revokeToken(reg, id, localActor())),
      remote: (api) => api.delete(`/v1/tokens/${encodeURIComponent(id)}`),
    });
    console.log(`token ${safe(id)} revoked`);
  });
}
