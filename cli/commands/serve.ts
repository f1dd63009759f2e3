/**
 * @module `mcr serve`: runs the registry with the effective configuration
 * (flags > environment > file > defaults). SIGTERM or SIGINT stops it
 * gracefully (a second one at once); SIGHUP reloads the TLS certificate.
 * With `server.workers` above 1 this process is the supervisor
 * (server/supervisor.ts) and runs itself again as each worker, which
 * MCR_WORKER_ID tells apart.
 */
import type { Command } from "commander";
import { databaseTarget, type DatabaseTarget } from "../../lib/config/database.ts";
import { parseListen } from "../../lib/config/listen.ts";
import { s3StoreOptions } from "../../lib/storage/s3-config.ts";
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
    const worker = workerId();
    const logger = createLogger({ level: config.log.level, format: config.log.format, write: (line) => console.log(line), fields: worker ? { worker } : {} });
    if (config.server.workers > 1 && worker === null) {
      const https = config.server.tls.cert !== null && config.server.tls.key !== null;
      await supervise(config.server.workers, hostname, port, dataDir, https, config.server.shutdown_timeout, logger, databaseTarget(config), config.auth.signing_key_file);
      return;
    }
    let link: import("../../server/worker-link.ts").WorkerLink | null = null;
    let ownMetrics = async () => "";
    if (worker !== null) {
      const { linkToSupervisor } = await import("../../server/worker-link.ts");
      link = linkToSupervisor(
        () => ownMetrics(),
        () => {
          logger.warn(`mcr: worker ${worker}: the supervisor is gone, stopping`);
          process.kill(process.pid, "SIGTERM");
        },
      );
    }
    const server = await startServer({
      hostname,
      // The supervisor chose the port (one for all, also when asked for port 0).
      port: worker !== null ? Number(process.env.MCR_WORKER_PORT ?? port) : port,
      worker: worker ?? undefined,
      gatherMetrics: link ? () => link.gather() : undefined,
      dataDir,
      database: databaseTarget(config),
      s3: s3StoreOptions(config.storage.s3),
      adminPassword: process.env.MCR_ADMIN_PASSWORD || undefined,
      tokenTtlSeconds: Math.round(config.auth.token_ttl / 1000),
      baseUrl: config.server.base_url,
      trustedProxies: config.server.trusted_proxies,
      idleTimeoutSeconds: Math.round(config.server.idle_timeout / 1000),
      auditRetention: { days: config.audit.retention / 86_400_000, noiseRows: config.audit.noise_rows },
      anonymous: config.auth.anonymous,
      gcGraceMs: config.gc.grace,
      upstreams: config.upstreams,
      ui: config.ui.enabled,
      signingKeyFile: config.auth.signing_key_file,
      limits: {
        maxConcurrentUploadsPerUser: config.limits.uploads_per_account,
        maxConcurrentUploads: config.limits.uploads_total,
        maxUploadSessions: config.limits.upload_sessions,
        maxUploadSessionsPerUser: config.limits.upload_sessions_per_account,
        uploadSessionReclaimIdleMs: config.limits.upload_session_reclaim_idle,
        maxUploadSessionAgeMs: config.limits.upload_session_age,
        maxManifestBytes: config.limits.manifest_size,
        repositoryQuotaBytes: config.limits.repository_quota,
      },
      logger,
      metrics: config.metrics,
      version,
      tls: config.server.tls.cert !== null && config.server.tls.key !== null ? { cert: config.server.tls.cert, key: config.server.tls.key } : null,
    });
    if (server.metrics) ownMetrics = () => server.metrics!.render();
    // Text logs keep these lines as people read them; JSON logs carry the same facts as fields.
    const say = (line: string, fields: Record<string, string>) => (logger.format === "json" ? logger.info(line, fields) : console.log(line));
    if (server.generatedAdminPassword) {
      // Shown once, here only: it is stored nowhere but as a hash.
      say(`created user "admin" with password: ${server.generatedAdminPassword}`, { user: "admin" });
      say("  (shown only now; change it with: mcr user passwd admin)", {});
    }
    if (link) {
      logger.info(`mcr: worker ${worker} listening on ${server.url}`, { url: server.url });
      link.ready();
    } else {
      say(`mcr listening on ${server.url} (data: ${dataDir})`, { url: server.url, data_dir: dataDir });
    }
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) {
        logger.warn(`mcr: ${signal} received again, exiting now`, { signal });
        process.exit(1);
      }
      stopping = true;
      const deadline = config.server.shutdown_timeout;
      logger.info(`mcr: ${signal} received, stopping (requests in flight have ${deadline / 1000}s)`, { signal });
      const { forced } = await server.stop(deadline);
      if (forced > 0) logger.warn(`mcr: closed ${forced} request(s) still running at the deadline; their uploads can resume`, { forced });
      logger.info("mcr: stopped");
      process.exit(0);
    };
    const reload = async () => {
      try {
        if (await server.reloadTls()) logger.info("mcr: SIGHUP received, TLS certificate reloaded");
        else logger.info("mcr: SIGHUP received, nothing to reload (no TLS)");
      } catch (error) {
        logger.error(`mcr: SIGHUP received, keeping the current certificate: ${(error as Error).message}`);
      }
    };
    // A worker's Ctrl-C also reaches the supervisor (one process group), which sends SIGTERM: one stop, not a forced second.
    process.on("SIGINT", () => void (worker === null && stop("SIGINT")));
    process.on("SIGTERM", () => void stop("SIGTERM"));
    process.on("SIGHUP", () => void reload());
  });
}

