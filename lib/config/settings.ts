/**
 * @module Every configuration setting, declared once: its TOML key, type,
 * default, environment variable, `mcr serve` flag and whether it is a
 * secret. Loading, validation, `mcr config print` and the docs test all
 * read this table.
 */
import type { UpstreamConfig } from "../mirror/upstream-config.ts";
import * as v from "./values.ts";

/** Log levels, most verbose first. */
export const logLevels = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof logLevels)[number];
/** Log line formats. */
export const logFormats = ["text", "json"] as const;
export type LogFormat = (typeof logFormats)[number];

/** One setting of the table. `defaultValue` is written as in the file (`"5m"`, not 300000). */
export interface Setting<T> {
  type: v.ValueType<T>;
  defaultValue: string | boolean;
  /** The environment variable that overrides the file. */
  env: string;
  /** The `mcr serve` flag (without `--`) that overrides the environment, if any. */
  flag?: string;
  secret?: boolean;
  help: string;
}

function setting<T>(type: v.ValueType<T>, defaultValue: string | boolean, rest: Omit<Setting<T>, "type" | "defaultValue">): Setting<T> {
  return { type, defaultValue, ...rest };
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The settings, by TOML key (`section.key`, or `section.table.key`), in the order they are printed. */
export const settings = {
  "server.listen": setting(v.listen, "127.0.0.1:5000", { env: "MCR_LISTEN", flag: "listen", help: "address to listen on" }),
  "server.base_url": setting(v.baseUrl, "", {
    env: "MCR_SERVER_BASE_URL",
    flag: "base-url",
    help: "public URL clients use: the token realm, service and audience (set it in production); empty: taken from each request's Host and scheme",
  }),
  "server.idle_timeout": setting(v.duration(0, 255 * SECOND), "255s", {
    env: "MCR_SERVER_IDLE_TIMEOUT",
    help: "close a connection that moves no bytes this long (0s: never; at most 255s). There is no total request timeout, so slow multi-GB uploads are never cut",
  }),
  "server.shutdown_timeout": setting(v.duration(0, HOUR), "30s", {
    env: "MCR_SERVER_SHUTDOWN_TIMEOUT",
    help: "on SIGTERM, how long requests in flight may take to finish; unfinished uploads stay resumable",
  }),
  "server.workers": setting(v.integer(1, 64), "1", {
    env: "MCR_SERVER_WORKERS",
    flag: "workers",
    help: "processes serving the one port over the one data directory (a supervisor restarts any that dies); raise it to the cores you give mcr when small requests (pulls, HEADs, tag lists) keep one core busy",
  }),
  "server.trusted_proxies": setting(v.addressList, "", {
    env: "MCR_SERVER_TRUSTED_PROXIES",
    help: "reverse proxies (IP addresses, CIDR ranges) whose X-Forwarded-For names the client (login throttling, audit, logs) and whose X-Forwarded-Proto/-Host name the public URL when base_url is unset; empty: none",
  }),
  "server.tls.cert": setting(v.optionalPath, "", { env: "MCR_SERVER_TLS_CERT", flag: "tls-cert", help: "PEM certificate chain; serve HTTPS when set (reloaded on SIGHUP)" }),
  "server.tls.key": setting(v.optionalPath, "", { env: "MCR_SERVER_TLS_KEY", flag: "tls-key", help: "PEM private key of the certificate" }),
  "storage.data_dir": setting(v.path, "./mcr-data", { env: "MCR_DATA_DIR", flag: "data", help: "the data directory: database, blobs, uploads" }),
  "storage.database": setting(v.databaseUrl, "", {
    env: "MCR_DATABASE",
    help: "the metadata database: empty for SQLite in the data directory, or postgres://user@host:5432/db (password from MCR_DATABASE_PASSWORD_FILE or PGPASSWORD, not the file)",
  }),
  "storage.s3.endpoint": setting(v.baseUrl, "", { env: "MCR_S3_ENDPOINT", help: "S3 endpoint URL (e.g. http://127.0.0.1:7480 for Ceph RGW or MinIO); empty: AWS, https://s3.<region>.amazonaws.com" }),
  "storage.s3.region": setting(v.plainText, "us-east-1", { env: "MCR_S3_REGION", help: "S3 region the requests are signed for" }),
  "storage.s3.bucket": setting(v.plainText, "", {
    env: "MCR_S3_BUCKET",
    help: "when set, blobs and uploads are kept in this S3 bucket instead of the data directory (the database stays in data_dir); docs/s3.md",
  }),
  "storage.s3.prefix": setting(v.plainText, "", { env: "MCR_S3_PREFIX", help: "key prefix of everything mcr writes in the bucket (e.g. mcr/); empty: the bucket's root" }),
  "storage.s3.access_key_id": setting(v.plainText, "", { env: "MCR_S3_ACCESS_KEY_ID", help: "S3 access key id" }),
  "storage.s3.secret_access_key": setting(v.issuedSecret, "", { env: "MCR_S3_SECRET_ACCESS_KEY", secret: true, help: "S3 secret access key (or secret_access_key_file)" }),
  "storage.s3.secret_access_key_file": setting(v.optionalPath, "", {
    env: "MCR_S3_SECRET_ACCESS_KEY_FILE",
    help: "file whose first line is the S3 secret access key (keeps it out of the configuration file)",
  }),
  "storage.s3.force_path_style": setting(v.boolean, true, {
    env: "MCR_S3_FORCE_PATH_STYLE",
    help: "address the bucket as ENDPOINT/BUCKET/KEY (what Ceph RGW, MinIO and most custom endpoints want); false: BUCKET.ENDPOINT/KEY (AWS virtual-hosted style)",
  }),
  "storage.s3.redirect": setting(v.boolean, false, {
    env: "MCR_S3_REDIRECT",
    help: "blob GETs answer 307 to a presigned URL valid 5 minutes (clients then fetch from the bucket directly) instead of streaming through mcr",
  }),
  "auth.token_ttl": setting(v.duration(30 * SECOND, DAY), "5m", { env: "MCR_AUTH_TOKEN_TTL", help: "lifetime of registry tokens issued by /v2/token" }),
  "auth.anonymous": setting(v.boolean, true, {
    env: "MCR_AUTH_ANONYMOUS",
    help: "false refuses every anonymous request, whatever the access policy's rules for anonymous say",
  }),
  "auth.signing_key_file": setting(v.optionalPath, "", {
    env: "MCR_AUTH_SIGNING_KEY_FILE",
    help: "the Ed25519 key (PEM, mode 0600) that signs registry tokens, one file every replica reads; create it once with mcr auth keygen FILE. Empty: <data_dir>/signing-key.pem, created at first start",
  }),
  "gc.grace": setting(v.duration(0, 365 * DAY), "1h", {
    env: "MCR_GC_GRACE",
    help: "garbage collection keeps anything pushed or used within this period (read by mcr gc)",
  }),
  "audit.retention": setting(v.duration(DAY, 100 * 365 * DAY), "90d", { env: "MCR_AUDIT_RETENTION", help: "how long audit events are kept; the server prunes older ones hourly" }),
  "audit.noise_rows": setting(v.integer(1000, 1_000_000_000), "1000000", {
    env: "MCR_AUDIT_NOISE_ROWS",
    help: "failed and throttled logins, denials and pulls kept at most (newest first); pushes, deletes and account changes are kept for the full retention",
  }),
  "limits.uploads_per_account": setting(v.integer(1, 100_000), "32", {
    env: "MCR_LIMITS_UPLOADS_PER_ACCOUNT",
    help: "requests streaming bytes to store (blob chunks, manifests) one account may have at once; more answer 429",
  }),
  "limits.uploads_total": setting(v.integer(1, 1_000_000), "128", { env: "MCR_LIMITS_UPLOADS_TOTAL", help: "the same, for all accounts together" }),
  "limits.upload_sessions": setting(v.integer(1, 10_000_000), "10000", { env: "MCR_LIMITS_UPLOAD_SESSIONS", help: "upload sessions open in the whole registry; more answer 429" }),
  "limits.upload_sessions_per_account": setting(v.integer(1, 10_000_000), "1000", {
    env: "MCR_LIMITS_UPLOAD_SESSIONS_PER_ACCOUNT",
    help: "upload sessions one account (or anonymous address, IPv6 by /64) may have open; more answer 429",
  }),
  "limits.upload_session_reclaim_idle": setting(v.duration(MINUTE, DAY), "10m", {
    env: "MCR_LIMITS_UPLOAD_SESSION_RECLAIM_IDLE",
    help: "under pressure (3/4 of upload_sessions open, or an account at its limit) sessions idle this long are removed to make room",
  }),
  "limits.upload_session_age": setting(v.duration(MINUTE, 365 * DAY), "7d", {
    env: "MCR_LIMITS_UPLOAD_SESSION_AGE",
    help: "an upload session this old (from its start) is refused and removed",
  }),
  "limits.manifest_size": setting(v.integer(4 * 1024 * 1024, 64 * 1024 * 1024), "4194304", { env: "MCR_LIMITS_MANIFEST_SIZE", help: "largest manifest accepted, in bytes (at least 4 MiB, as the OCI spec asks)" }),
  "limits.repository_quota": setting(v.optionalSize, "", { env: "MCR_LIMITS_REPOSITORY_QUOTA", help: "bytes one repository may hold (its blobs counted once), e.g. 20GiB; empty: no quota; over it answers 413 DENIED before the bytes are written" }),
  "log.level": setting(v.oneOf(logLevels), "info", { env: "MCR_LOG_LEVEL", flag: "log-level", help: "least severe level logged" }),
  "log.format": setting(v.oneOf(logFormats), "text", { env: "MCR_LOG_FORMAT", flag: "log-format", help: "text lines, or one JSON object per line" }),
  "ui.enabled": setting(v.boolean, true, { env: "MCR_UI_ENABLED", help: "serve the web UI at / (it shows each viewer only what the policy lets them pull)" }),
  "metrics.enabled": setting(v.boolean, true, { env: "MCR_METRICS_ENABLED", help: "serve Prometheus metrics on GET /metrics" }),
  "metrics.token": setting(v.secret, "", {
    env: "MCR_METRICS_TOKEN",
    secret: true,
    help: "when set, /metrics requires Authorization: Bearer <token>",
  }),
} as const;

/** A setting's key. */
export type SettingKey = keyof typeof settings;
/** The typed value of setting `K`. */
export type SettingValue<K extends SettingKey> = ReturnType<(typeof settings)[K]["type"]["parse"]>;

/** The sections a file may have. */
export const sections = [...new Set(Object.keys(settings).map((key) => key.split(".")[0]!))];

/** The effective configuration. Durations are milliseconds; paths are absolute. */
export interface Config {
  server: {
    listen: string;
    base_url: string | null;
    idle_timeout: number;
    shutdown_timeout: number;
    workers: number;
    trusted_proxies: string[];
    tls: { cert: string | null; key: string | null };
  };
  storage: {
    data_dir: string;
    database: string | null;
    s3: {
      endpoint: string | null;
      region: string;
      bucket: string;
      prefix: string;
      access_key_id: string;
      secret_access_key: string | null;
      secret_access_key_file: string | null;
      force_path_style: boolean;
      redirect: boolean;
    };
  };
  auth: { token_ttl: number; anonymous: boolean; signing_key_file: string | null };
  gc: { grace: number };
  audit: { retention: number; noise_rows: number };
  limits: {
    uploads_per_account: number;
    uploads_total: number;
    upload_sessions: number;
    upload_sessions_per_account: number;
    upload_session_reclaim_idle: number;
    upload_session_age: number;
    manifest_size: number;
    repository_quota: number | null;
  };
  log: { level: LogLevel; format: LogFormat };
  ui: { enabled: boolean };
  metrics: { enabled: boolean; token: string | null };
  /** The `[[upstream]]` entries: registries mirrored as a pull-through cache (docs/mirror.md). */
  upstreams: UpstreamConfig[];
}

/** Builds the Config object from a value per setting. */
export function assemble(get: <K extends SettingKey>(key: K) => SettingValue<K>, upstreams: UpstreamConfig[] = []): Config {
  return {
    upstreams,
    server: {
      listen: get("server.listen"),
      base_url: get("server.base_url"),
      idle_timeout: get("server.idle_timeout"),
      shutdown_timeout: get("server.shutdown_timeout"),
      workers: get("server.workers"),
      trusted_proxies: get("server.trusted_proxies"),
      tls: { cert: get("server.tls.cert"), key: get("server.tls.key") },
    },
    storage: {
      data_dir: get("storage.data_dir"),
      database: get("storage.database"),
      s3: {
        endpoint: get("storage.s3.endpoint"),
        region: get("storage.s3.region"),
        bucket: get("storage.s3.bucket"),
        prefix: get("storage.s3.prefix"),
        access_key_id: get("storage.s3.access_key_id"),
        secret_access_key: get("storage.s3.secret_access_key"),
        secret_access_key_file: get("storage.s3.secret_access_key_file"),
        force_path_style: get("storage.s3.force_path_style"),
        redirect: get("storage.s3.redirect"),
      },
    },
    auth: { token_ttl: get("auth.token_ttl"), anonymous: get("auth.anonymous"), signing_key_file: get("auth.signing_key_file") },
    gc: { grace: get("gc.grace") },
    audit: { retention: get("audit.retention"), noise_rows: get("audit.noise_rows") },
    limits: {
      uploads_per_account: get("limits.uploads_per_account"),
      uploads_total: get("limits.uploads_total"),
      upload_sessions: get("limits.upload_sessions"),
      upload_sessions_per_account: get("limits.upload_sessions_per_account"),
      upload_session_reclaim_idle: get("limits.upload_session_reclaim_idle"),
      upload_session_age: get("limits.upload_session_age"),
      manifest_size: get("limits.manifest_size"),
      repository_quota: get("limits.repository_quota"),
    },
    log: { level: get("log.level"), format: get("log.format") },
    ui: { enabled: get("ui.enabled") },
    metrics: { enabled: get("metrics.enabled"), token: get("metrics.token") },
  };
}
