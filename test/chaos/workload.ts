/**
 * @module What the chaos clients do while the server may die under them:
 * push images (new and shared layers, every upload method, by tag and by
 * digest), push indexes, move and delete tags, delete manifests, push and
 * delete loose blobs, pull and check, and park upload sessions to resume
 * them after a crash. Every acknowledgement goes into the ledger.
 */
import { sha256Digest } from "../../lib/oci/digest.ts";
import type { Rng } from "../support/random.ts";
import { ChaosClient, describe, Interrupted, pushBlob, uploadMethods } from "./client.ts";
import type { BlobRecord, Ledger, ManifestRecord } from "./ledger.ts";

export const REPOS = ["chaos/a", "chaos/b", "chaos/c"] as const;
const MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const INDEX = "application/vnd.oci.image.index.v1+json";
const LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";
const enc = new TextEncoder();

/** `bytes` as a request body arriving 8 KiB every 10 ms. */
function trickle(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (at >= bytes.byteLength) return controller.close();
      if (at > 0) await Bun.sleep(10);
      controller.enqueue(bytes.slice(at, at + 8192));
      at += 8192;
    },
  });
}

/** Content every client shares, so the same blob is pushed to the same places at once. */
export function sharedLayers(rng: Rng): Uint8Array[] {
  return Array.from({ length: 6 }, (_, i) => rng.fork(1000 + i).bytes(8 * 1024 * (i + 1)));
}

/** One chaos client: its own tags, its own random stream, the shared ledger. */
export class Worker {
  private seq = 0;
  readonly tags: string[];

  constructor(
    readonly id: number,
    readonly rng: Rng,
    readonly client: ChaosClient,
    readonly ledger: Ledger,
    readonly shared: Uint8Array[],
  ) {
    this.tags = Array.from({ length: 4 }, (_, i) => `w${id}-t${i}`);
  }

  /** Runs operations until `running()` turns false or the server goes away. */
  async run(running: () => boolean): Promise<void> {
    while (running()) {
      try {
        await this.step();
      } catch (error) {
        if (error instanceof Interrupted) {
          this.ledger.counts.interrupted++;
          return;
        }
        throw error;
      }
    }
  }

  private async step(): Promise<void> {
    const roll = this.rng.int(0, 99);
    if (roll < 40) return this.pushImage();
    if (roll < 46) return this.pushIndex();
    if (roll < 54) return this.deleteTag();
    if (roll < 60) return this.deleteManifest();
    if (roll < 68) return this.pushLooseBlob();
    if (roll < 72) return this.deleteLooseBlob();
    if (roll < 90) return this.parkedUpload();
    return this.pull();
  }

  private layerBytes(): Uint8Array {
    const size = this.rng.chance(0.08) ? this.rng.int(256 * 1024, 1024 * 1024) : this.rng.int(1, 48 * 1024);
    return this.rng.bytes(size);
  }

