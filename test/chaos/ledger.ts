/**
 * @module What the registry acknowledged, as the chaos clients saw it. A
 * thing is known to exist (the server answered 201/202), known to be gone
 * (a delete was acknowledged), or unknown (the server died with the
 * request in flight). After each restart the verifier resolves the
 * unknowns by looking, and anything known that the registry contradicts
 * is a lost acknowledgement.
 */

/** What the clients know about one object. */
export type Known = "yes" | "no" | "unknown";

/** A manifest pushed by a client. */
export interface ManifestRecord {
  repo: string;
  digest: string;
  /** Blobs it references, by digest, with their sizes. */
  blobs: Map<string, number>;
  /** Child manifests (an index). */
  children: string[];
  exists: Known;
  /** Changed since the verifier last looked. */
  dirty: boolean;
}

/** A blob in one repository. */
export interface BlobRecord {
  repo: string;
  digest: string;
  size: number;
  exists: Known;
  /** When it was last acknowledged: GC may reclaim an unreferenced blob once its grace has passed. */
  ackedAt: number;
  dirty: boolean;
}

/** A tag: the values it may hold now (null: no tag). One client owns each tag, so at most one move is in flight. */
export interface TagRecord {
  repo: string;
  tag: string;
  candidates: Set<string | null>;
  dirty: boolean;
}

/** An upload session a client parks and resumes across crashes. */
export interface ParkedUpload {
  repo: string;
  location: string;
  content: Uint8Array;
  digest: string;
  /** Bytes the server acknowledged holding. */
  acked: number;
  /** Bytes of a chunk in flight when the server died: the session may hold up to acked + inflight. */
  inflight: number;
  /** A PUT completing it was in flight when the server died. */
  completing: boolean;
}

const key = (repo: string, digest: string) => `${repo}@${digest}`;

/** Every acknowledgement of a run. */
export class Ledger {
  readonly manifests = new Map<string, ManifestRecord>();
  readonly blobs = new Map<string, BlobRecord>();
  readonly tags = new Map<string, TagRecord>();
  readonly parked = new Set<ParkedUpload>();
  /** Counters for the report. */
  readonly counts = { manifestsAcked: 0, blobsAcked: 0, tagMoves: 0, deletes: 0, interrupted: 0, sessionsResumed: 0, sessionsGoneCleanly: 0 };

  manifest(repo: string, digest: string): ManifestRecord | undefined {
    return this.manifests.get(key(repo, digest));
  }

  /** A manifest push is about to be sent. */
  pushingManifest(repo: string, digest: string, blobs: Map<string, number>, children: string[]): ManifestRecord {
    const existing = this.manifests.get(key(repo, digest));
    const record = existing ?? { repo, digest, blobs, children, exists: "unknown" as Known, dirty: true };
    if (record.exists !== "yes") record.exists = "unknown";
    record.dirty = true;
    this.manifests.set(key(repo, digest), record);
    return record;
  }

  /** The record of blob `digest` in `repo`; a new one is of unknown existence. */
  blob(repo: string, digest: string, size: number): BlobRecord {
    const k = key(repo, digest);
    let record = this.blobs.get(k);
    if (!record) {
      record = { repo, digest, size, exists: "unknown", ackedAt: Date.now(), dirty: true };
      this.blobs.set(k, record);
    }
    return record;
  }

  /** The blob was acknowledged (201) in `repo`. */
  blobAcked(repo: string, digest: string, size: number): BlobRecord {
    const record = this.blob(repo, digest, size);
    record.exists = "yes";
    record.ackedAt = Date.now();
    record.dirty = true;
    this.counts.blobsAcked++;
    return record;
  }

  /** Whether a manifest of `repo` that may exist references blob `digest`. */
  referenced(repo: string, digest: string): boolean {
    for (const m of this.manifests.values()) if (m.repo === repo && m.exists !== "no" && m.blobs.has(digest)) return true;
    return false;
  }

  tag(repo: string, tag: string): TagRecord {
    const k = `${repo}:${tag}`;
    let record = this.tags.get(k);
    if (!record) {
      record = { repo, tag, candidates: new Set([null]), dirty: true };
      this.tags.set(k, record);
    }
    return record;
  }

  /** Tags of `repo` that may point at `digest` (a delete by digest takes them all). */
  tagsMaybeAt(repo: string, digest: string): TagRecord[] {
    return [...this.tags.values()].filter((t) => t.repo === repo && t.candidates.has(digest));
  }
}
