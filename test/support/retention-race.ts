/**
 * @module Clients for the retention race test: workers that push new
 * tagged images (reusing a shared layer pool, each with its own config)
 * and re-tag older tags to other images, recording when each push started
 * and was acknowledged; and the checks afterwards, against the audit log
 * and the registry: no tag pushed after a plan was removed by it, and
 * every tag left pulls back whole.
 */
import { sha256 } from "./oci-layout.ts";
import type { PoolLayer } from "./race-pusher.ts";

const MANIFEST = "application/vnd.oci.image.manifest.v1+json";

/** A manifest push the registry acknowledged. */
export interface TagPush {
  repo: string;
  tag: string;
  digest: string;
  bytes: Uint8Array;
  blobs: string[];
  started: number;
  acked: number;
}

/** What the workers did. */
export interface PushLog {
  pushes: TagPush[];
  retags: number;
  errors: string[];
}

/** A retention deletion as the audit log has it. */
export interface DeletionEvent {
  repository: string;
  tag: string | null;
  digest: string | null;
  time: number;
  planned: number;
}

interface Client {
  url: string;
  auth: string;
}

async function call(c: Client, method: string, path: string, body?: Uint8Array, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${c.url}${path}`, { method, body, headers: { authorization: c.auth, ...headers } });
}

/** Uploads the layer pool into every repository once. */
export async function seedPool(c: Client, repos: readonly string[], pool: readonly PoolLayer[]): Promise<void> {
  for (const repo of repos) {
    for (const layer of pool) {
      const res = await call(c, "POST", `/v2/${repo}/blobs/uploads/?digest=${layer.digest}`, layer.bytes);
      if (res.status !== 201) throw new Error(`seeding ${repo}: ${res.status}`);
    }
  }
}

/** Pushes `bytes` as a manifest under `tag`; records it when acknowledged. */
async function putTag(c: Client, log: PushLog, repo: string, tag: string, bytes: Uint8Array, blobs: string[]): Promise<boolean> {
  const started = Date.now();
  const res = await call(c, "PUT", `/v2/${repo}/manifests/${tag}`, bytes, { "content-type": MANIFEST });
  if (res.status !== 201) {
    log.errors.push(`PUT ${repo}:${tag} ${res.status} ${await res.text()}`);
    return false;
  }
  log.pushes.push({ repo, tag, digest: sha256(bytes), bytes, blobs, started, acked: Date.now() });
  return true;
}

/** One worker: new images most of the time, and every third step moves an older tag of its own to another image. */
export async function pushLoop(c: Client, id: number, repos: readonly string[], pool: readonly PoolLayer[], log: PushLog, deadline: number): Promise<void> {
  const mine: TagPush[] = [];
  for (let n = 0; Date.now() < deadline; n++) {
    const repo = repos[(id + n) % repos.length]!;
    const own = mine.filter((p) => p.repo === repo);
    if (n % 3 === 2 && own.length >= 4) {
      // Re-tag: an older tag moves to another (older) image of the same repository.
      const tag = own[own.length - 4]!.tag;
      const image = own[Math.floor(Math.random() * (own.length - 1))]!;
      if (await putTag(c, log, repo, tag, image.bytes, image.blobs)) log.retags++;
      continue;
    }
    const layers = [pool[n % pool.length]!, pool[(n * 7 + id) % pool.length]!];
    const configBytes = new TextEncoder().encode(JSON.stringify({ worker: id, n, at: Date.now() }));
    const config = sha256(configBytes);
    const post = await call(c, "POST", `/v2/${repo}/blobs/uploads/?digest=${config}`, configBytes);
    if (post.status !== 201) {
      log.errors.push(`config upload ${post.status}`);
      continue;
    }
    const doc = {
      schemaVersion: 2,
      mediaType: MANIFEST,
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: config, size: configBytes.byteLength },
      layers: layers.map((l) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: l.digest, size: l.bytes.byteLength })),
    };
    const tag = n % 17 === 0 ? `release-w${id}-${n}` : `w${id}-${n}`;
    const bytes = new TextEncoder().encode(JSON.stringify(doc));
    if (await putTag(c, log, repo, tag, bytes, [config, ...layers.map((l) => l.digest)])) mine.push(log.pushes[log.pushes.length - 1]!);
  }
}

/**
 * Problems found: a tag whose last acknowledged push is gone with no
 * removal by a run planned after that push began (a removal at another
 * digest, or by an older plan, means a push after the plan was lost), a
 * release tag removed, or a tag left that does not pull back whole. (The
 * audit time of a removal is after its commit, so a push acknowledged
 * "before" it may have re-created the tag after it: only the end state
 * tells a loss.)
 */
export async function checkOutcome(c: Client, log: PushLog, deletions: readonly DeletionEvent[]): Promise<{ problems: string[]; present: number }> {
  const problems: string[] = [];
  const last = new Map<string, TagPush>();
  for (const p of [...log.pushes].sort((a, b) => a.acked - b.acked)) last.set(`${p.repo}:${p.tag}`, p);
  const removed = new Map<string, DeletionEvent[]>();
  for (const d of deletions) if (d.tag !== null) removed.set(`${d.repository}:${d.tag}`, [...(removed.get(`${d.repository}:${d.tag}`) ?? []), d]);
  for (const d of deletions) {
    if (d.tag?.startsWith("release-")) problems.push(`release tag ${d.repository}:${d.tag} removed`);
  }
  let present = 0;
  for (const [key, push] of last) {
    const res = await call(c, "GET", `/v2/${push.repo}/manifests/${push.tag}`, undefined, { accept: MANIFEST });
    const body = new Uint8Array(await res.arrayBuffer());
    if (res.status === 404) {
      // Only a run planned after this push began may have removed it, and only at the digest it pushed.
      const why = (removed.get(key) ?? []).find((d) => d.digest === push.digest && d.planned > push.started);
      if (!why) {
        const by = (removed.get(key) ?? []).map((d) => `${d.digest} by a run planned at ${d.planned}`);
        problems.push(`${key} (last pushed ${push.digest} at ${push.started}) is gone and no run planned after that push removed it (removals: ${by.join(", ") || "none"})`);
      }
      continue;
    }
    if (res.status !== 200) {
      problems.push(`${key}: GET ${res.status}`);
      continue;
    }
    present++;
    const digest = sha256(body);
    const image = log.pushes.find((p) => p.repo === push.repo && p.digest === digest);
    if (!image) {
      problems.push(`${key} points at ${digest}, never pushed there`);
      continue;
    }
    for (const blob of image.blobs) {
      const b = await call(c, "GET", `/v2/${push.repo}/blobs/${blob}`);
      if (b.status !== 200 || sha256(new Uint8Array(await b.arrayBuffer())) !== blob) problems.push(`${key}: blob ${blob} ${b.status}`);
    }
  }
  return { problems, present };
}
