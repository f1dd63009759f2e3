/**
 * @module Manifests through the cache. A manifest by digest is cached for
 * good. A tag is served from the cache while younger than its upstream's
 * `tag_ttl`, then revalidated with a HEAD and fetched again only when its
 * digest moved; when the upstream is unreachable, failing or throttling, a
 * cached tag is served stale, and only a tag never cached is an error.
 * After `prepareManifest` the repository answers like any other.
 */
import type { AuditContext } from "../audit/audit-log.ts";
import { fail, RegistryError } from "../errors.ts";
import { linkedDigests } from "../db/queries/blobs.ts";
import { findManifestByDigest, findManifestByTag, manifestIdsByDigest, upsertManifest } from "../db/queries/manifests.ts";
import { addPending, markMirrorRepository, resolvePendingChild, setTagChecked, tagCheckedAt } from "../db/queries/mirror.ts";
import { findRepositoryId, upsertRepository } from "../db/queries/repositories.ts";
import { setTag } from "../db/queries/tags.ts";
import { sha256Digest } from "../oci/digest.ts";
import { parseManifest, type ParsedManifest } from "../oci/manifest.ts";
import { manifestMediaTypes } from "../oci/media-types.ts";
import { isSha256Digest, isTag } from "../oci/names.ts";
import { manifestRecord } from "../registry/manifests.ts";
import type { Mirror, MirrorTarget } from "./mirror.ts";
import { UpstreamError } from "./upstream-client.ts";

/** How a request was answered: from a fresh cache, fetched, checked upstream, or stale. */
export type CacheOutcome = "hit" | "miss" | "revalidated" | "stale";

/**
 * Makes the cache hold `reference` (tag or digest) of target `t` as
 * fresh as its TTL asks, fetching from the upstream as needed; requests
 * for the same reference at once share one upstream exchange. Returns
 * how; throws MANIFEST_UNKNOWN when the upstream has no such manifest and
 * UNAVAILABLE when it cannot say and nothing is cached.
 */
export async function prepareManifest(m: Mirror, t: MirrorTarget, reference: string, accepted: readonly string[], by: AuditContext): Promise<CacheOutcome> {
  // Anything else names no manifest; the ordinary lookup answers it.
  if (!isSha256Digest(reference) && !isTag(reference)) return "hit";
  if (await isFresh(m, t, reference)) {
    m.count(t.upstream.name, "hits");
    return "hit";
  }
  const key = `${t.localName}\n${reference}`;
  const notFound = m.notFound.recall(key, m.reg.now());
  if (notFound !== null) {
    m.count(t.upstream.name, "notFoundHits");
    fail("MANIFEST_UNKNOWN", notFound, { upstream: t.upstream.name });
  }
  const flight = m.manifestFlights.run(key, async () => {
    try {
      return await refresh(m, t, reference, accepted, by);
    } catch (error) {
      // The upstream's own "no such manifest" (not an outage): not asked again for not_found_ttl.
      if (error instanceof RegistryError && error.code === "MANIFEST_UNKNOWN" && t.upstream.notFoundTtlMs > 0) {
        m.notFound.remember(key, m.reg.now() + t.upstream.notFoundTtlMs, `${error.message} (not asked again for ${Math.ceil(t.upstream.notFoundTtlMs / 1000)} s)`);
      }
      throw error;
    }
  });
  return await flight.promise;
}

async function isFresh(m: Mirror, t: MirrorTarget, reference: string): Promise<boolean> {
  if (isSha256Digest(reference)) return (await findManifestByDigest(m.reg.db, t.localName, reference)) !== undefined;
  const checked = await tagCheckedAt(m.reg.db, t.localName, reference);
  if (checked === null || m.reg.now() - checked >= t.upstream.tagTtlMs) return false;
  return (await findManifestByTag(m.reg.db, t.localName, reference)) !== undefined;
}

