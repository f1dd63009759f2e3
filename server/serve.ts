/**
 * @module Starts the HTTP server on an open registry: Bun.serve with limits
 * that let any blob through, request ids, logs and metrics around the API,
 * and an orderly stop.
 */
import { Authenticator } from "../lib/auth/authenticator.ts";
import { loadSigningKey } from "../lib/auth/signing-key.ts";
import { ensureAdmin } from "../lib/auth/users.ts";
import { openRegistry, type Registry } from "../lib/registry/registry.ts";
import { FsLayout } from "../lib/storage/fs-layout.ts";
import { STALE_UPLOAD_MS, sweepStaleUploads } from "../lib/registry/uploads.ts";
import { createApp } from "./app.ts";
import { errorResponse } from "./http/errors.ts";
import { silentLogger, type Logger } from "./observability/logger.ts";
import { observe } from "./observability/observe.ts";
import { ServerMetrics } from "./observability/server-metrics.ts";

/** Where and how to serve. */
export interface ServeOptions {
  hostname: string;
  port: number;
  dataDir: string;
  /** Receives the server's events and one line per request; silent when absent. */
  logger?: Logger;
  /** Upload sessions idle this long are removed by an hourly sweep (default 24 h). */
  staleUploadMs?: number;
  /** Password for the `admin` account created at first start; random when absent. */
  adminPassword?: string;
  /** Lifetime of registry tokens in seconds (default 300). */
  tokenTtlSeconds?: number;
  /** The public URL clients reach the registry at; when absent, taken from each request. */
  baseUrl?: string | null;
  /** Seconds a connection may move no bytes before it is closed (0: never; at most 255, the default). */
  idleTimeoutSeconds?: number;
  /** Prometheus metrics on /metrics (default: enabled, unprotected). */
  metrics?: { enabled: boolean; token: string | null };
  /** Reported by the `mcr_build_info` metric. */
  version?: { version: string; commit: string };
}

const SWEEP_EVERY_MS = 60 * 60 * 1000;

/** A running server. */
export interface RunningServer {
  url: string;
  port: number;
  /** The generated password of the admin account created by this start, to show once; otherwise null. */
  generatedAdminPassword: string | null;
  /** The server's metrics (null when disabled). */
  metrics: ServerMetrics | null;
  /** Stops accepting, lets requests in flight finish, closes the database. */
  stop(): Promise<void>;
}

/** Opens the data directory and starts serving it. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const logger = options.logger ?? silentLogger;
  const reg = await openRegistry(options.dataDir);
  const admin = await ensureAdmin(reg, options.adminPassword);
  const key = loadSigningKey(new FsLayout(options.dataDir).signingKey);
  const auth = new Authenticator(reg, key, { tokenTtlSeconds: options.tokenTtlSeconds ?? 300 });
  const app = createApp(reg, { auth, baseUrl: options.baseUrl });
  const metricsOn = options.metrics?.enabled ?? true;
  const metrics = metricsOn ? new ServerMetrics(reg, options.version ?? { version: "dev", commit: "dev" }) : null;
  const observed = observe(app, { reg, logger, metrics, metricsToken: options.metrics?.token ?? null });
  const server = Bun.serve({
    hostname: options.hostname,
    port: options.port,
    fetch: (req, srv) => observed.fetch(req, srv),
    error: (error) => errorResponse(error),
    // Blobs may be of any size: 2 ** 40, since 1 << 40 is 256 in JavaScript.
    maxRequestBodySize: 2 ** 40,
    // The longest Bun allows by default; a connection that moves bytes is never idle.
    idleTimeout: options.idleTimeoutSeconds ?? 255,
  });
  const port = server.port ?? options.port;
  const sweep = startUploadSweep(reg, options.staleUploadMs ?? STALE_UPLOAD_MS, logger);
  return {
    url: `http://${options.hostname}:${port}`,
    port,
    generatedAdminPassword: admin.generated,
    metrics,
    async stop() {
      clearInterval(sweep);
      observed.drain();
      await server.stop();
      await reg.close();
    },
  };
}

/** Removes abandoned upload sessions now and then every hour, without keeping the process alive. */
function startUploadSweep(reg: Registry, maxAgeMs: number, logger: Logger): Timer {
  const run = () =>
    sweepStaleUploads(reg, maxAgeMs).then(
      (removed) => removed > 0 && logger.info(`removed ${removed} stale upload session(s)`, { removed }),
      (error: unknown) => logger.error(`stale upload sweep failed: ${String(error)}`),
    );
  void run();
  const timer = setInterval(run, SWEEP_EVERY_MS);
  timer.unref();
  return timer;
}
