/**
 * @module Starts the HTTP server on an open registry: Bun.serve with limits
 * that let any blob through, request ids, logs and metrics around the API,
 * HTTPS with certificates reloaded on demand, and a graceful stop with a
 * deadline.
 */
import type { Server } from "bun";
import { DEFAULT_AUDIT_RETENTION, scheduleAuditPruning, type AuditRetention } from "../lib/audit/retention.ts";
import { scheduleTokenPurge } from "../lib/auth/token-purge.ts";
import { Authenticator } from "../lib/auth/authenticator.ts";
import { DbLoginThrottle } from "../lib/auth/db-throttle.ts";
import type { LoginThrottle } from "../lib/auth/throttle.ts";
import { readTlsFiles, type TlsFiles } from "../lib/config/tls.ts";
import { loadSharedSigningKey, loadSigningKey } from "../lib/auth/signing-key.ts";
import { ensureAdmin } from "../lib/auth/users.ts";
import type { Limits } from "../lib/limits.ts";
import type { DatabaseTarget } from "../lib/config/database.ts";
import { openRegistry, type Registry } from "../lib/registry/registry.ts";
import type { S3StoreOptions } from "../lib/storage/s3-store.ts";
import { FsLayout } from "../lib/storage/fs-layout.ts";
import { STALE_UPLOAD_MS, sweepStaleUploads } from "../lib/registry/uploads.ts";
import { stopGcRuns } from "../lib/gc/run.ts";
import { Mirror } from "../lib/mirror/mirror.ts";
import type { UpstreamConfig } from "../lib/mirror/upstream-config.ts";
import { createApp } from "./app.ts";
import { errorResponse } from "./http/errors.ts";
import { silentLogger, type Logger } from "./observability/logger.ts";
import { observe } from "./observability/observe.ts";
import { ServerMetrics } from "./observability/server-metrics.ts";
import { mergeExpositions } from "./observability/prometheus.ts";
import { addMirrorMetrics } from "./observability/mirror-metrics.ts";
import { withSecurityHeaders } from "./http/security-headers.ts";

/** Where and how to serve. */
export interface ServeOptions {
  hostname: string;
  port: number;
  dataDir: string;
  /** Keep blobs in this S3 bucket rather than under dataDir (`[storage.s3]`). */
  s3?: S3StoreOptions | null;
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
  /** Reverse proxies whose X-Forwarded-For names the client. */
  trustedProxies?: readonly string[];
  /** Serve HTTPS with these PEM files (re-read by `reloadTls`). */
  tls?: { cert: string; key: string } | null;
  /** How long audit events are kept (default 90 days, and at most 1,000,000 noise rows); pruned at start and hourly. */
  auditRetention?: AuditRetention;
  /** Overrides of the default resource limits (lib/limits.ts). */
  limits?: Partial<Limits>;
  /** The metadata database (storage.database) and its password; unset: SQLite in the data directory. */
  database?: DatabaseTarget;
  /** false refuses every anonymous request whatever the policy says (default true). */
  anonymous?: boolean;
  /** Grace period of a GC started through /v1/gc without one (the configuration's gc.grace; default 1 h). */
  gcGraceMs?: number;
  /**
   * This process is worker N of several sharing the port (`mcr serve
   * --workers`): it binds with reusePort beside the others (the supervisor
   * checked the port was free), labels its metrics and log lines
   * `worker=N`, and only worker 1 runs the hourly sweeps and purges.
   */
  worker?: number;
  /** The other workers' metrics, merged into this one's on /metrics so any worker's scrape shows all. */
  gatherMetrics?: () => Promise<string[]>;
  /** Registries to mirror as a pull-through cache (`[[upstream]]`; none by default). */
  upstreams?: readonly UpstreamConfig[];
  /** Serve the web UI at `/` (default true). */
  ui?: boolean;
  /** The signing key file every replica shares (`auth.signing_key_file`); unset: `<dataDir>/signing-key.pem`, created at first start. */
  signingKeyFile?: string | null;
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
  /**
   * Re-reads the TLS certificate and key and serves new connections with
   * them, without dropping any; throws (keeping the old ones) when the files
   * are unusable. Returns false when the server does not use TLS.
   */
  reloadTls(): Promise<boolean>;
  /**
   * Stops accepting, lets requests in flight finish for up to `deadlineMs`
   * (default: wait for all), then closes what is left and the database.
   * Uploads cut off keep the bytes received and stay resumable.
   */
  stop(deadlineMs?: number): Promise<{ forced: number }>;
}