async function refresh(m: Mirror, t: MirrorTarget, reference: string, accepted: readonly string[], by: AuditContext): Promise<CacheOutcome> {
  // A request that finished the same work just before this one began has left it fresh.
  if (await isFresh(m, t, reference)) return "hit";
  const tag = isTag(reference) ? reference : null;
  const cached = tag === null ? undefined : await findManifestByTag(m.reg.db, t.localName, tag);
  const accept = (accepted.length > 0 ? accepted : manifestMediaTypes).join(", ");
  const name = t.upstream.name;
  try {
    if (cached && tag !== null) {
      const head = await t.client.request("HEAD", t.remoteName, `${t.remoteName}/manifests/${tag}`, { accept });
      await head.body.dump();
      if (head.status === 200 && head.headers["docker-content-digest"] === cached.digest) {
        await markChecked(m, t.localName, tag);
        m.count(name, "revalidations");
        return "revalidated";
      }
      if (head.status !== 200 && head.status !== 404) throw new UpstreamError(`${name} answered ${head.status} to a HEAD of ${t.remoteName}:${tag}`);
    }
    await fetchManifest(m, t, reference, accept, tag, by);
    m.count(name, cached ? "revalidations" : "misses");
    return cached ? "revalidated" : "miss";
  } catch (error) {
    if (!(error instanceof UpstreamError)) throw error;
    m.count(name, "upstreamErrors");
    if (cached) {
      m.count(name, "staleServes");
      m.onEvent({ level: "warn", message: `mirror: serving ${t.localName}:${tag} stale: ${error.message}`, fields: { upstream: name, repository: t.localName, tag: tag ?? "" } });
      return "stale";
    }
    m.onEvent({ level: "warn", message: `mirror: fetching ${t.localName}:${reference} failed, nothing cached: ${error.message}`, fields: { upstream: name, repository: t.localName } });
    fail("UNAVAILABLE", `cannot fetch ${t.remoteName}:${reference} from upstream ${name}, and it was never cached: ${error.message}`, {
      upstream: name,
      ...(error.retryAfter !== null ? { retryAfter: error.retryAfter } : {}),
    });
  }
}

async function markChecked(m: Mirror, localName: string, tag: string): Promise<void> {
  const id = await findRepositoryId(m.reg.db, localName);
  if (id !== null) await setTagChecked(m.reg.db, id, tag, m.reg.now());
}

/** GETs the manifest upstream, checks it and stores it (moving `tag` to it). */
async function fetchManifest(m: Mirror, t: MirrorTarget, reference: string, accept: string, tag: string | null, by: AuditContext): Promise<void> {
  const name = t.upstream.name;
  const res = await t.client.request("GET", t.remoteName, `${t.remoteName}/manifests/${reference}`, { accept });
  if (res.status !== 200) {
    await res.body.dump();
    if (res.status === 404 || res.status === 401 || res.status === 403) {
      fail("MANIFEST_UNKNOWN", `manifest unknown to upstream ${name}: it answered ${res.status} for ${t.remoteName}:${reference}`, { upstream: name, status: res.status });
    }
    throw new UpstreamError(`${name} answered ${res.status} for ${t.remoteName}:${reference}`);
  }
  const limit = m.reg.limits.maxManifestBytes;
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > limit) {
      res.body.destroy();
      throw new UpstreamError(`${name} sent a manifest larger than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  const bytes = Buffer.concat(chunks);
  const digest = sha256Digest(bytes);
  const claimed = tag === null ? reference : res.headers["docker-content-digest"];
  if (claimed !== undefined && claimed !== digest) throw new UpstreamError(`${name} sent a manifest whose digest ${digest} is not ${claimed}`);
  let parsed: ParsedManifest;
  try {
    parsed = parseManifest(bytes, res.headers["content-type"] ?? null);
  } catch (error) {
    if (!(error instanceof RegistryError)) throw error;
    throw new UpstreamError(`${name} sent a manifest mcr cannot read: ${error.message}`);
  }
  await storeManifest(m, t, bytes, digest, parsed, tag);
  m.count(name, "bytesFetched", bytes.byteLength);
  m.reg.audit.record({ ...by, event: "mirror.fetched", outcome: "success", repository: t.localName, digest, tag, detail: { upstream: name, kind: "manifest", size: bytes.byteLength } });
}

/** One transaction: the manifest, the references whose targets are cached, the rest as pending, the tag. */
async function storeManifest(m: Mirror, t: MirrorTarget, bytes: Uint8Array, digest: string, parsed: ParsedManifest, tag: string | null): Promise<void> {
  await m.reg.db.transaction().execute(async (trx) => {
    const now = m.reg.now();
    const repositoryId = await upsertRepository(trx, t.localName, now);
    await markMirrorRepository(trx, repositoryId, t.upstream.name, now);
    const present = await linkedDigests(trx, repositoryId, parsed.blobs);
    const children = await manifestIdsByDigest(trx, repositoryId, parsed.children);
    const record = manifestRecord(repositoryId, digest, bytes, parsed, now);
    const id = await upsertManifest(trx, record.row, parsed.blobs.filter((d) => present.has(d)), [...children.values()], record.referrerAnnotations);
    await addPending(trx, id, [
      ...parsed.blobs.filter((d) => !present.has(d)).map((d) => ({ digest: d, kind: "blob" as const })),
      ...parsed.children.filter((d) => !children.has(d)).map((d) => ({ digest: d, kind: "manifest" as const })),
    ]);
    await resolvePendingChild(trx, repositoryId, digest, id);
    if (tag !== null) {
      await setTag(trx, repositoryId, tag, id, now);
      await setTagChecked(trx, repositoryId, tag, now);
    }
  });
}