/** This process's worker number when a supervisor started it, else null. */
function workerId(): number | null {
  const id = Number(process.env.MCR_WORKER_ID);
  return Number.isInteger(id) && id > 0 ? id : null;
}

/**
 * Runs as the supervisor of `workers` processes: readies the data
 * directory once (migrations, admin, signing key), picks the port, starts
 * the workers, and relays signals until they have all stopped.
 */
async function supervise(workers: number, hostname: string, port: number, dataDir: string, https: boolean, shutdownTimeoutMs: number, logger: import("../../server/observability/logger.ts").Logger, database: DatabaseTarget = {}, signingKeyFile: string | null = null): Promise<void> {
  const { assertPortFree, prepareDataDir } = await import("../../server/serve.ts");
  const { selfCommand, superviseWorkers } = await import("../../server/supervisor.ts");
  // The metadata database the workers will use (storage.database), not necessarily the data directory's SQLite file.
  const generated = await prepareDataDir(dataDir, process.env.MCR_ADMIN_PASSWORD || undefined, database, signingKeyFile);
  const say = (line: string, fields: Record<string, string | number>) => (logger.format === "json" ? logger.info(line, fields) : console.log(line));
  if (generated) {
    say(`created user "admin" with password: ${generated}`, { user: "admin" });
    say("  (shown only now; change it with: mcr user passwd admin)", {});
  }
  // Workers bind with reusePort, which would share a port with a stranger too: it must be free now.
  const chosen = port === 0 ? freePort(hostname) : (assertPortFree(hostname, port), port);
  const supervisor = superviseWorkers({
    workers,
    command: selfCommand(),
    env: { ...process.env, MCR_WORKER_PORT: String(chosen) },
    logger,
    stopTimeoutMs: shutdownTimeoutMs + 10_000,
  });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`mcr: ${signal} received, stopping ${workers} workers`, { signal });
    await supervisor.stop();
    logger.info("mcr: stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGHUP", () => {
    logger.info(`mcr: SIGHUP received, passed to ${workers} workers`);
    supervisor.reload();
  });
  try {
    await supervisor.ready;
  } catch (error) {
    logger.error(`mcr: ${(error as Error).message}; stopping`);
    await supervisor.stop();
    process.exit(1);
  }
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  say(`mcr listening on ${https ? "https" : "http"}://${host}:${chosen} (data: ${dataDir}, ${workers} workers)`, { workers, data_dir: dataDir });
}

/** A port nothing listens on now, for workers asked to listen on port 0. */
function freePort(hostname: string): number {
  const probe = Bun.listen({ hostname, port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}
