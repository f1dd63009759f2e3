/**
 * @module `mcr serve`: runs the registry with the effective configuration
 * (flags > environment > file > defaults). SIGTERM or SIGINT stops it
 * gracefully (a second one at once); SIGHUP reloads the TLS certificate.
 */
import type { Command } from "commander";
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
    const logger = createLogger({ level: config.log.level, format: config.log.format, write: (line) => console.log(line) });
    const server = await startServer({
      hostname,
      port,
      dataDir,
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
    process.on("SIGINT", () => void stop("SIGINT"));
    process.on("SIGTERM", () => void stop("SIGTERM"));
    process.on("SIGHUP", () => void reload());
  });
}
