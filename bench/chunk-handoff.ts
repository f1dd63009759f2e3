/**
 * @module What it costs when each chunk of an upload lands on another
 * process: a 1 GiB upload in 10 chunks alternating between two registries
 * opened on one data directory (as two workers are), once continuing from
 * the hash state saved with the session, once with the state dropped
 * before every chunk so each process re-reads and re-hashes what the
 * upload holds (what every process did before the state was saved).
 *
 *   bun bench/chunk-handoff.ts [MiB per chunk, default 100] [chunks, default 10]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openRegistry } from "../lib/registry/registry.ts";
import { appendUpload, completeUpload, startUpload } from "../lib/registry/uploads.ts";

const perChunkMiB = Number(process.argv[2] ?? 100);
const chunks = Number(process.argv[3] ?? 10);
const mib = new Uint8Array(1024 * 1024).map((_, i) => (i * 31) & 255);

async function* body(n: number) {
  for (let i = 0; i < n; i++) yield mib;
}

for (const mode of ["saved state", "re-read each chunk"] as const) {
  const dir = mkdtempSync(join(tmpdir(), "mcr-handoff-"));
  const a = await openRegistry(dir);
  const b = await openRegistry(dir);
  try {
    const { id } = await startUpload(a, "bench/handoff");
    const started = performance.now();
    let at = 0;
    for (let k = 0; k < chunks; k++) {
      const reg = k % 2 === 0 ? a : b;
      if (mode !== "saved state") await reg.db.updateTable("uploads").set({ hashed_size: null, hash_state: null }).where("id", "=", id).execute();
      at = (await appendUpload(reg, "bench/handoff", id, body(perChunkMiB), at)).size;
    }
    const seconds = (performance.now() - started) / 1000;
    const hasher = new Bun.CryptoHasher("sha256");
    for (let i = 0; i < chunks * perChunkMiB; i++) hasher.update(mib);
    await completeUpload(a, "bench/handoff", id, `sha256:${hasher.digest("hex")}`);
    console.log(`${mode}: ${chunks} chunks of ${perChunkMiB} MiB alternating between two processes in ${seconds.toFixed(2)} s`);
  } finally {
    await a.close();
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
