/**
 * @module `mcr fsck`: checks that the store and the database agree. Every
 * recorded blob must have its file, of its size, hashing to its digest;
 * every manifest's bytes must hash to its digest; no reference may point
 * at a missing row. With `repair`, only what is safe is done: a blob whose
 * bytes are wrong is deleted (it must never be served) and no repository
 * offers it any more, so HEAD and GET answer BLOB_UNKNOWN and clients push
 * it again; its row goes too unless manifests reference it, which are
 * reported as broken until it is pushed again (or restored from a backup).
 * Upload sessions whose bytes are gone are closed. Files without a row are
 * reported, not removed: GC reclaims them (one may be a blob being
 * committed right now). A row whose file is missing is reported, not
 * repaired: a data directory mounted wrong would lose every membership.
 * With `sample`, every recorded blob is still checked to be stored with
 * its size (from one listing of the store: on S3 a LIST per 1,000 blobs,
 * not a request per blob), but only that many, chosen at random, are read
 * and hashed: a full hash of a large bucket reads every byte back.
 */
import {
  allUploadIds,
  blobRowsAfter,
  danglingReferences,
  deleteUploadRows,
  forgetLostBlob,
  manifestsAfter,
  recordedDigests,
} from "../db/queries/maintenance.ts";
import { sha256Digest, sha256OfBlob } from "../oci/digest.ts";
import type { Registry } from "../registry/registry.ts";

/** Corruption: exits non-zero. */
export const problemKinds = ["missing_file", "corrupt_blob", "size_mismatch", "manifest_corrupt", "dangling_reference"] as const;
export type ProblemKind = (typeof problemKinds)[number];

/** One thing found wrong. */
export interface FsckProblem {
  kind: ProblemKind;
  /** The blob or manifest digest, or the row holding a dangling reference. */
  subject: string;
  message: string;
  /** What --repair did about it, if anything. */
  repaired?: string;
}

/** Something worth knowing that is not corruption. */
export interface FsckNote {
  kind: "unrecorded_file" | "upload_without_bytes";
  subject: string;
  message: string;
  repaired?: string;
}

/** What fsck found. */
export interface FsckReport {
  /** Recorded blobs checked (stored, of their size), and how many of them were read and hashed (all, unless sampled), and their bytes. */
  blobs: { checked: number; hashed: number; bytes: number };
  manifests: { checked: number };
  problems: FsckProblem[];
  notes: FsckNote[];
}

const PAGE = 500;

async function hashBlob(reg: Registry, digest: string): Promise<{ digest: string; size: number } | null> {
  const file = await reg.store.open(digest);
  return file ? sha256OfBlob(file) : null;
}

/** Manifests named at most, per blob, in a repair's message. */
const NAMED_MANIFESTS = 10;

/**
 * Deletes the corrupt file of blob `digest`, then (unless a push has put
 * good bytes back meanwhile) its memberships, and its row when nothing
 * references it; says what was done.
 */
async function dropCorruptBlob(reg: Registry, digest: string): Promise<string> {
  await reg.store.delete(digest);
  const outcome = await reg.db.transaction().execute(async (trx) => {
    // A push of the same blob that placed its file before this transaction links it after it, or has linked it already.
    if (await reg.store.stat(digest)) return null;
    return forgetLostBlob(trx, digest, NAMED_MANIFESTS);
  });
  if (!outcome) return "deleted the corrupt file; it has been pushed again since";
  if (outcome.rowRemoved) return "deleted the corrupt file and its record; push it again";
  return `deleted the corrupt file; no repository serves it until it is pushed again (or restored from a backup); until then these manifests are broken: ${outcome.manifests.join(", ")}`;
}

/** How fsck runs. */
export interface FsckOptions {
  repair?: boolean;
  /** Hash only this many recorded blobs, chosen at random; the rest are checked for presence and size only. */
  sample?: number;
}

/** Every stored blob's size, from one listing of the store. */
async function storedSizes(reg: Registry): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  for await (const stored of reg.store.list()) sizes.set(stored.digest, stored.size);
  return sizes;
}

/**
 * The recorded blobs to hash: every one, or with `sample` a uniform
 * random choice of that many (reservoir sampling over the walk), checking
 * the others against the listing as it goes.
 */
