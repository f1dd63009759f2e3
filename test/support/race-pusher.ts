/**
 * @module Clients for the GC race test: workers that push images reusing
 * layers of a shared pool the way real clients do (HEAD; if present skip,
 * else mount or upload; then PUT the manifest), keep only their newest few
 * images (deleting older ones makes garbage), and record every outcome.
 * Every image is pulled back and hashed before it is deleted and at the end.
 */
import { noise, sha256 } from "./oci-layout.ts";

const MANIFEST = "application/vnd.oci.image.manifest.v1+json";

/** A layer of the shared pool. */
export interface PoolLayer {
  digest: string;
  bytes: Uint8Array;
}

/** `count` deterministic layers of 2–16 KiB. */
export function layerPool(count: number, seed: number): PoolLayer[] {
  return Array.from({ length: count }, (_, i) => {
    const bytes = noise(seed * 1000 + i + 1, 2048 + ((i * 3571) % 14336));
    return { digest: sha256(bytes), bytes };
  });
}

/** A manifest the registry acknowledged (201). */
export interface Acknowledged {
  repo: string;
  tag: string;
  digest: string;
  bytes: Uint8Array;
  blobs: string[];
}

/** What the workers of one scenario did. */
export interface RaceStats {
  acknowledged: Acknowledged[];
  pushes: number;
  /** Manifest pushes refused with MANIFEST_BLOB_UNKNOWN (allowed only without a grace period). */
  blobUnknown: number;
  /** Anything else that went wrong: always a test failure. */
  errors: string[];
  reused: number;
  mounted: number;
  uploaded: number;
  deleted: number;
  /** Acknowledged images pulled back completely, blobs hashed. */
  verified: number;
  /** Pushes abandoned because a server was killed under a request. */
  interrupted: number;
}

export function emptyStats(): RaceStats {
  return { acknowledged: [], pushes: 0, blobUnknown: 0, errors: [], reused: 0, mounted: 0, uploaded: 0, deleted: 0, verified: 0, interrupted: 0 };
}

/** A request a killed server dropped: the push it belonged to is abandoned. */
class Interrupted extends Error {}

/** Layers in use by a worker (HEAD to manifest PUT) and layers being aged by the test: never both. */
export class LayerLocks {
  private readonly using = new Map<string, number>();
  private readonly aging = new Set<string>();

  /** Takes `layers` for a push unless one is being aged. */
  tryUse(layers: PoolLayer[]): boolean {
    if (layers.some((l) => this.aging.has(l.digest))) return false;
    for (const l of layers) this.using.set(l.digest, (this.using.get(l.digest) ?? 0) + 1);
    return true;
  }
  release(layers: PoolLayer[]): void {
    for (const l of layers) {
      const n = (this.using.get(l.digest) ?? 1) - 1;
      if (n === 0) this.using.delete(l.digest);
      else this.using.set(l.digest, n);
    }
  }
  /** Takes `digest` for aging unless a worker is using it. */
  tryAge(digest: string): boolean {
    if (this.using.has(digest) || this.aging.has(digest)) return false;
    this.aging.add(digest);
    return true;
  }
  doneAging(digest: string): void {
    this.aging.delete(digest);
  }
}

/** One pushing client. */
export interface Worker {
  url: string;
  /**
   * Several servers over one data directory: each request goes to one of
   * them at random (so one upload's requests land on different ones), and
   * a layer is uploaded in two PATCHes and a PUT.
   */
  urls?: string[];
  /** Servers killed on purpose: a request they dropped is counted as interrupted, not as an error. */
  dead?: Set<string>;
  auth: string;
  id: number;
  repos: string[];
  pool: PoolLayer[];
  locks: LayerLocks;
  stats: RaceStats;
  /** How many of its newest images it keeps. */
  keep: number;
}

function pick<T>(items: readonly T[], n: number): T[] {
  const copy = [...items];
  const out: T[] = [];
  while (out.length < n && copy.length > 0) out.push(copy.splice(Math.floor(Math.random() * copy.length), 1)[0]!);
  return out;
}

async function call(w: Worker, method: string, path: string, init: { body?: Uint8Array; headers?: Record<string, string> } = {}): Promise<Response> {
  const live = w.urls?.filter((u) => !w.dead?.has(u));
  const base = live && live.length > 0 ? live[Math.floor(Math.random() * live.length)]! : w.url;
  try {
    return await fetch(`${base}${path}`, { method, body: init.body, headers: { authorization: w.auth, ...init.headers } });
  } catch (error) {
    if (w.dead?.has(base)) throw new Interrupted(`${method} ${path} dropped by a killed server`);
    throw error;
  }
}

