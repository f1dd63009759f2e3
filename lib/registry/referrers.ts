/**
 * @module The referrers API: the manifests of a repository whose `subject`
 * is a given digest, as the descriptors of an OCI image index.
 */
import { findReferrers } from "../db/queries/manifests.ts";
import { checkDigest } from "../oci/names.ts";
import type { Registry } from "./registry.ts";

/** One referrer, as a descriptor. */
export interface ReferrerDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** Referrers of `digest` in repository `name`, optionally only those of one artifact type. */
export async function listReferrers(reg: Registry, name: string, digest: string, artifactType?: string): Promise<ReferrerDescriptor[]> {
  checkDigest(digest);
  const rows = await findReferrers(reg.db, name, digest);
  return rows
    .filter((m) => artifactType === undefined || m.artifact_type === artifactType)
    .map((m) => {
      const descriptor: ReferrerDescriptor = { mediaType: m.media_type, digest: m.digest, size: m.size };
      if (m.artifact_type !== null) descriptor.artifactType = m.artifact_type;
      const annotations = annotationsOf(m.content);
      if (annotations) descriptor.annotations = annotations;
      return descriptor;
    });
}

/** The manifest's own `annotations`, if it has any that are string-valued. */
function annotationsOf(content: Uint8Array): Record<string, string> | undefined {
  try {
    const doc = JSON.parse(new TextDecoder().decode(content)) as { annotations?: unknown };
    const value = doc.annotations;
    if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
    const entries = Object.entries(value).filter((e): e is [string, string] => typeof e[1] === "string");
    return entries.length > 0 ? Object.fromEntries(entries) : undefined;
  } catch {
    return undefined;
  }
}
