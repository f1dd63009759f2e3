/**
 * @module The tags of one repository in detail: what each names (digest,
 * media type, artifact type), for which platforms, and how many bytes a
 * pull of it transfers at most (the manifest, child manifests and every
 * distinct blob they reference).
 */
import { repositoryContents } from "../db/queries/repository-usage.ts";
import { imageConfigMediaTypes, indexMediaTypes } from "../oci/media-types.ts";
import type { Registry } from "./registry.ts";
import { groupBy } from "../gc/mark-manifests.ts";

/** One tag as `mcr repo show` lists it. */
export interface TagDetail {
  name: string;
  digest: string;
  mediaType: string;
  /** Set for artifacts (signatures, SBOMs, charts); null for container images. */
  artifactType: string | null;
  /** `os/architecture[/variant]` of an image, or of each image an index lists. */
  platforms: string[];
  /** Bytes of the manifest, its child manifests and every distinct blob they reference. */
  size: number;
  /** When the tag was last pushed or moved, in ms. */
  pushedAt: number;
}

/** Image configs larger than this are not read for their platform. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/** Every tag of repository `repositoryId`, in the tags list's order. */
export async function describeTags(reg: Registry, repositoryId: number): Promise<TagDetail[]> {
  return describeTagsOf(reg, await repositoryContents(reg.db, repositoryId));
}

/** The tags in `contents` (a repository's manifests, children and blobs, and some or all of its tags), in their order. */
export async function describeTagsOf(reg: Registry, contents: Awaited<ReturnType<typeof repositoryContents>>): Promise<TagDetail[]> {
  const { manifests, children, blobs, tags } = contents;
  const byId = new Map(manifests.map((m) => [m.id, m]));
  const childrenOf = groupBy(children, (c) => c.manifest_id, (c) => c.child_id);
  const blobsOf = groupBy(blobs, (b) => b.manifest_id, (b) => b);
  const configPlatforms = new Map<string, Promise<string | null>>();

  const details: TagDetail[] = [];
  for (const tag of tags) {
    const manifest = byId.get(tag.manifest_id)!;
    // Everything a pull of the tag may fetch: the manifest, its children (recursively) and their blobs, each once.
    const seen = new Set<number>();
    const pending = [manifest.id];
    const blobSizes = new Map<string, number>();
    let size = 0;
    while (pending.length > 0) {
      const id = pending.pop()!;
      if (seen.has(id)) continue;
      seen.add(id);
      size += byId.get(id)?.size ?? 0;
      for (const blob of blobsOf.get(id) ?? []) blobSizes.set(blob.digest, blob.size);
      pending.push(...(childrenOf.get(id) ?? []));
    }
    for (const blobSize of blobSizes.values()) size += blobSize;

    const artifactType = shownArtifactType(manifest.artifact_type);
    const doc = parseJson(tag.content);
    let platforms: string[] = [];
    if (indexMediaTypes.includes(manifest.media_type)) {
      platforms = indexPlatforms(doc);
    } else if (artifactType === null) {
      const config = configDigest(doc);
      if (config !== null) {
        if (!configPlatforms.has(config)) configPlatforms.set(config, readConfigPlatform(reg, config));
        const platform = await configPlatforms.get(config)!;
        if (platform !== null) platforms = [platform];
      }
    }
    details.push({ name: tag.name, digest: manifest.digest, mediaType: manifest.media_type, artifactType, platforms, size, pushedAt: tag.updated_at });
  }
  return details;
}

/** A manifest's artifact type as shown: null for an image (its config's media type is not an artifact type). */
export function shownArtifactType(artifactType: string | null): string | null {
  return artifactType !== null && !imageConfigMediaTypes.includes(artifactType) ? artifactType : null;
}

/** `os/architecture[/variant]`, or null when the fields are missing. */
export function platformText(value: unknown): string | null {
  if (typeof value !== "object" || value === null) return null;
  const { os, architecture, variant } = value as Record<string, unknown>;
  if (typeof os !== "string" || typeof architecture !== "string") return null;
  return [os, architecture, ...(typeof variant === "string" && variant !== "" ? [variant] : [])].join("/");
}

/** The platforms an index lists, in order, without attestation entries (`unknown/unknown`). */
function indexPlatforms(doc: unknown): string[] {
  const entries = (doc as { manifests?: unknown } | null)?.manifests;
  if (!Array.isArray(entries)) return [];
  const platforms = entries.map((e) => platformText((e as { platform?: unknown } | null)?.platform));
  return [...new Set(platforms.filter((p): p is string => p !== null && p !== "unknown/unknown"))];
}

function configDigest(doc: unknown): string | null {
  const digest = (doc as { config?: { digest?: unknown } } | null)?.config?.digest;
  return typeof digest === "string" ? digest : null;
}

/** The platform an image config names; null when the blob is missing, too large or not a config. */
async function readConfigPlatform(reg: Registry, digest: string): Promise<string | null> {
  const bytes = await readConfigBytes(reg, digest);
  return bytes ? platformText(parseJson(bytes)) : null;
}

/** An image config blob's bytes; null when it is missing or larger than MAX_CONFIG_BYTES. */
export async function readConfigBytes(reg: Registry, digest: string): Promise<Uint8Array | null> {
  const stat = await reg.store.stat(digest).catch(() => null);
  if (!stat || stat.size > MAX_CONFIG_BYTES) return null;
  const blob = await reg.store.open(digest).catch(() => null);
  return blob ? new Uint8Array(await blob.arrayBuffer()) : null;
}

/** `bytes` as JSON, or null when they are not. */
export function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}