/** WAL pages between the server's checkpoints: see DatabaseOptions.checkpointPages. */
const SERVER_CHECKPOINT_PAGES = 10_000;

/** How long handlers cut off by a forced stop get to unwind before the database closes. */
const UNWIND_MS = 2000;

/** Opens the data directory and starts serving it. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const logger = options.logger ?? silentLogger;
  // Bad certificate files stop the start before anything is opened.
  const tlsPaths = options.tls ?? null;
  let tls: TlsFiles | null = tlsPaths ? readTlsFiles(tlsPaths.cert, tlsPaths.key) : null;
  // So does a missing or unsafe shared signing key file.
  const sharedKey = options.signingKeyFile ? loadSharedSigningKey(options.signingKeyFile) : null;
  const reg = await openRegistry(options.dataDir, { limits: options.limits, checkpointPages: SERVER_CHECKPOINT_PAGES, s3: options.s3, ...options.database });
  reg.policy.allowAnonymous = options.anonymous ?? true;
  const admin = await ensureAdmin(reg, options.adminPassword);
  const key = sharedKey ?? loadSigningKey(new FsLayout(options.dataDir).signingKey);
  const auth = new Authenticator(reg, key, { tokenTtlSeconds: options.tokenTtlSeconds ?? 300 });
  const upstreams = options.upstreams ?? [];
  const mirror = upstreams.length > 0 ? new Mirror(reg, upstreams, (e) => logger[e.level](e.message, e.fields)) : null;
  const app = createApp(reg, { auth, baseUrl: options.baseUrl, trustedProxies: options.trustedProxies, gcGraceMs: options.gcGraceMs, mirror, ui: options.ui });
  const metricsOn = options.metrics?.enabled ?? true;
  const worker = options.worker ?? null;
  const metrics = metricsOn ? new ServerMetrics(reg, options.version ?? { version: "dev", commit: "dev" }, worker) : null;
  if (metrics && mirror) addMirrorMetrics(metrics, mirror);
  const gather = options.gatherMetrics;
  const renderMetrics = metrics && gather ? async () => mergeExpositions([await metrics.render(), ...(await gather())]) : undefined;
  const observed = observe(app, { reg, logger, metrics, renderMetrics, metricsToken: options.metrics?.token ?? null, trustedProxies: options.trustedProxies });

  const listen = (port: number, files: TlsFiles | null): Server<undefined> =>
    Bun.serve({
      hostname: options.hostname,
      port,
      fetch: (req, srv) => observed.fetch(req, srv),
      error: (error) => withSecurityHeaders(errorResponse(error)),
      // Blobs may be of any size: 2 ** 40, since 1 << 40 is 256 in JavaScript.
      maxRequestBodySize: 2 ** 40,
      // The longest Bun allows by default; a connection that moves bytes is never idle.
      idleTimeout: options.idleTimeoutSeconds ?? 255,
      ...(files ? { tls: { cert: files.cert, key: files.key } } : {}),
      // A certificate reload binds a second listener to the same port before the first stops; workers share it.
      ...(files || worker !== null ? { reusePort: true } : {}),
    });
  // With reusePort a second mcr could bind the same port silently; make sure nobody holds it first (a supervisor checks for its workers).
  if (tls && worker === null && options.port !== 0) assertPortFree(options.hostname, options.port);
  let server = listen(options.port, tls);
  const port = server.port ?? options.port;
  const retired: Promise<void>[] = [];
  // One process of several does the housekeeping: each pass is safe to run twice, but is work.
  const housekeeping = worker === null || worker === 1;
  const sweep = housekeeping ? startUploadSweep(reg, options.staleUploadMs ?? STALE_UPLOAD_MS, logger) : undefined;
  const stopPruning = housekeeping
    ? scheduleAuditPruning(reg, options.auditRetention ?? DEFAULT_AUDIT_RETENTION, (outcome) => {
        if ("error" in outcome) logger.error(`audit pruning failed: ${String(outcome.error)}`);
        else if (outcome.removed > 0) logger.info(`pruned ${outcome.removed} audit event(s) past retention`);
      })
    : () => {};
  const stopTokenPurge = housekeeping
    ? scheduleTokenPurge(reg, (outcome) => {
        if ("error" in outcome) logger.error(`token purge failed: ${String(outcome.error)}`);
        else if (outcome.removed > 0) logger.info(`purged ${outcome.removed} ended token(s), session(s) and refresh token(s)`);
      })
    : async () => {};
  const throttlePruning = housekeeping ? startThrottlePruning(auth.throttle, logger) : undefined;
  return {
    url: `${tls ? "https" : "http"}://${options.hostname.includes(":") ? `[${options.hostname}]` : options.hostname}:${port}`,
    port,
    generatedAdminPassword: admin.generated,
    metrics,
    async reloadTls() {
      if (!tlsPaths) return false;
      const files = readTlsFiles(tlsPaths.cert, tlsPaths.key);
      const previous = server;
      server = listen(port, files);
      tls = files;
      // Connections on the old listener finish their requests; new ones go to the new listener.
      retired.push(previous.stop());
      return true;
    },
    async stop(deadlineMs) {
      clearInterval(sweep);
      clearInterval(throttlePruning);
      observed.drain();
      const stopping = Promise.all([server.stop(), ...retired]);
      let forced = 0;
      if (deadlineMs === undefined) {
        await stopping;
      } else {
        let timer: Timer | undefined;
        const finished = await Promise.race([stopping.then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), deadlineMs)))]);
        clearTimeout(timer);
        if (!finished) {
          forced = observed.inFlight();
          await server.stop(true);
          const until = Date.now() + UNWIND_MS;
          while (observed.inFlight() > 0 && Date.now() < until) await Bun.sleep(10);
        }
      }
      stopPruning();
      await stopTokenPurge();
      await server.stop();
      // A GC started through /v1/gc stops at its next batch; the next run finishes its work.
      await stopGcRuns(reg);
      await mirror?.close();
      await reg.close();
      return { forced };
    },
  };
}

/**
 * Readies a data directory for several workers before any starts: runs the
 * migrations, creates the admin account and the signing key, so workers
 * do not race to create them, or checks the shared key file
 * (`signingKeyFile`) so a bad one stops the supervisor rather than every
 * worker in turn. Returns the generated admin password, if any.
 */
