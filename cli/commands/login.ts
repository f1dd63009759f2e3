/**
 * @module `mcr login URL` and `mcr logout [URL]`: sign in to a remote
 * registry as an admin once, keep an admin access token in the user's
 * config dir (0600), and use it for every admin command after.
 */
import type { Command } from "commander";
import { hostname } from "node:os";
import { parseDuration } from "../../lib/config/duration.ts";
import { loginsPath, normalizeServerUrl, readLogins, removeLogin, saveLogin } from "../../lib/config/logins.ts";
import { readStdinSecret } from "../local.ts";
import { safe, UsageError, when } from "../output.ts";
import { promptSecret } from "../prompt.ts";
import { AdminClient } from "../remote/admin-client.ts";

export function registerLogin(program: Command): void {
  program
    .command("login <url>")
    .description("log in to a registry as an admin and save an access token for the admin commands (--server)")
    .option("--username <name>", "admin account", "admin")
    .option("--password-stdin", "read the password from standard input (otherwise asked for)")
    .option("--token-stdin", "save an existing admin access token read from standard input instead")
    .option("--expires <duration>", "lifetime of the saved token", "90d")
    .action(async (url: string, opts: { username: string; passwordStdin?: boolean; tokenStdin?: boolean; expires: string }) => {
      const server = normalizeServerUrl(url);
      if (opts.passwordStdin && opts.tokenStdin) throw new UsageError("--password-stdin and --token-stdin exclude each other");
      let expiresInMs: number;
      try {
        expiresInMs = parseDuration(opts.expires);
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
      const api = new AdminClient(server, null);

      if (opts.tokenStdin) {
        const token = await readStdinSecret();
        // Proves the token is live and an admin's.
        await api.withToken(token).get("/v1/users");
        // No token id: logout forgets a token given this way but does not revoke it (it may be used elsewhere).
        saveLogin(server, { token, tokenId: "", user: opts.username, createdAt: new Date().toISOString(), expiresAt: null });
        console.log(`saved the token for ${server} in ${loginsPath()}`);
        return;
      }

      const password = opts.passwordStdin ? await readStdinSecret() : await promptSecret(`password for ${opts.username} at ${server}: `);
      const session = await api.post<{ token: string }>("/v1/auth/login", { username: opts.username, password });
      const admin = api.withToken(session.token);
      try {
        const created = await admin.post<{ id: string; token: string; expiresAt: number | null }>("/v1/tokens", {
          user: opts.username,
          name: `mcr login from ${hostname()}`.slice(0, 100),
          expires_in_ms: expiresInMs,
        });
        saveLogin(server, {
          token: created.token,
          tokenId: created.id,
          user: opts.username,
          createdAt: new Date().toISOString(),
          expiresAt: created.expiresAt === null ? null : new Date(created.expiresAt).toISOString(),
        });
        console.log(safe(`logged in to ${server} as ${opts.username}; token ${created.id} (expires ${when(created.expiresAt, "never")}) saved in ${loginsPath()}`));
      } finally {
        await admin.post("/v1/auth/logout", {}).catch(() => {});
      }
    });

  program
    .command("logout [url]")
    .description("revoke and forget the saved token of a registry (default: the last one logged in to)")
    .action(async (url: string | undefined) => {
      const server = url === undefined ? readLogins().default : normalizeServerUrl(url);
      if (server === null) throw new UsageError("not logged in anywhere");
      const saved = removeLogin(server);
      if (saved === null) throw new UsageError(`not logged in to ${server}`);
      if (saved.tokenId !== "") {
        // Best effort: the token may already be revoked, or the server unreachable.
        const revoked = await new AdminClient(server, saved.token)
          .delete(`/v1/tokens/${saved.tokenId}`)
          .then(() => true, () => false);
        console.log(`logged out of ${server}${revoked ? "; token revoked" : "; the token could not be revoked (revoke it with mcr token revoke)"}`);
      } else {
        console.log(`logged out of ${server}`);
      }
    });
}
