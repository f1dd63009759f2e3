/**
 * @module The checks run on a data directory while no server is running
 * (right after a SIGKILL): SQLite's own integrity and foreign-key checks,
 * every blob row backed by a file of its size, every manifest row's bytes
 * hashing to its digest, and every blob file hashing to its name. Files
 * that no row owns (a crash between writing and recording) are garbage for
 * GC, not damage: they are counted, not failed.
 */
import { Database } from "bun:sqlite";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { sha256Digest } from "../../lib/oci/digest.ts";

/** What a check found besides problems. */
export interface OfflineStats {
  blobFiles: number;
  blobFilesHashed: number;
  orphanBlobFiles: number;
  orphanUploadFiles: number;
  /** Upload rows whose file is gone (a crash after the file moved, before the row went). */
  uploadRowsWithoutFile: number;
}

/** Files already hashed and found right, by path and size, so each round hashes only what is new. */
export type HashCache = Map<string, number>;

async function hashFile(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(path).stream()) hasher.update(chunk);
  return `sha256:${hasher.digest("hex")}`;
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Checks `dataDir`; returns the problems found and what it counted. */
export async function offlineCheck(dataDir: string, cache: HashCache): Promise<{ problems: string[]; stats: OfflineStats }> {
  const problems: string[] = [];
  const db = new Database(join(dataDir, "mcr.db"));
  try {
    const integrity = db.query("pragma integrity_check").all() as Record<string, string>[];
    const verdict = integrity.map((r) => Object.values(r)[0]).join("; ");
    if (verdict !== "ok") problems.push(`integrity_check: ${verdict}`);
    const fk = db.query("pragma foreign_key_check").all();
    if (fk.length > 0) problems.push(`foreign_key_check: ${JSON.stringify(fk.slice(0, 5))}`);

    const blobsDir = join(dataDir, "blobs", "sha256");
    const rows = db.query("select digest, size from blobs").all() as { digest: string; size: number }[];
    const recorded = new Set<string>();
    for (const { digest, size } of rows) {
      const hex = digest.slice("sha256:".length);
      recorded.add(hex);
      const actual = statSync(join(blobsDir, hex.slice(0, 2), hex), { throwIfNoEntry: false })?.size;
      if (actual === undefined) problems.push(`blob row ${digest} has no file`);
      else if (actual !== size) problems.push(`blob ${digest} is recorded as ${size} bytes, its file has ${actual}`);
    }

    for (const m of db.query("select digest, content, size from manifests").all() as { digest: string; content: Uint8Array; size: number }[]) {
      if (sha256Digest(m.content) !== m.digest || m.content.byteLength !== m.size) problems.push(`manifest row ${m.digest} holds other bytes`);
    }

    const stats: OfflineStats = { blobFiles: 0, blobFilesHashed: 0, orphanBlobFiles: 0, orphanUploadFiles: 0, uploadRowsWithoutFile: 0 };
    for (const fan of list(blobsDir)) {
      for (const hex of list(join(blobsDir, fan))) {
        const path = join(blobsDir, fan, hex);
        const size = statSync(path, { throwIfNoEntry: false })?.size;
        if (size === undefined) continue;
        stats.blobFiles++;
        if (!recorded.has(hex)) stats.orphanBlobFiles++;
        if (cache.get(path) === size) continue;
        stats.blobFilesHashed++;
        const actual = await hashFile(path);
        if (actual !== `sha256:${hex}`) problems.push(`blob file ${fan}/${hex} hashes to ${actual}`);
        else cache.set(path, size);
      }
    }

    const uploadRows = new Set((db.query("select id from uploads").all() as { id: string }[]).map((r) => r.id));
    const uploadFiles = new Set(list(join(dataDir, "uploads")));
    for (const id of uploadFiles) if (!uploadRows.has(id)) stats.orphanUploadFiles++;
    for (const id of uploadRows) if (!uploadFiles.has(id)) stats.uploadRowsWithoutFile++;
    return { problems, stats };
  } finally {
    db.close();
  }
}
