/**
 * @module The pull-through cache: which upstream a repository name reaches
 * (a prefix such as `docker.io/…`, containerd's `?ns=`, or the default
 * upstream Docker's `registry-mirrors` sends to), and the counters and
 * events every upstream's traffic feeds. Manifests and blobs are fetched in
 * mirror-manifests.ts and mirror-blobs.ts.
 */
import type { Scope } from "../auth/scope.ts";
import { findRepositoryId } from "../db/queries/repositories.ts";
import { RegistryError } from "../errors.ts";
import { checkRepositoryName } from "../oci/names.ts";
import type { Registry } from "../registry/registry.ts";
import type { CacheOutcome } from "./mirror-manifests.ts";
import { SingleFlight } from "./single-flight.ts";
import { UpstreamClient } from "./upstream-client.ts";
import type { UpstreamConfig } from "./upstream-config.ts";

/** Where a request for a mirrored repository goes. */
export interface MirrorTarget {
  upstream: UpstreamConfig;
  client: UpstreamClient;
  /** The repository that caches it here, e.g. `docker.io/library/alpine`. */
  localName: string;
  /** Its name upstream, e.g. `library/alpine`. */
  remoteName: string;
}

/** Counters of one upstream, for /metrics. */
export interface MirrorCounters {
  hits: number;
  misses: number;
  revalidations: number;
  staleServes: number;
  notFoundHits: number;
  upstreamErrors: number;
  bytesFetched: number;
}

/** How many not-found answers a process remembers at most (the oldest go first): client-chosen names must not grow memory. */
export const NOT_FOUND_ENTRIES = 10_000;

/**
 * Upstream "no such manifest" answers, each until a time, so a client
 * asking again and again for a name that does not exist (a typo in a CI
 * job) costs the upstream, and its rate limit, one request per TTL.
 */
export class NotFoundMemory {
  private readonly entries = new Map<string, { until: number; message: string }>();

  constructor(private readonly max: number) {}

  /** Remembers `key`'s answer `message` until `until`. */
  remember(key: string, until: number, message: string): void {
    this.entries.delete(key);
    this.entries.set(key, { until, message });
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.max) break;
      this.entries.delete(oldest);
    }
  }

  /** The remembered answer for `key` if it still stands at `now`, else null. */
  recall(key: string, now: number): string | null {
    const entry = this.entries.get(key);
    if (!entry) return null;
    if (now < entry.until) return entry.message;
    this.entries.delete(key);
    return null;
  }

  get size(): number {
    return this.entries.size;
  }
}

/** Refuses a push, delete, upload or mount into the mirror `target` with 403 DENIED, naming its upstream. */
export function refuseWrite(target: MirrorTarget): never {
  throw new RegistryError("DENIED", `${target.localName} is a read-only mirror of ${target.upstream.url}: pushes, deletes and mounts into it are refused`, {
    repository: target.localName,
    upstream: target.upstream.name,
  });
}

/** Something an operator should see in the log. */
export interface MirrorEvent {
  level: "info" | "warn";
  message: string;
  fields: Record<string, string | number>;
}

/** The cache's state in one process: upstream clients, counters, fetches in flight. */
export class Mirror {
  readonly targets: readonly { config: UpstreamConfig; client: UpstreamClient }[];
  readonly counters = new Map<string, MirrorCounters>();
  /** Manifest and tag fetches in flight, by repository and reference. */
  readonly manifestFlights = new SingleFlight<CacheOutcome>();
  /** Blob fetches in flight, by repository and digest. */
  readonly blobFlights = new SingleFlight<void>();
  /** Manifests the upstream said it does not have, by repository and reference (see `not_found_ttl`). */
  readonly notFound = new NotFoundMemory(NOT_FOUND_ENTRIES);

  constructor(
    readonly reg: Registry,
    upstreams: readonly UpstreamConfig[],
    readonly onEvent: (event: MirrorEvent) => void = () => {},
  ) {
    this.targets = upstreams.map((config) => ({ config, client: new UpstreamClient(config, () => reg.now()) }));
    for (const u of upstreams) this.counters.set(u.name, { hits: 0, misses: 0, revalidations: 0, staleServes: 0, notFoundHits: 0, upstreamErrors: 0, bytesFetched: 0 });
  }

  /** Adds to a counter of upstream `name`. */
  count(name: string, counter: keyof MirrorCounters, by = 1): void {
    const c = this.counters.get(name);
    if (c) c[counter] += by;
  }

  /** Throws DENIED when `name` is in an upstream's namespace: mirrored repositories are read-only to clients, whichever API asks. */
  checkWritable(name: string): void {
    const target = this.byPrefix(name);
    if (target) refuseWrite(target);
  }

  /** The upstream whose namespace `name` is in (`docker.io/library/alpine`), if any: such names are read-only. */
  byPrefix(name: string): MirrorTarget | null {
    const t = this.targets.find((t) => name.startsWith(`${t.config.name}/`));
    return t ? this.target(t, name.slice(t.config.name.length + 1)) : null;
  }

  /** The upstream named by containerd's `?ns=` (its `[[upstream]]` name), if configured. */
  byNamespace(ns: string, name: string): MirrorTarget | null {
    const t = this.targets.find((t) => t.config.name === ns);
    return t ? this.target(t, name) : null;
  }

  /** The default upstream for `name` (Docker's `registry-mirrors`), if one is configured. */
  byDefault(name: string): MirrorTarget | null {
    const t = this.targets.find((t) => t.config.isDefault);
    return t ? this.target(t, name) : null;
  }

  /** Whether `name` is a repository of this registry (then no default upstream serves it). */
  async isLocal(name: string): Promise<boolean> {
    return (await findRepositoryId(this.reg.db, name)) !== null;
  }

  /**
   * Token scopes with, for each repository a client asks to pull under a
   * name it reaches through `?ns=` or the default upstream, the same pull on
   * the cache's local name (which the access check will look for). The
   * token endpoint still grants each scope only as far as the policy allows.
   */
  async expandScopes(scopes: readonly Scope[]): Promise<Scope[]> {
    const out = [...scopes];
    for (const scope of scopes) {
      const pull = scope.actions.includes("pull") || scope.actions.includes("*");
      if (scope.type !== "repository" || !pull || !isRepositoryName(scope.name) || this.byPrefix(scope.name)) continue;
      if (await this.isLocal(scope.name)) continue;
      for (const t of this.targets) out.push({ type: "repository", name: this.target(t, scope.name).localName, actions: ["pull"] });
    }
    return out;
  }

  /** Closes the upstream connections. */
  async close(): Promise<void> {
    await Promise.all(this.targets.map((t) => t.client.close()));
  }

  private target(t: { config: UpstreamConfig; client: UpstreamClient }, remote: string): MirrorTarget {
    // Docker Hub's official images live under library/: `alpine` is `library/alpine`.
    const remoteName = t.config.name === "docker.io" && !remote.includes("/") ? `library/${remote}` : remote;
    return { upstream: t.config, client: t.client, localName: `${t.config.name}/${remoteName}`, remoteName };
  }
}

function isRepositoryName(name: string): boolean {
  try {
    checkRepositoryName(name);
    return true;
  } catch (error) {
    if (error instanceof RegistryError) return false;
    throw error;
  }
}
