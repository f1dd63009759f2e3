/**
 * @module Starts the HTTP server on an open registry: Bun.serve with limits
 * that let any blob through, and an orderly stop.
 */
import { openRegistry } from "../lib/registry/registry.ts";
import { createApp } from "./app.ts";
import { errorResponse } from "./http/errors.ts";

/** Where and how to serve. */
export interface ServeOptions {
  hostname: string;
  port: number;
  dataDir: string;
  log?: (line: string) => void;
}

/** A running server. */
export interface RunningServer {
  url: string;
  port: number;
  /** Stops accepting, lets requests in flight finish, closes the database. */
  stop(): Promise<void>;
}

/** Opens the data directory and starts serving it. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const reg = await openRegistry(options.dataDir);
  const app = createApp(reg, { log: options.log });
  const server = Bun.serve({
    hostname: options.hostname,
    port: options.port,
    fetch: app.fetch,
    error: (error) => errorResponse(error),
    // Blobs may be of any size: 2 ** 40, since 1 << 40 is 256 in JavaScript.
    maxRequestBodySize: 2 ** 40,
    // The longest Bun allows; a connection that moves bytes is never idle.
    idleTimeout: 255,
  });
  const port = server.port ?? options.port;
  return {
    url: `http://${options.hostname}:${port}`,
    port,
    async stop() {
      await server.stop();
      await reg.close();
    },
  };
}