async function blobsToHash(reg: Registry, report: FsckReport, sample: number | undefined): Promise<AsyncIterable<{ digest: string; size: number }>> {
  if (sample === undefined) {
    return (async function* () {
      for (let after = ""; ; ) {
        const rows = await blobRowsAfter(reg.db, after, PAGE);
        yield* rows;
        if (rows.length < PAGE) return;
        after = rows[rows.length - 1]!.digest;
      }
    })();
  }
  const sizes = await storedSizes(reg);
  const chosen: { digest: string; size: number }[] = [];
  let seen = 0;
  for (let after = ""; ; ) {
    const rows = await blobRowsAfter(reg.db, after, PAGE);
    for (const row of rows) {
      const size = sizes.get(row.digest);
      if (size === undefined) {
        report.blobs.checked++;
        report.problems.push({ kind: "missing_file", subject: row.digest, message: "recorded, but its file is missing" });
        continue;
      }
      if (size !== row.size) {
        report.blobs.checked++;
        report.problems.push({ kind: "size_mismatch", subject: row.digest, message: `the file has ${size} bytes, the database records ${row.size}` });
        continue;
      }
      seen++;
      if (chosen.length < sample) chosen.push(row);
      else {
        const at = Math.floor(Math.random() * seen);
        if (at < sample) chosen[at] = row;
      }
    }
    if (rows.length < PAGE) break;
    after = rows[rows.length - 1]!.digest;
  }
  // The ones not chosen were found stored with their size.
  report.blobs.checked += seen - chosen.length;
  return (async function* () {
    yield* chosen;
  })();
}

/** Checks everything; with `repair`, fixes what is safe to fix. */
export async function fsck(reg: Registry, options: FsckOptions = {}): Promise<FsckReport> {
  const report: FsckReport = { blobs: { checked: 0, hashed: 0, bytes: 0 }, manifests: { checked: 0 }, problems: [], notes: [] };

  for await (const row of await blobsToHash(reg, report, options.sample)) {
    const actual = await hashBlob(reg, row.digest);
    report.blobs.checked++;
    if (!actual) {
      report.problems.push({ kind: "missing_file", subject: row.digest, message: "recorded, but its file is missing" });
      continue;
    }
    report.blobs.hashed++;
    report.blobs.bytes += actual.size;
    if (actual.digest !== row.digest) {
      const problem: FsckProblem = { kind: "corrupt_blob", subject: row.digest, message: `its bytes hash to ${actual.digest}` };
      if (options.repair) problem.repaired = await dropCorruptBlob(reg, row.digest);
      report.problems.push(problem);
    } else if (actual.size !== row.size) {
      report.problems.push({ kind: "size_mismatch", subject: row.digest, message: `the file has ${actual.size} bytes, the database records ${row.size}` });
    }
  }

  // Files the database does not know: committed after the walk above, or left by a crash between commit and record.
  let pending: string[] = [];
  const flush = async () => {
    const known = await recordedDigests(reg.db, pending);
    for (const digest of pending) {
      if (!known.has(digest)) report.notes.push({ kind: "unrecorded_file", subject: digest, message: "a blob file no row records (mcr gc reclaims it)" });
    }
    pending = [];
  };
  for await (const stored of reg.store.list()) {
    pending.push(stored.digest);
    if (pending.length >= PAGE) await flush();
  }
  await flush();

  for (let after = 0; ; ) {
    const rows = await manifestsAfter(reg.db, after, PAGE);
    for (const m of rows) {
      report.manifests.checked++;
      const actual = sha256Digest(m.content);
      if (actual !== m.digest || m.content.byteLength !== m.size) {
        report.problems.push({ kind: "manifest_corrupt", subject: `${m.repository}@${m.digest}`, message: `its stored bytes hash to ${actual} (${m.content.byteLength} bytes)` });
      }
    }
    if (rows.length < PAGE) break;
    after = rows[rows.length - 1]!.id;
  }

  for (const ref of await danglingReferences(reg.db, 1000)) {
    report.problems.push({ kind: "dangling_reference", subject: `${ref.table}: ${ref.from}`, message: `references ${ref.missing}, which does not exist` });
  }

  const orphaned: string[] = [];
  for (const id of await allUploadIds(reg.db)) {
    if ((await reg.store.uploadSize(id)) === null) orphaned.push(id);
  }
  if (options.repair && orphaned.length > 0) await deleteUploadRows(reg.db, orphaned);
  for (const id of orphaned) {
    report.notes.push({ kind: "upload_without_bytes", subject: id, message: "an upload session whose bytes are gone", ...(options.repair ? { repaired: "closed the session" } : {}) });
  }
  return report;
}
