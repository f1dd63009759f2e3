/**
 * @module The registry's metrics: HTTP traffic by route, method and
 * status, latency, bytes in and out, uploads in progress, auth failures,
 * and what the store holds (read from the database when scraped).
 *
 * Adding a metric: register it on `metrics.registry` here. GC runs happen
 * in another process (`mcr gc` from cron) as well as through /v1/gc, so
 * they belong in a collector that reads the gc runs table at scrape time:
 * see `addGcCollector` below, the hook for it.
 */
import { registryStats, type RegistryStats } from "../../lib/registry/health.ts";
import type { Registry } from "../../lib/registry/registry.ts";
import { routePatterns } from "../v2/router.ts";
import { MetricsRegistry, type Sample } from "./prometheus.ts";

/** Request latency buckets in seconds: API calls are milliseconds, blob uploads can take minutes. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
/** Database aggregates are read at most this often, however often Prometheus scrapes. */
const STATS_TTL_MS = 10_000;
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

const V2_ROUTES = Object.entries(routePatterns).map(([resource, pattern]) => ({ label: `v2/${resource}`, pattern }));

/** The route label of a path: `v2/<resource>`, `v2/token`, `v1/<area>`, `metrics`, or `other`. Never a repository name. */
export function routeLabel(pathname: string): string {
  if (pathname === "/v2/token") return "v2/token";
  if (pathname === "/v2" || pathname.startsWith("/v2/")) {
    for (const { label, pattern } of V2_ROUTES) if (pattern.test(pathname)) return label;
    return "v2/unknown";
  }
  const v1 = /^\/v1\/([a-z]+)/.exec(pathname);
  if (v1) return `v1/${v1[1]}`;
  if (pathname === "/metrics") return "metrics";
  return "other";
}

/** The method label: one of the HTTP methods the API uses, or `other`. */
export function methodLabel(method: string): string {
  return METHODS.has(method) ? method : "other";
}

/** Whether a request streams a blob upload. */
export function isUpload(route: string, method: string): boolean {
  return (route === "v2/upload" && (method === "PATCH" || method === "PUT")) || (route === "v2/uploads" && method === "POST");
}

/** Every metric the server exports. */
export class ServerMetrics {
  readonly registry = new MetricsRegistry();
  readonly requests = this.registry.counter("mcr_http_requests_total", "HTTP requests answered, by route, method and status.");
  readonly duration = this.registry.histogram(
    "mcr_http_request_duration_seconds",
    "Time from request to response headers, by route and method (a blob download's body streams after).",
    LATENCY_BUCKETS,
  );
  readonly bytesIn = this.registry.counter("mcr_http_request_bytes_total", "Request body bytes read, by route.");
  readonly bytesOut = this.registry.counter("mcr_http_response_bytes_total", "Response body bytes (Content-Length), by route.");
  readonly inFlight = this.registry.gauge("mcr_http_requests_in_flight", "Requests being handled now.");
  readonly uploadsInProgress = this.registry.gauge("mcr_uploads_in_progress", "Blob upload requests streaming now.");
  readonly authFailures = this.registry.counter(
    "mcr_auth_failures_total",
    "Refused credentials (reason=invalid), throttled logins (throttled) and authenticated callers denied access (denied).",
  );
  private cached: { at: number; stats: Promise<RegistryStats> } | null = null;

  /** `worker`: this process's number among several sharing a port, put on every series as `worker="N"`. */
  constructor(
    private readonly reg: Registry,
    info: { version: string; commit: string },
    worker: number | null = null,
  ) {
    if (worker !== null) this.registry.constLabels = { worker: String(worker) };
    const stat = (pick: (s: RegistryStats) => number) => async (): Promise<Sample[]> => [{ value: pick(await this.stats()) }];
    this.registry.collector("mcr_blobs", "Blobs stored.", "gauge", stat((s) => s.blobs));
    this.registry.collector("mcr_blob_bytes", "Total size of stored blobs in bytes.", "gauge", stat((s) => s.blobBytes));
    this.registry.collector("mcr_upload_sessions", "Upload sessions open (started, not yet completed or cancelled).", "gauge", stat((s) => s.uploadSessions));
    this.registry.collector("mcr_build_info", "Version and commit of this mcr.", "gauge", () => [{ labels: info, value: 1 }]);
    const started = Date.now() / 1000;
    this.registry.collector("mcr_process_start_time_seconds", "Start time of the process, Unix seconds.", "gauge", () => [{ value: started }]);
    this.registry.collector("mcr_process_resident_memory_bytes", "Resident memory of the process.", "gauge", () => [{ value: process.memoryUsage.rss() }]);
  }

  /**
   * The hook for GC metrics: pass a function that reads the gc runs table
   * (e.g. `mcr_gc_runs_total{outcome}`, `mcr_gc_last_run_timestamp_seconds`,
   * `mcr_gc_reclaimed_bytes_total`) and returns its samples.
   */
  addGcCollector(name: string, help: string, type: "counter" | "gauge", collect: () => Promise<Sample[]>): void {
    this.registry.collector(name, help, type, collect);
  }

  /** Records one answered request. */
  observe(r: { route: string; method: string; status: number; seconds: number; bytesIn: number; bytesOut: number; hadCredentials: boolean }): void {
    this.requests.inc({ route: r.route, method: r.method, status: String(r.status) });
    this.duration.observe({ route: r.route, method: r.method }, r.seconds);
    if (r.bytesIn > 0) this.bytesIn.inc({ route: r.route }, r.bytesIn);
    if (r.bytesOut > 0) this.bytesOut.inc({ route: r.route }, r.bytesOut);
    if (r.status === 401 && r.hadCredentials) this.authFailures.inc({ reason: "invalid" });
    else if (r.status === 429) this.authFailures.inc({ reason: "throttled" });
    else if (r.status === 403) this.authFailures.inc({ reason: "denied" });
  }

  /** The Prometheus text exposition. */
  render(): Promise<string> {
    return this.registry.render();
  }

  private stats(): Promise<RegistryStats> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at > STATS_TTL_MS) {
      const stats = registryStats(this.reg);
      // A failed read is not cached: the next scrape tries again.
      stats.catch(() => (this.cached = null));
      this.cached = { at: now, stats };
    }
    return this.cached.stats;
  }
}
