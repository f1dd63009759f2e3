/**
 * @module `mcr serve`: runs the registry until SIGINT or SIGTERM.
 */
import type { Command } from "commander";
import { resolve } from "node:path";
import { DEFAULT_DATA_DIR, DEFAULT_LISTEN, parseListen } from "../../lib/config/listen.ts";

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("run the registry")
    .option("--listen <host:port>", `address to listen on (env MCR_LISTEN, default ${DEFAULT_LISTEN})`)
    .option("--data <dir>", `data directory (env MCR_DATA_DIR, default ${DEFAULT_DATA_DIR})`)
    .action(async (opts: { listen?: string; data?: string }) => {
      const { hostname, port } = parseListen(opts.listen ?? process.env.MCR_LISTEN ?? DEFAULT_LISTEN);
      const dataDir = resolve(opts.data ?? process.env.MCR_DATA_DIR ?? DEFAULT_DATA_DIR);
      // Registry data is private to the account that runs it.
      process.umask(0o077);
      const { startServer } = await import("../../server/serve.ts");
      const server = await startServer({
        hostname,
        port,
        dataDir,
        adminPassword: process.env.MCR_ADMIN_PASSWORD || undefined,
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
