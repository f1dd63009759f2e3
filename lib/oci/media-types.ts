/**
 * @module The manifest media types mcr stores and serves.
 */

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
export const DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
export const OCI_EMPTY = "application/vnd.oci.empty.v1+json";

/** Config media types of container images (anything else marks an artifact). */
export const imageConfigMediaTypes: readonly string[] = [
  "application/vnd.oci.image.config.v1+json",
  "application/vnd.docker.container.image.v1+json",
];

/** Manifest media types accepted on push. */
export const manifestMediaTypes = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST] as const;
export type ManifestMediaType = (typeof manifestMediaTypes)[number];

/** Media types that list other manifests rather than blobs. */
export const indexMediaTypes: readonly string[] = [OCI_INDEX, DOCKER_MANIFEST_LIST];

/** Layers that live elsewhere (Windows base layers) and are never pushed. */
export const foreignLayerMediaTypes: readonly string[] = [
  "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
  "application/vnd.oci.image.layer.nondistributable.v1.tar",
  "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
  "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
];

/** Default largest manifest accepted, in bytes (the spec's recommended minimum limit); see lib/limits.ts. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/**
 * Whether a client whose Accept header lists `accepted` takes `mediaType`.
 * No Accept header, or a wildcard, takes anything.
 */
export function accepts(accepted: readonly string[], mediaType: string): boolean {
  if (accepted.length === 0) return true;
  return accepted.some((type) => type === mediaType || type === "*/*" || type === "application/*");
}

/**
 * RFC 6838 §4.2 type/subtype, as the OCI image spec's descriptor schema
 * writes it: restricted-name characters only, at most 127 each, no
 * parameters. Anything else (control characters included) is no media type.
 */
const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

/** True when `value` is a media type by RFC 6838's grammar. */
export function isMediaType(value: string): boolean {
  return MEDIA_TYPE.test(value);
}
