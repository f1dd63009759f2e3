/**
 * @module Checks a restarted registry against the ledger, with the clients
 * idle: what was acknowledged is served byte-exact, what was deleted stays
 * deleted, tags hold a value some client set, interrupted requests resolve
 * one way or the other, and parked upload sessions resume where their
 * acknowledged bytes end (or, if their completion was cut off, are cleanly
 * gone). Resolved unknowns become knowns for the next round.
 */
import { sha256Digest } from "../../lib/oci/digest.ts";
import type { Rng } from "../support/random.ts";
import type { ChaosClient } from "./client.ts";
import type { BlobRecord, Ledger } from "./ledger.ts";

const ACCEPT = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json";

/** How thorough a round is, and what GC may have reclaimed meanwhile. */
export interface VerifyOptions {
  /** Check everything, reading every blob in full; otherwise changed records and a sample. */
  all: boolean;
  rng: Rng;
  /** Unreferenced blobs acknowledged longer ago than this may have been collected (Infinity without GC). */
  gcGraceMs: number;
  /** The size of an upload's file on disk, to read an ambiguous `Range: 0-0`. */
  uploadFileSize(id: string): number | null;
}

const digestOf = async (res: Response) => sha256Digest(new Uint8Array(await res.arrayBuffer()));

/** Records worth a look this round: every changed or unknown one, and `sample` of the others. */
function pick<T extends { dirty: boolean }>(items: Iterable<T>, opts: VerifyOptions, sample = 25, unknown: (t: T) => boolean = () => false): T[] {
  const all = [...items];
  if (opts.all) return all;
  const urgent = all.filter((t) => t.dirty || unknown(t));
  const rest = all.filter((t) => !t.dirty && !unknown(t));
  for (let i = 0; i < sample && rest.length > 0; i++) urgent.push(rest.splice(opts.rng.int(0, rest.length - 1), 1)[0]!);
  return urgent;
}

/** Runs one verification round; violations go to `client.problems`. */
export async function verify(client: ChaosClient, ledger: Ledger, opts: VerifyOptions): Promise<void> {
  const problems = client.problems;
  for (const m of pick(ledger.manifests.values(), opts, 25, (m) => m.exists === "unknown")) {
    const res = await client.send("GET", `/v2/${m.repo}/manifests/${m.digest}`, { headers: { Accept: ACCEPT } });
    if (res.status === 200) {
      const served = await digestOf(res);
      if (served !== m.digest) problems.push(`manifest ${m.repo}@${m.digest} served bytes hashing to ${served}`);
      if (m.exists === "no") problems.push(`manifest ${m.repo}@${m.digest} is back after its delete was acknowledged`);
      m.exists = "yes";
    } else if (res.status === 404) {
      if (m.exists === "yes") problems.push(`acknowledged manifest ${m.repo}@${m.digest} is lost`);
      m.exists = "no";
    } else {
      problems.push(`GET manifest ${m.repo}@${m.digest} answered ${res.status}`);
    }
    if (m.exists === "yes") {
      for (const [digest, size] of m.blobs) await checkBlob(client, { repo: m.repo, digest, size, exists: "yes", ackedAt: 0, dirty: true }, opts, true);
      for (const child of m.children) {
        if (ledger.manifest(m.repo, child)?.exists === "no") problems.push(`index ${m.repo}@${m.digest} lists ${child}, which is gone`);
      }
    }
    m.dirty = false;
  }

  for (const b of pick(ledger.blobs.values(), opts, 25, (b) => b.exists === "unknown")) {
    await checkBlob(client, b, opts, ledger.referenced(b.repo, b.digest));
    b.dirty = false;
  }

  for (const t of pick(ledger.tags.values(), opts, 15, (t) => t.candidates.size > 1)) {
    const res = await client.send("GET", `/v2/${t.repo}/manifests/${t.tag}`, { headers: { Accept: ACCEPT } });
    const value = res.status === 200 ? await digestOf(res) : res.status === 404 ? null : undefined;
    if (value === undefined) problems.push(`GET tag ${t.repo}:${t.tag} answered ${res.status}`);
    else if (!t.candidates.has(value)) problems.push(`tag ${t.repo}:${t.tag} is ${value}, but clients only ever set ${[...t.candidates].join(" or ")}`);
    else t.candidates = new Set([value]);
    t.dirty = false;
  }

  for (const p of [...ledger.parked]) {
    const res = await client.send("GET", p.location);
    if (res.status === 204) {
      // "0-0" is what the protocol says for both an empty session and one holding a byte: look at the file.
      const end = Number(res.headers.get("range")?.split("-")[1] ?? "-1");
      const held = end === 0 ? (opts.uploadFileSize(p.location.split("/").pop()!) ?? 0) : end + 1;
      if (held < p.acked) problems.push(`upload ${p.location} holds ${held} bytes, ${p.acked} were acknowledged`);
      else if (held > p.acked + p.inflight) problems.push(`upload ${p.location} holds ${held} bytes, more than were ever sent (${p.acked + p.inflight})`);
      else if (p.inflight > 0 || p.completing) ledger.counts.sessionsResumed++;
      p.acked = Math.min(Math.max(held, p.acked), p.content.byteLength);
      p.inflight = 0;
      p.completing = false;
    } else if (res.status === 404 && p.completing) {
      // The completing PUT was cut off: either it finished (the blob is there) or the session is gone with it.
      const blob = await client.send("HEAD", `/v2/${p.repo}/blobs/${p.digest}`);
      if (blob.status === 200) ledger.blobAcked(p.repo, p.digest, p.content.byteLength);
      else ledger.counts.sessionsGoneCleanly++;
      ledger.parked.delete(p);
    } else {
      problems.push(`upload session ${p.location} (${p.acked} bytes acknowledged) answered ${res.status}`);
      ledger.parked.delete(p);
    }
  }
}

/** A blob is served (in full and hashed when `opts.all`), or its absence is allowed. */
async function checkBlob(client: ChaosClient, b: BlobRecord, opts: VerifyOptions, referenced: boolean): Promise<void> {
  const res = await client.send(opts.all ? "GET" : "HEAD", `/v2/${b.repo}/blobs/${b.digest}`);
  if (res.status === 200) {
    const size = Number(res.headers.get("content-length"));
    if (size !== b.size) client.problems.push(`blob ${b.repo}@${b.digest} is ${size} bytes, acknowledged ${b.size}`);
    if (opts.all && (await digestOf(res)) !== b.digest) client.problems.push(`blob ${b.repo}@${b.digest} served wrong bytes`);
    if (b.exists === "no") client.problems.push(`blob ${b.repo}@${b.digest} is back after its delete was acknowledged`);
    b.exists = "yes";
  } else if (res.status === 404) {
    const collectable = !referenced && Date.now() - b.ackedAt > opts.gcGraceMs;
    if (b.exists === "yes" && !collectable) client.problems.push(`acknowledged blob ${b.repo}@${b.digest} is lost${referenced ? " (a manifest references it)" : ""}`);
    b.exists = "no";
  } else {
    client.problems.push(`blob ${b.repo}@${b.digest} answered ${res.status}`);
  }
}
