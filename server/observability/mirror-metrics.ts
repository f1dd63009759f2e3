/**
 * @module The pull-through cache's metrics, one series per upstream, read
 * from the cache's counters at scrape time. The counters are per process,
 * as Prometheus counters are (each worker is scraped on its own).
 */
import type { Mirror, MirrorCounters } from "../../lib/mirror/mirror.ts";
import type { ServerMetrics } from "./server-metrics.ts";

const FAMILIES: [keyof MirrorCounters, string, string][] = [
  ["hits", "mcr_mirror_cache_hits_total", "Mirror requests answered from the cache without asking the upstream, by upstream."],
  ["misses", "mcr_mirror_cache_misses_total", "Manifests and blobs fetched from the upstream because the cache lacked them, by upstream."],
  ["revalidations", "mcr_mirror_revalidations_total", "Cached tags checked against the upstream after their TTL (HEAD; refetched when moved), by upstream."],
  ["staleServes", "mcr_mirror_stale_serves_total", "Cached tags served stale because the upstream was unreachable, failing or throttling, by upstream."],
  ["notFoundHits", "mcr_mirror_not_found_hits_total", "Requests answered 404 from the memory of the upstream's recent not-found answer, without asking it again, by upstream."],
  ["upstreamErrors", "mcr_mirror_upstream_errors_total", "Upstream exchanges that failed (unreachable, 5xx, 429, wrong bytes), by upstream."],
  ["bytesFetched", "mcr_mirror_fetched_bytes_total", "Bytes of manifests and blobs fetched from the upstream and stored, by upstream."],
];

/** Adds the cache's series to the server's /metrics. */
export function addMirrorMetrics(metrics: ServerMetrics, mirror: Mirror): void {
  for (const [counter, name, help] of FAMILIES) {
    metrics.registry.collector(name, help, "counter", () =>
      [...mirror.counters].map(([upstream, counters]) => ({ labels: { upstream }, value: counters[counter] })),
    );
  }
}
