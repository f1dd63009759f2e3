/**
 * @module Helpers that push content through the HTTP API in tests.
 */
import { sha256Digest } from "../../lib/oci/digest.ts";
import type { TestApp } from "./app.ts";

/** Pushes `content` as a blob of repository `name` in one request; returns its digest. */
export async function pushBlob(t: TestApp, name: string, content: Uint8Array | string): Promise<string> {
  const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
  const digest = sha256Digest(bytes);
  const res = await t.request("POST", `/v2/${name}/blobs/uploads/?digest=${digest}`, { body: bytes });
  if (res.status !== 201) throw new Error(`blob push failed: ${res.status} ${await res.text()}`);
  return digest;
}

/** Pushes a manifest (object or raw bytes) under `reference`; returns the response. */
export async function pushManifest(
  t: TestApp,
  name: string,
  reference: string,
  manifest: object | Uint8Array,
  mediaType = "application/vnd.oci.image.manifest.v1+json",
): Promise<Response> {
  const body = manifest instanceof Uint8Array ? manifest : JSON.stringify(manifest);
  return t.request("PUT", `/v2/${name}/manifests/${reference}`, { body, headers: { "Content-Type": mediaType } });
}

/** An OCI image manifest over a pushed config and layers. */
export async function pushImage(t: TestApp, name: string, tag: string, layers: string[] = ["layer-a", "layer-b"]) {
  const configBytes = JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } });
  const config = await pushBlob(t, name, configBytes);
  const layerDescriptors = [];
  for (const content of layers) {
    const digest = await pushBlob(t, name, content);
    layerDescriptors.push({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest, size: new TextEncoder().encode(content).byteLength });
  }
  const manifest = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: config, size: new TextEncoder().encode(configBytes).byteLength },
    layers: layerDescriptors,
  };
  const bytes = new TextEncoder().encode(JSON.stringify(manifest));
  const res = await pushManifest(t, name, tag, bytes);
  if (res.status !== 201) throw new Error(`manifest push failed: ${res.status} ${await res.text()}`);
  return { digest: sha256Digest(bytes), bytes, manifest };
}
