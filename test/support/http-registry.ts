/**
 * @module Pushing and pulling images over HTTP in tests, with every digest
 * checked on the way back.
 */
import { expect } from "bun:test";
import { sha256Digest } from "../../lib/oci/digest.ts";

const MANIFEST = "application/vnd.oci.image.manifest.v1+json";

/** What `pushRandomImage` pushed. */
export interface PushedImage {
  repository: string;
  tag: string;
  manifestDigest: string;
  blobDigests: string[];
}

/** Pushes an image of a config and `layers` random layers of `layerBytes` each; returns its digests. */
export async function pushRandomImage(base: string, auth: string, repository: string, tag: string, layers = 2, layerBytes = 4096): Promise<PushedImage> {
  const blobs: Uint8Array[] = [new TextEncoder().encode(JSON.stringify({ architecture: "amd64", os: "linux", tag, nonce: crypto.randomUUID() }))];
  for (let i = 0; i < layers; i++) blobs.push(crypto.getRandomValues(new Uint8Array(layerBytes)));
  const digests = blobs.map((b) => sha256Digest(b));
  for (const [i, bytes] of blobs.entries()) {
    const res = await fetch(`${base}/v2/${repository}/blobs/uploads/?digest=${digests[i]}`, { method: "POST", body: bytes, headers: { Authorization: auth } });
    if (res.status !== 201) throw new Error(`blob push to ${repository}: ${res.status} ${await res.text()}`);
  }
  const manifest = new TextEncoder().encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST,
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: digests[0], size: blobs[0]!.byteLength },
      layers: blobs.slice(1).map((b, i) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: digests[i + 1], size: b.byteLength })),
    }),
  );
  const res = await fetch(`${base}/v2/${repository}/manifests/${tag}`, { method: "PUT", body: manifest, headers: { Authorization: auth, "Content-Type": MANIFEST } });
  if (res.status !== 201) throw new Error(`manifest push to ${repository}:${tag}: ${res.status} ${await res.text()}`);
  return { repository, tag, manifestDigest: sha256Digest(manifest), blobDigests: digests };
}

/** Pulls `repository:reference` and every blob it references, checking each digest; returns the manifest digest. */
export async function pullAndVerify(base: string, auth: string, repository: string, reference: string): Promise<string> {
  const res = await fetch(`${base}/v2/${repository}/manifests/${reference}`, { headers: { Authorization: auth, Accept: `${MANIFEST}, application/vnd.oci.image.index.v1+json` } });
  expect(res.status).toBe(200);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const digest = sha256Digest(bytes);
  expect(res.headers.get("docker-content-digest")).toBe(digest);
  const manifest = JSON.parse(new TextDecoder().decode(bytes)) as { config?: { digest: string }; layers?: { digest: string }[]; manifests?: { digest: string }[] };
  for (const child of manifest.manifests ?? []) await pullAndVerify(base, auth, repository, child.digest);
  for (const blob of [...(manifest.config ? [manifest.config] : []), ...(manifest.layers ?? [])]) {
    const b = await fetch(`${base}/v2/${repository}/blobs/${blob.digest}`, { headers: { Authorization: auth } });
    expect(b.status).toBe(200);
    expect(sha256Digest(new Uint8Array(await b.arrayBuffer()))).toBe(blob.digest);
  }
  return digest;
}

/** Every `repository:tag` the registry lists. */
export async function listAllTags(base: string, auth: string): Promise<{ repository: string; tag: string }[]> {
  const catalog = (await (await fetch(`${base}/v2/_catalog?n=10000`, { headers: { Authorization: auth } })).json()) as { repositories: string[] };
  const out: { repository: string; tag: string }[] = [];
  for (const repository of catalog.repositories) {
    const tags = (await (await fetch(`${base}/v2/${repository}/tags/list?n=10000`, { headers: { Authorization: auth } })).json()) as { tags: string[] | null };
    for (const tag of tags.tags ?? []) out.push({ repository, tag });
  }
  return out;
}
