/**
 * @module Which /v2 requests go to the pull-through cache: a name under an
 * upstream's prefix (`docker.io/library/alpine`), containerd's mirror
 * requests (`?ns=docker.io`), and, with a default upstream, reads of
 * names that match no local repository (Docker's `registry-mirrors`).
 * The request's name becomes the local cache's, so the policy decides on
 * it like on any repository. Writes into a mirror namespace are refused.
 */
import { fail } from "../../lib/errors.ts";
import { refuseWrite, type Mirror, type MirrorTarget } from "../../lib/mirror/mirror.ts";
import type { CacheOutcome } from "../../lib/mirror/mirror-manifests.ts";
import { checkRepositoryName } from "../../lib/oci/names.ts";
import type { Match } from "./router.ts";

/** A request bound for an upstream: the cache and where it goes. */
export interface MirrorRoute {
  mirror: Mirror;
  target: MirrorTarget;
}

const READS = ["GET", "HEAD"];
/** What a default upstream answers for a name that is not local. */
const DEFAULT_RESOURCES = ["manifest", "blob", "tags"];

/** The mirror route of a matched request, rewriting `match.params.name`; null for local repositories. */
export async function routeMirror(mirror: Mirror | null, match: Match, method: string, url: URL): Promise<MirrorRoute | null> {
  if (!mirror || match.params.name === "") return null;
  const name = match.params.name;
  const ns = url.searchParams.get("ns");
  let target = mirror.byPrefix(name);
  if (!target && ns !== null) {
    target = mirror.byNamespace(ns, name);
    // containerd falls back to its next host on a 404; a write is not a mirror request, and keeps its local name.
    if (!target && READS.includes(method)) fail("NAME_UNKNOWN", `no upstream is configured for namespace ${ns.slice(0, 200)}`, { ns: ns.slice(0, 200) });
  }
  if (target && !READS.includes(method)) refuseWrite(target);
  if (!target && READS.includes(method) && DEFAULT_RESOURCES.includes(match.resource)) {
    // Only with a default upstream does a read of a local name cost a lookup.
    const fallback = mirror.byDefault(name);
    if (fallback && !(await mirror.isLocal(name))) target = fallback;
  }
  if (!target) return null;
  match.params.name = checkRepositoryName(target.localName);
  return { mirror, target };
}

/** Headers telling how the cache answered: `X-Mcr-Cache`, and a `Warning` when the answer is stale. */
export function cacheHeaders(outcome: CacheOutcome | null | undefined | false): Record<string, string> {
  if (!outcome) return {};
  if (outcome !== "stale") return { "X-Mcr-Cache": outcome };
  return { "X-Mcr-Cache": "stale", Warning: '110 mcr "Response is stale: the upstream could not be reached to revalidate this tag"' };
}
