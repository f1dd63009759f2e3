/**
 * @module Where an admin command acts: on the local data directory, or on a
 * remote registry through its /v1 API. A command group adopts it by adding
 * the options with `targetOptions(cmd)` and giving both implementations to
 * `onTarget`, e.g.
 *
 *   const users = await onTarget(opts, {
 *     local: (reg) => listUsers(reg),
 *     remote: async (api) => (await api.get<{ users: UserInfo[] }>("/v1/users")).users,
 *   });
 *
 * and renders the result the same way for both.
 *
 * Remote when `--server` or MCR_SERVER names a server (the token from
 * `--token`, MCR_TOKEN, or `mcr login`); local when `--data`, `--config`,
 * MCR_DATA_DIR or MCR_CONFIG say where the data is; otherwise the server of
 * the last `mcr login` if there is one, else the local default ./mcr-data.
 */
import type { Command } from "commander";
import { normalizeServerUrl, readLogins } from "../lib/config/logins.ts";
import type { Registry } from "../lib/registry/registry.ts";
import { configOption } from "./config-options.ts";
import { dataOption, withRegistry, type LocalOptions } from "./local.ts";
import { UsageError } from "./output.ts";
import { AdminClient } from "./remote/admin-client.ts";

/** The options of every admin command. */
export interface TargetOptions extends LocalOptions {
  server?: string;
  token?: string;
}

/** Adds `--data`, `--config`, `--server` and `--token` to an admin command. */
export function targetOptions(command: Command): Command {
  return command
    .option(...dataOption)
    .option(...configOption)
    .option("--server <url>", "act on a remote registry through its /v1 API (env MCR_SERVER)")
    .option("--token <token>", "admin access token for --server (env MCR_TOKEN; default: from mcr login)");
}

/** Where a command acts. */
export type Target = { kind: "local"; opts: LocalOptions } | { kind: "remote"; api: AdminClient };

/** Decides where a command with these options acts. */
export function resolveTarget(opts: TargetOptions, env: Record<string, string | undefined> = process.env): Target {
  const named = opts.server ?? (env.MCR_SERVER || undefined);
  const localGiven = opts.data !== undefined || opts.config !== undefined;
  if (named !== undefined && localGiven) throw new UsageError("--server acts remotely; --data and --config name a local registry: choose one");
  if (named === undefined && (localGiven || env.MCR_DATA_DIR || env.MCR_CONFIG)) {
    if (opts.token !== undefined) throw new UsageError("--token needs --server (or MCR_SERVER)");
    return { kind: "local", opts };
  }
  const logins = readLogins();
  const server = named !== undefined ? normalizeServerUrl(named) : logins.default;
  if (server === null) {
    if (opts.token !== undefined) throw new UsageError("--token needs --server (or MCR_SERVER)");
    return { kind: "local", opts };
  }
  const token = opts.token ?? (env.MCR_TOKEN || undefined) ?? logins.servers[server]?.token;
  if (token === undefined) throw new UsageError(`no token for ${server}: pass --token, set MCR_TOKEN, or run mcr login ${server}`);
  return { kind: "remote", api: new AdminClient(server, token) };
}

/** Runs `local` on the local registry or `remote` against the server, whichever the options choose. */
export async function onTarget<T>(
  opts: TargetOptions,
  impl: { local: (reg: Registry) => Promise<T>; remote: (api: AdminClient) => Promise<T> },
): Promise<T> {
  const target = resolveTarget(opts);
  return target.kind === "local" ? withRegistry(target.opts, impl.local) : impl.remote(target.api);
}
