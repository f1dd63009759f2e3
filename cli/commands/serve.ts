/**
 * @module `mcr serve`: runs the registry with the effective configuration
 * (flags > environment > file > defaults) until SIGINT or SIGTERM.
 */
import type { Command } from "commander";
import { parseListen } from "../../lib/config/listen.ts";
import { addSettingFlags, loadFromFlags, type ConfigFlags } from "../config-options.ts";

export function registerServe(program: Command): void {
  addSettingFlags(program.command("serve").description("run the registry")).action(async (opts: ConfigFlags) => {
    const { config } = loadFromFlags(opts);
    const { hostname, port } = parseListen(config.server.listen);
    const dataDir = config.storage.data_dir;
    // Registry data is private to the account that runs it.
    process.umask(0o077);
    const { startServer } = await import("../../server/serve.ts");
    const server = await startServer({
      hostname,
      port,
      dataDir,
      adminPassword: process.env.MCR_ADMIN_PASSWORD || undefined,
      tokenTtlSeconds: Math.round(config.auth.token_ttl / 1000),
      baseUrl: config.server.base_url,
      idleTimeoutSeconds: Math.round(config.server.idle_timeout / 1000),
      log: (line) => console.log(line),
    });
    if (server.generatedAdminPassword) {
      // Shown once, here only: it is stored nowhere but as a hash.
      console.log(`created user "admin" with password: ${server.generatedAdminPassword}`);
      console.log("  (shown only now; change it with: mcr user passwd admin)");
    }
    console.log(`mcr listening on ${server.url} (data: ${dataDir})`);
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      console.log(`mcr: ${signal} received, stopping`);
      await server.stop();
      process.exit(0);
    };
    process.on("SIGINT", () => void stop("SIGINT"));
    process.on("SIGTERM", () => void stop("SIGTERM"));
  });
}