  private async pushImage(): Promise<void> {
    const repo = this.rng.pick(REPOS);
    const config = enc.encode(JSON.stringify({ architecture: "amd64", os: "linux", worker: this.id, seq: this.seq++, seed: this.rng.seed }));
    const layers = Array.from({ length: this.rng.int(0, 3) }, () => this.layerBytes());
    for (let i = this.rng.int(0, 2); i > 0; i--) layers.push(this.rng.pick(this.shared));
    const blobs = new Map<string, number>();
    for (const bytes of [config, ...layers]) {
      const { digest, size } = describe(bytes);
      if (blobs.has(digest)) continue;
      const isShared = this.shared.includes(bytes);
      const method = isShared ? this.rng.pick(uploadMethods) : this.rng.pick(uploadMethods.filter((m) => m !== "mount"));
      const from = this.rng.pick(REPOS.filter((r) => r !== repo));
      this.ledger.blob(repo, digest, size);
      if (!(await pushBlob(this.client, this.rng, repo, bytes, method, from))) return;
      this.ledger.blobAcked(repo, digest, size);
      blobs.set(digest, size);
    }
    const [configDigest, ...layerDigests] = [...blobs.keys()];
    const manifest = {
      schemaVersion: 2,
      mediaType: MANIFEST,
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: configDigest, size: blobs.get(configDigest!) },
      layers: layerDigests.map((digest) => ({ mediaType: LAYER, digest, size: blobs.get(digest) })),
    };
    await this.putManifest(repo, enc.encode(JSON.stringify(manifest)), MANIFEST, blobs, []);
  }

  private async pushIndex(): Promise<void> {
    const repo = this.rng.pick(REPOS);
    const children = this.own(repo).filter((m) => m.exists === "yes" && m.children.length === 0).slice(-2);
    if (children.length === 0) return this.pushImage();
    const index = {
      schemaVersion: 2,
      mediaType: INDEX,
      manifests: children.map((m, i) => ({ mediaType: MANIFEST, digest: m.digest, size: this.sizes.get(m.digest), platform: { os: "linux", architecture: ["amd64", "arm64"][i] } })),
    };
    await this.putManifest(repo, enc.encode(JSON.stringify(index)), INDEX, new Map(), children.map((m) => m.digest));
  }

  /** Byte sizes of this worker's manifests, by digest. */
  private readonly sizes = new Map<string, number>();

  private async putManifest(repo: string, bytes: Uint8Array, mediaType: string, blobs: Map<string, number>, children: string[]): Promise<void> {
    const digest = sha256Digest(bytes);
    this.sizes.set(digest, bytes.byteLength);
    const byTag = this.rng.chance(0.75);
    const tag = byTag ? this.ledger.tag(repo, this.rng.pick(this.tags)) : null;
    const record = this.ledger.pushingManifest(repo, digest, blobs, children);
    const before = tag ? new Set(tag.candidates) : null;
    if (tag) {
      tag.candidates.add(digest);
      tag.dirty = true;
    }
    const res = await this.client.expect([201], "PUT", `/v2/${repo}/manifests/${tag ? tag.tag : digest}`, { body: bytes, headers: { "Content-Type": mediaType } });
    if (res.status !== 201) {
      if (tag && before) tag.candidates = before;
      return;
    }
    record.exists = "yes";
    this.ledger.counts.manifestsAcked++;
    if (tag) {
      tag.candidates = new Set([digest]);
      this.ledger.counts.tagMoves++;
    }
  }

  /** This worker's manifests in `repo`. */
  private own(repo: string): ManifestRecord[] {
    return [...this.ledger.manifests.values()].filter((m) => m.repo === repo && this.sizes.has(m.digest));
  }

  private async deleteTag(): Promise<void> {
    const repo = this.rng.pick(REPOS);
    const tag = this.ledger.tag(repo, this.rng.pick(this.tags));
    if (tag.candidates.size !== 1 || tag.candidates.has(null)) return;
    tag.candidates.add(null);
    tag.dirty = true;
    const res = await this.client.expect([202], "DELETE", `/v2/${repo}/manifests/${tag.tag}`);
    if (res.status === 202) {
      tag.candidates = new Set([null]);
      this.ledger.counts.deletes++;
    }
  }

  private async deleteManifest(): Promise<void> {
    const repo = this.rng.pick(REPOS);
    const live = this.own(repo).filter((m) => m.exists === "yes");
    if (live.length === 0) return;
    const target = this.rng.pick(live);
    const tags = this.ledger.tagsMaybeAt(repo, target.digest);
    target.exists = "unknown";
    target.dirty = true;
    for (const t of tags) t.candidates.add(null);
    const res = await this.client.expect([202, 409], "DELETE", `/v2/${repo}/manifests/${target.digest}`);
    if (res.status === 202) {
      target.exists = "no";
      for (const t of tags) t.candidates.delete(target.digest);
      this.ledger.counts.deletes++;
    } else {
      // 409: an index lists it, so nothing changed.
      target.exists = "yes";
      for (const t of tags) if (t.candidates.size > 1) t.candidates.delete(null);
    }
  }

  /** Blobs this worker pushed on their own: unique content, so no other worker races on them. */
  private readonly loose: BlobRecord[] = [];

  private async pushLooseBlob(): Promise<void> {
    const repo = this.rng.pick(REPOS);
    const bytes = this.rng.bytes(this.rng.int(1, 16 * 1024));
    const { digest, size } = describe(bytes);
    this.loose.push(this.ledger.blob(repo, digest, size));
    if (await pushBlob(this.client, this.rng, repo, bytes, this.rng.pick(["single", "post-put", "chunked"] as const))) {
      this.ledger.blobAcked(repo, digest, size);
    }
  }

  private async deleteLooseBlob(): Promise<void> {
    const loose = this.loose.filter((b) => b.exists === "yes");
    if (loose.length === 0) return;
    const blob = this.rng.pick(loose);
    blob.exists = "unknown";
    blob.dirty = true;
    const res = await this.client.expect([202], "DELETE", `/v2/${blob.repo}/blobs/${blob.digest}`);
    if (res.status === 202) {
      blob.exists = "no";
      this.ledger.counts.deletes++;
    }
  }

  private async parkedUpload(): Promise<void> {
    const repo = `chaos/parked-${this.id}`;
    const mine = [...this.ledger.parked].filter((p) => p.repo === repo);
    const open = mine.find((p) => !p.completing);
    if (!open || this.rng.chance(0.2)) {
      if (mine.length >= 3) return;
      const res = await this.client.expect([202], "POST", `/v2/${repo}/blobs/uploads/`);
      if (res.status !== 202) return;
      const content = this.rng.bytes(this.rng.int(16 * 1024, 256 * 1024));
      this.ledger.parked.add({ repo, location: res.headers.get("location")!, content, digest: sha256Digest(content), acked: 0, inflight: 0, completing: false });
      return;
    }
    const remaining = open.content.byteLength - open.acked;
    if (remaining > 0 && this.rng.chance(0.7)) {
      const end = open.acked + this.rng.int(1, remaining);
      open.inflight = end - open.acked;
      // Sent slowly, so that kills often land in the middle of a chunk and the session must resume from a partial one.
      const body = trickle(open.content.subarray(open.acked, end));
      const res = await this.client.expect([202], "PATCH", open.location, { body, headers: { "Content-Range": `${open.acked}-${end - 1}` } });
      if (res.status === 202) open.acked = end;
      open.inflight = 0;
      return;
    }
    open.completing = true;
    open.inflight = remaining;
    const rest = open.content.subarray(open.acked);
    const headers: Record<string, string> = rest.byteLength > 0 ? { "Content-Range": `${open.acked}-${open.content.byteLength - 1}` } : {};
    const res = await this.client.expect([201], "PUT", `${open.location}?digest=${open.digest}`, { body: rest, headers });
    if (res.status === 201) {
      this.ledger.parked.delete(open);
      this.ledger.blobAcked(open.repo, open.digest, open.content.byteLength);
    }
  }

  /** Completes every upload this worker parked (the last round, with the server up for good). */
  async finishParked(): Promise<void> {
    for (const p of [...this.ledger.parked].filter((u) => u.repo === `chaos/parked-${this.id}`)) {
      const rest = p.content.subarray(p.acked);
      const headers: Record<string, string> = rest.byteLength > 0 ? { "Content-Range": `${p.acked}-${p.content.byteLength - 1}` } : {};
      const res = await this.client.expect([201], "PUT", `${p.location}?digest=${p.digest}`, { body: rest, headers });
      this.ledger.parked.delete(p);
      if (res.status === 201) this.ledger.blobAcked(p.repo, p.digest, p.content.byteLength);
    }
  }

  private async pull(): Promise<void> {
    const repo = this.rng.pick(REPOS);
    const tag = this.ledger.tag(repo, this.rng.pick(this.tags));
    if (tag.candidates.size !== 1 || tag.candidates.has(null)) return;
    const expected = [...tag.candidates][0]!;
    const res = await this.client.expect([200], "GET", `/v2/${repo}/manifests/${tag.tag}`, { headers: { Accept: `${MANIFEST}, ${INDEX}` } });
    if (res.status !== 200) return;
    const digest = sha256Digest(await this.client.bytes(res, `${repo}:${tag.tag}`));
    if (digest !== expected) this.client.problems.push(`tag ${repo}:${tag.tag} served ${digest}, acknowledged ${expected}`);
    const record = this.ledger.manifest(repo, expected);
    for (const blob of record?.blobs.keys() ?? []) {
      const b = await this.client.expect([200], "GET", `/v2/${repo}/blobs/${blob}`);
      if (b.status === 200 && sha256Digest(await this.client.bytes(b, `${repo}@${blob}`)) !== blob) this.client.problems.push(`blob ${repo}@${blob} served wrong bytes`);
    }
  }
}