/** Makes blob `layer` present in `repo` as a client would; false after recording an error. */
async function ensureLayer(w: Worker, repo: string, layer: PoolLayer): Promise<boolean> {
  const head = await call(w, "HEAD", `/v2/${repo}/blobs/${layer.digest}`);
  if (head.status === 200) {
    w.stats.reused++;
    return true;
  }
  if (head.status !== 404) return fail(w, `HEAD blob ${head.status}`);
  const from = w.repos.find((r) => r !== repo)!;
  const mount = await call(w, "POST", `/v2/${repo}/blobs/uploads/?mount=${layer.digest}&from=${from}`);
  if (mount.status === 201) {
    w.stats.mounted++;
    return true;
  }
  if (mount.status !== 202) return fail(w, `mount ${mount.status} ${await mount.text()}`);
  const location = mount.headers.get("location")!;
  if (w.urls) {
    // Two chunks and the completing PUT, each likely on a different server than the last.
    const half = layer.bytes.byteLength >> 1;
    for (const [start, end] of [[0, half], [half, layer.bytes.byteLength]] as const) {
      const patch = await call(w, "PATCH", location, {
        body: layer.bytes.subarray(start, end),
        headers: { "content-type": "application/octet-stream", "content-range": `${start}-${end - 1}` },
      });
      if (patch.status !== 202) return fail(w, `PATCH ${start}-${end - 1}: ${patch.status} ${await patch.text()}`);
    }
    const done = await call(w, "PUT", `${location}${location.includes("?") ? "&" : "?"}digest=${layer.digest}`);
    if (done.status !== 201) return fail(w, `upload completion ${done.status} ${await done.text()}`);
    w.stats.uploaded++;
    return true;
  }
  const put = await call(w, "PUT", `${location}${location.includes("?") ? "&" : "?"}digest=${layer.digest}`, {
    body: layer.bytes,
    headers: { "content-type": "application/octet-stream" },
  });
  if (put.status !== 201) return fail(w, `upload ${put.status} ${await put.text()}`);
  w.stats.uploaded++;
  return true;
}

function fail(w: Worker, message: string): false {
  w.stats.errors.push(`${w.id < 0 ? "final check" : `worker ${w.id}`}: ${message}`);
  return false;
}

/** Pulls an acknowledged image back: manifest bytes and every blob, hashed. */
export async function verify(w: Pick<Worker, "url" | "auth" | "stats" | "id">, image: Acknowledged): Promise<boolean> {
  const worker = w as Worker;
  const res = await call(worker, "GET", `/v2/${image.repo}/manifests/${image.digest}`, { headers: { accept: MANIFEST } });
  const body = new Uint8Array(await res.arrayBuffer());
  if (res.status !== 200 || sha256(body) !== image.digest) return fail(worker, `lost manifest ${image.repo}@${image.digest}: ${res.status}`);
  for (const digest of image.blobs) {
    const blob = await call(worker, "GET", `/v2/${image.repo}/blobs/${digest}`);
    const bytes = new Uint8Array(await blob.arrayBuffer());
    if (blob.status !== 200 || sha256(bytes) !== digest) {
      return fail(worker, `lost blob ${digest} of ${image.repo}@${image.digest}: ${blob.status}, ${bytes.byteLength} bytes`);
    }
  }
  w.stats.verified++;
  return true;
}

/** Pushes images until `deadline`. */
export async function runWorker(w: Worker, deadline: number): Promise<void> {
  const mine: Acknowledged[] = [];
  for (let n = 0; Date.now() < deadline; n++) {
    const layers = pick(w.pool, 2 + (n % 2));
    if (!w.locks.tryUse(layers)) {
      await Bun.sleep(1);
      continue;
    }
    try {
      await pushOne(w, layers, n, mine);
    } catch (error) {
      if (!(error instanceof Interrupted)) throw error;
      w.stats.interrupted++;
    } finally {
      w.locks.release(layers);
    }
    // Keep the newest few: older ones are pulled back whole, then deleted, which makes garbage.
    try {
      while (mine.length > w.keep) {
        const old = mine.shift()!;
        await verify(w, old);
        // No longer promised from here on: a DELETE cut off by a killed server may have been applied before the kill.
        w.stats.acknowledged.splice(w.stats.acknowledged.indexOf(old), 1);
        const del = await call(w, "DELETE", `/v2/${old.repo}/manifests/${old.digest}`);
        if (del.status !== 202) fail(w, `DELETE manifest ${del.status}`);
        w.stats.deleted++;
      }
    } catch (error) {
      if (!(error instanceof Interrupted)) throw error;
      w.stats.interrupted++;
    }
  }
}

/** One image: its layers made present, a config, the manifest; recorded when acknowledged. */
async function pushOne(w: Worker, layers: PoolLayer[], n: number, mine: Acknowledged[]): Promise<void> {
  const repo = w.repos[(w.id + n) % w.repos.length]!;
  let ok = true;
  for (const layer of layers) if (ok) ok = await ensureLayer(w, repo, layer);
  if (!ok) return;
  const configBytes = new TextEncoder().encode(JSON.stringify({ worker: w.id, n, at: Date.now() }));
  const config = sha256(configBytes);
  const post = await call(w, "POST", `/v2/${repo}/blobs/uploads/?digest=${config}`, { body: configBytes });
  if (post.status !== 201) {
    fail(w, `config upload ${post.status}`);
    return;
  }
  const doc = {
    schemaVersion: 2,
    mediaType: MANIFEST,
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: config, size: configBytes.byteLength },
    layers: layers.map((l) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: l.digest, size: l.bytes.byteLength })),
  };
  const bytes = new TextEncoder().encode(JSON.stringify(doc));
  const tag = `w${w.id}-${n}`;
  w.stats.pushes++;
  const put = await call(w, "PUT", `/v2/${repo}/manifests/${tag}`, { body: bytes, headers: { "content-type": MANIFEST } });
  if (put.status === 201) {
    const image = { repo, tag, digest: sha256(bytes), bytes, blobs: [config, ...layers.map((l) => l.digest)] };
    mine.push(image);
    w.stats.acknowledged.push(image);
  } else {
    const text = await put.text();
    if (put.status === 400 && text.includes("MANIFEST_BLOB_UNKNOWN")) w.stats.blobUnknown++;
    else fail(w, `manifest PUT ${put.status} ${text}`);
  }
}