export async function prepareDataDir(dataDir: string, adminPassword: string | undefined, database: DatabaseTarget = {}, signingKeyFile: string | null = null): Promise<string | null> {
  if (signingKeyFile) loadSharedSigningKey(signingKeyFile);
  const reg = await openRegistry(dataDir, database);
  try {
    const admin = await ensureAdmin(reg, adminPassword);
    if (!signingKeyFile) loadSigningKey(new FsLayout(dataDir).signingKey);
    return admin.generated;
  } finally {
    await reg.close();
  }
}

/** Throws when something already listens on `hostname:port`. */
export function assertPortFree(hostname: string, port: number): void {
  const probe = Bun.listen({ hostname, port, socket: { data() {} } });
  probe.stop(true);
}

/** Deletes login throttling rows that no longer count, now and then every hour (a throttle kept in memory bounds itself). */
function startThrottlePruning(throttle: LoginThrottle, logger: Logger): Timer | undefined {
  if (!(throttle instanceof DbLoginThrottle)) return undefined;
  const run = () =>
    throttle.prune().then(
      (removed) => removed > 0 && logger.info(`pruned ${removed} login throttling row(s) that no longer count`, { removed }),
      (error: unknown) => logger.error(`login throttling pruning failed: ${String(error)}`),
    );
  void run();
  const timer = setInterval(run, SWEEP_EVERY_MS);
  timer.unref();
  return timer;
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
