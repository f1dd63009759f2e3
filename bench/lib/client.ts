/**
 * @module A small OCI distribution client speaking only the HTTP API, the
 * same way to every registry under test: blob pushes (monolithic and
 * chunked), small images as docker pushes them, and listings.
 */
import type { Endpoint } from "./targets.ts";

export const MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json";
export const ACCEPT_MANIFESTS = [
  MANIFEST_TYPE,
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
].join(", ");

/** Push and pull access to one repository, the scope a client asks for. */
export const repoScope = (repo: string) => `repository:${repo}:pull,push`;
export const CATALOG_SCOPE = "registry:catalog:*";

/** `sha256:` digest of some bytes. */
export function digestOf(bytes: Uint8Array | string): string {
  return `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`;
}

/** Calls the registry with the endpoint's credentials for `scope`; throws unless the status is `expect`. */
export async function call(ep: Endpoint, scope: string, path: string | URL, init: RequestInit, expect: number[]): Promise<Response> {
  const headers = new Headers(init.headers);
  const auth = await ep.authorize(scope);
  if (auth) headers.set("Authorization", auth);
  const res = await fetch(new URL(path, ep.url), { ...init, headers });
  if (!expect.includes(res.status)) {
    throw new Error(`${init.method ?? "GET"} ${path}: expected ${expect.join("/")}, got ${res.status}: ${(await res.text()).slice(0, 300)}`);
  }
  return res;
}

async function startUpload(ep: Endpoint, repo: string): Promise<URL> {
  const res = await call(ep, repoScope(repo), `/v2/${repo}/blobs/uploads/`, { method: "POST" }, [202]);
  await res.arrayBuffer();
  return new URL(res.headers.get("location") ?? "", ep.url);
}

async function finishUpload(ep: Endpoint, repo: string, location: URL, digest: string, body: Blob | Uint8Array | null): Promise<void> {
  const url = new URL(location);
  url.searchParams.set("digest", digest);
  const size = body === null ? 0 : body instanceof Blob ? body.size : body.byteLength;
  const headers = { "Content-Type": "application/octet-stream", "Content-Length": String(size) };
  const res = await call(ep, repoScope(repo), url, { method: "PUT", headers, body }, [201]);
  await res.arrayBuffer();
}

/** POST + PUT with the whole blob as the PUT's body. */
export async function pushMonolithic(ep: Endpoint, repo: string, blob: Blob | Uint8Array, digest: string): Promise<void> {
  await finishUpload(ep, repo, await startUpload(ep, repo), digest, blob);
}

/** POST, one PATCH per `chunk` bytes with Content-Range, then an empty PUT. */
export async function pushChunked(ep: Endpoint, repo: string, blob: Blob, digest: string, chunk: number): Promise<void> {
  let location = await startUpload(ep, repo);
  for (let start = 0; start < blob.size; start += chunk) {
    const end = Math.min(start + chunk, blob.size) - 1;
    const headers = {
      "Content-Type": "application/octet-stream",
      "Content-Range": `${start}-${end}`,
      "Content-Length": String(end - start + 1),
    };
    const res = await call(ep, repoScope(repo), location, { method: "PATCH", headers, body: blob.slice(start, end + 1) }, [202]);
    await res.arrayBuffer();
    location = new URL(res.headers.get("location") ?? "", ep.url);
  }
  await finishUpload(ep, repo, location, digest, null);
}

/** A small blob as docker pushes one: HEAD (absent), then POST + PUT. */
export async function pushSmallBlob(ep: Endpoint, repo: string, bytes: Uint8Array, digest: string): Promise<void> {
  const head = await call(ep, repoScope(repo), `/v2/${repo}/blobs/${digest}`, { method: "HEAD" }, [200, 404]);
  await head.arrayBuffer();
  if (head.status === 200) return;
  await pushMonolithic(ep, repo, bytes, digest);
}

/** An image's parts: blobs with their digests, and the manifest that lists them. */
export interface SmallImage {
  blobs: { bytes: Uint8Array; digest: string }[];
  manifest: string;
}

/** A unique image: a config and `layers` random layers of `layerSize` bytes. */
export function makeImage(seed: string, layers: number, layerSize: number): SmallImage {
  const config = new TextEncoder().encode(
    JSON.stringify({ architecture: "amd64", os: "linux", config: { Labels: { bench: seed } }, rootfs: { type: "layers", diff_ids: [] } }),
  );
  const layerBlobs = Array.from({ length: layers }, () => crypto.getRandomValues(new Uint8Array(layerSize)));
  const blobs = [config, ...layerBlobs].map((bytes) => ({ bytes, digest: digestOf(bytes) }));
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: MANIFEST_TYPE,
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: blobs[0]!.digest, size: config.byteLength },
    layers: blobs.slice(1).map((b) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: b.digest, size: b.bytes.byteLength })),
  });
  return { blobs, manifest };
}

/** Pushes an image's blobs, then its manifest under `tag`. */
export async function pushImage(ep: Endpoint, repo: string, tag: string, image: SmallImage): Promise<void> {
  for (const blob of image.blobs) await pushSmallBlob(ep, repo, blob.bytes, blob.digest);
  await putManifest(ep, repo, tag, image.manifest);
}

/** PUT a manifest under a tag. */
export async function putManifest(ep: Endpoint, repo: string, tag: string, manifest: string): Promise<void> {
  const res = await call(ep, repoScope(repo), `/v2/${repo}/manifests/${tag}`, {
    method: "PUT",
    headers: { "Content-Type": MANIFEST_TYPE },
    body: manifest,
  }, [201]);
  await res.arrayBuffer();
}

/**
 * Reads a listing (tags list or catalog) from `path` to its end, following
 * `Link` headers; returns how many names came back and how many pages.
 */
export async function listAll(ep: Endpoint, scope: string, path: string, key: "tags" | "repositories"): Promise<{ names: number; pages: number }> {
  let next: string | null = path;
  let names = 0;
  let pages = 0;
  while (next !== null) {
    const res = await call(ep, scope, next, {}, [200]);
    const body = (await res.json()) as Record<string, string[] | null>;
    names += body[key]?.length ?? 0;
    pages++;
    next = /<([^>]+)>;\s*rel="?next"?/.exec(res.headers.get("link") ?? "")?.[1] ?? null;
  }
  return { names, pages };
}

/** Runs `task(i)` for i in [0, count) with at most `width` at a time. */
export async function pool(count: number, width: number, task: (i: number, worker: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, count) }, async (_, worker) => {
      while (next < count) await task(next++, worker);
    }),
  );
}
