/**
 * @module Starts the HTTP server on an open registry: Bun.serve with limits
 * that let any blob through, and an orderly stop.
 */
import { Authenticator } from "../lib/auth/authenticator.ts";
import { loadSigningKey } from "../lib/auth/signing-key.ts";
import { ensureAdmin } from "../lib/auth/users.ts";
import type { Limits } from "../lib/limits.ts";
import { openRegistry, type Registry } from "../lib/registry/registry.ts";
import { FsLayout } from "../lib/storage/fs-layout.ts";
import { STALE_UPLOAD_MS, sweepStaleUploads } from "../lib/registry/uploads.ts";
import { createApp } from "./app.ts";
import { errorResponse } from "./http/errors.ts";
import { withSecurityHeaders } from "./http/security-headers.ts";

/** Where and how to serve. */
export interface ServeOptions {
  hostname: string;
  port: number;
  dataDir: string;
  log?: (line: string) => void;
  /** Upload sessions idle this long are removed by an hourly sweep (default 24 h). */
  staleUploadMs?: number;
  /** Password for the `admin` account created at first start; random when absent. */
  adminPassword?: string;
  /** Lifetime of registry tokens in seconds (default 300). */
  tokenTtlSeconds?: number;
  /** Overrides of the default resource limits (lib/limits.ts). */
  limits?: Partial<Limits>;
}

const SWEEP_EVERY_MS = 60 * 60 * 1000;

/** A running server. */
export interface RunningServer {
  url: string;
  port: number;
  /** The generated password of the admin account created by this start, to show once; otherwise null. */
  generatedAdminPassword: string | null;
  /** Stops accepting, lets requests in flight finish, closes the database. */
  stop(): Promise<void>;
}

/** Opens the data directory and starts serving it. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const reg = await openRegistry(options.dataDir, { limits: options.limits });
  const admin = await ensureAdmin(reg, options.adminPassword);
  const key = loadSigningKey(new FsLayout(options.dataDir).signingKey);
  const auth = new Authenticator(reg, key, { tokenTtlSeconds: options.tokenTtlSeconds ?? 300 });
  const app = createApp(reg, { log: options.log, auth });
  const server = Bun.serve({
    hostname: options.hostname,
    port: options.port,
    fetch: app.fetch,
    error: (error) => withSecurityHeaders(errorResponse(error)),
    // Blobs may be of any size: 2 ** 40, since 1 << 40 is 256 in JavaScript.
    maxRequestBodySize: 2 ** 40,
    // The longest Bun allows; a connection that moves bytes is never idle.
    idleTimeout: 255,
  });
  const port = server.port ?? options.port;
  const sweep = startUploadSweep(reg, options.staleUploadMs ?? STALE_UPLOAD_MS, options.log);
  return {
    url: `http://${options.hostname}:${port}`,
    port,
    generatedAdminPassword: admin.generated,
    async stop() {
      clearInterval(sweep);
      await server.stop();
      await reg.close();
    },
  };
}

/** Removes abandoned upload sessions now and then every hour, without keeping the process alive. */
function startUploadSweep(reg: Registry, maxAgeMs: number, log?: (line: string) => void): Timer {
  const run = () =>
    sweepStaleUploads(reg, maxAgeMs).then(
      (removed) => removed > 0 && log?.(`removed ${removed} stale upload session(s)`),
      (error: unknown) => log?.(`stale upload sweep failed: ${String(error)}`),
    );
  void run();
  const timer = setInterval(run, SWEEP_EVERY_MS);
  timer.unref();
  return timer;
}
