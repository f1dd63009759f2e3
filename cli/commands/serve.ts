/**
 * @module `mcr serve`: runs the registry with the effective configuration
 * (flags > environment > file > defaults) until SIGINT or SIGTERM.
 */
import type { Command } from "commander";
import { parseListen } from "../../lib/config/listen.ts";
import { addSettingFlags, loadFromFlags, type ConfigFlags } from "../config-options.ts";
import { version } from "../version.ts";

export function registerServe(program: Command): void {
  addSettingFlags(program.command("serve").description("run the registry")).action(async (opts: ConfigFlags) => {
    const { config } = loadFromFlags(opts);
    const { hostname, port } = parseListen(config.server.listen);
    const dataDir = config.storage.data_dir;
    // Registry data is private to the account that runs it.
    process.umask(0o077);
    const { startServer } = await import("../../server/serve.ts");
    const { createLogger } = await import("../../server/observability/logger.ts");
    const logger = createLogger({ level: config.log.level, format: config.log.format, write: (line) => console.log(line) });
    const server = await startServer({
      hostname,
      port,
      dataDir,
      adminPassword: process.env.MCR_ADMIN_PASSWORD || undefined,
      tokenTtlSeconds: Math.round(config.auth.token_ttl / 1000),
      baseUrl: config.server.base_url,
      idleTimeoutSeconds: Math.round(config.server.idle_timeout / 1000),
      logger,
      metrics: config.metrics,
      version,
    });
    // Text logs keep these lines as people read them; JSON logs carry the same facts as fields.
    const say = (line: string, fields: Record<string, string>) => (logger.format === "json" ? logger.info(line, fields) : console.log(line));
    if (server.generatedAdminPassword) {
      // Shown once, here only: it is stored nowhere but as a hash.
      say(`created user "admin" with password: ${server.generatedAdminPassword}`, { user: "admin" });
      say("  (shown only now; change it with: mcr user passwd admin)", {});
    }
    say(`mcr listening on ${server.url} (data: ${dataDir})`, { url: server.url, data_dir: dataDir });
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info(`mcr: ${signal} received, stopping`, { signal });
      await server.stop();
      process.exit(0);
    };
    process.on("SIGINT", () => void stop("SIGINT"));
    process.on("SIGTERM", () => void stop("SIGTERM"));
  });
}
