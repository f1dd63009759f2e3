/**
 * @module Upload sessions shared by processes: two registries opened on
 * one data directory (as two workers are) take turns on one session's
 * chunks. The next chunk continues from the checkpoint the last one saved
 * with the session, whichever process wrote it; a stale memory of the
 * upload is never trusted; bytes a dead writer left past the checkpoint
 * are cut off; and only one request writes a session at a time.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { sha256Digest } from "../../../lib/oci/digest.ts";
import { openRegistry, type Registry } from "../../../lib/registry/registry.ts";
import { appendUpload, cancelUpload, completeUpload, startUpload, uploadStatus } from "../../../lib/registry/uploads.ts";
import { WRITER_LEASE_MS } from "../../../lib/registry/upload-writer.ts";
import { FsLayout } from "../../../lib/storage/fs-layout.ts";
import { testDatabase } from "../../support/postgres.ts";
import { tempDir } from "../../support/temp.ts";

const open: Registry[] = [];
afterEach(async () => {
  for (const reg of open.splice(0)) await reg.close();
});

async function twoProcesses(): Promise<[Registry, Registry, string]> {
  const dataDir = tempDir();
  // Two processes on one registry: on PostgreSQL too under MCR_TEST_DATABASE=postgres.
  const database = await testDatabase();
  const a = await openRegistry(dataDir, { database });
  const b = await openRegistry(dataDir, { database });
  open.push(a, b);
  return [a, b, dataDir];
}

const content = new Uint8Array(3 * 100_000 + 17).map((_, i) => (i * 13 + (i >> 10)) & 255);
const digest = sha256Digest(content);
const chunk = (n: number) => content.subarray(n * 100_000, n === 3 ? undefined : (n + 1) * 100_000);

async function blobBytes(reg: Registry, d: string): Promise<Uint8Array> {
  return new Uint8Array(await (await reg.store.open(d))!.arrayBuffer());
}

describe("chunks of one session on different processes", () => {
  test("alternate between processes, each stale in turn, and make the right blob", async () => {
    const [a, b] = await twoProcesses();
    const { id } = await startUpload(a, "app");
    expect((await appendUpload(a, "app", id, [chunk(0)], 0)).size).toBe(100_000);
    expect((await appendUpload(b, "app", id, [chunk(1)], 100_000)).size).toBe(200_000);
    // a last saw 100,000 bytes: it must take the session's checkpoint, not its own memory.
    expect((await uploadStatus(a, "app", id)).size).toBe(200_000);
    expect((await appendUpload(a, "app", id, [chunk(2)], 200_000)).size).toBe(300_000);
    await expect(appendUpload(b, "app", id, [chunk(3)], 200_000)).rejects.toMatchObject({ code: "CHUNK_OUT_OF_ORDER" });
    expect(await completeUpload(b, "app", id, digest, [chunk(3)])).toEqual({ digest, size: content.length });
    expect(await blobBytes(a, digest)).toEqual(content);
  });

  test("the next process continues from the saved hash state without reading the upload again", async () => {
    const [a, b, dataDir] = await twoProcesses();
    const { id } = await startUpload(a, "app");
    await appendUpload(a, "app", id, [chunk(0)], 0);
    // Overwrite the bytes on disk: a process that re-read the file would hash these and refuse the digest.
    const path = new FsLayout(dataDir).upload(id);
    const onDisk = readFileSync(path);
    writeFileSync(path, new Uint8Array(onDisk.length));
    await appendUpload(b, "app", id, [chunk(1)], 100_000);
    await appendUpload(b, "app", id, [chunk(2)], 200_000);
    expect((await completeUpload(b, "app", id, digest, [chunk(3)])).size).toBe(content.length);
  });

  test("bytes past the checkpoint, left by a writer that died mid-chunk, are cut off", async () => {
    const [a, b, dataDir] = await twoProcesses();
    const { id } = await startUpload(a, "app");
    await appendUpload(a, "app", id, [chunk(0)], 0);
    appendFileSync(new FsLayout(dataDir).upload(id), new Uint8Array(12_345).fill(7));
    expect((await uploadStatus(b, "app", id)).size).toBe(100_000);
    // Even a process whose memory matches the checkpoint cuts the file back to it before writing.
    await appendUpload(a, "app", id, [chunk(1)], 100_000);
    appendFileSync(new FsLayout(dataDir).upload(id), new Uint8Array(3).fill(9));
    await appendUpload(b, "app", id, [content.subarray(200_000)], 200_000);
    await completeUpload(a, "app", id, digest);
    expect(await blobBytes(b, digest)).toEqual(content);
  });

  test("while one process writes a session, another is refused, then takes its turn", async () => {
    const [a, b] = await twoProcesses();
    const { id } = await startUpload(a, "app");
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    async function* slow() {
      yield chunk(0);
      await gate;
    }
    const writing = appendUpload(a, "app", id, slow(), 0);
    await Bun.sleep(50);
    await expect(appendUpload(b, "app", id, [chunk(1)], 0)).rejects.toMatchObject({ code: "CHUNK_OUT_OF_ORDER" });
    release();
    expect((await writing).size).toBe(100_000);
    expect((await appendUpload(b, "app", id, [chunk(1)], 100_000)).size).toBe(200_000);
  });

  test("a chunk cut off midway keeps its bytes, and the next process hashes them from the file", async () => {
    const [a, b] = await twoProcesses();
    const { id } = await startUpload(a, "app");
    async function* broken() {
      yield chunk(0);
      throw new Error("client went away");
    }
    await expect(appendUpload(a, "app", id, broken(), 0)).rejects.toThrow();
    const held = (await uploadStatus(b, "app", id)).size;
    expect(held).toBe(100_000);
    await appendUpload(b, "app", id, [content.subarray(held, 300_000)], held);
    await completeUpload(a, "app", id, digest, [chunk(3)]);
    expect(await blobBytes(a, digest)).toEqual(content);
  });

  test("a lease left by a process that died mid-chunk blocks the session until it lapses, then the next writer goes on", async () => {
    const [a, b] = await twoProcesses();
    let clock = 10_000_000;
    b.now = () => clock;
    const { id } = await startUpload(a, "app");
    await appendUpload(a, "app", id, [chunk(0)], 0);
    // What a process killed while writing leaves behind: its lease, never released.
    await a.db.updateTable("uploads").set({ writer: "dead", writer_until: clock + WRITER_LEASE_MS }).where("id", "=", id).execute();
    await expect(appendUpload(b, "app", id, [chunk(1)], 100_000)).rejects.toMatchObject({ code: "CHUNK_OUT_OF_ORDER", detail: { size: 100_000 } });
    clock += WRITER_LEASE_MS + 1;
    expect((await appendUpload(b, "app", id, [chunk(1)], 100_000)).size).toBe(200_000);
  });

  test("a lease left by a process of this host that is gone (or by this pid in an earlier life) is taken over at once", async () => {
    const [a, b] = await twoProcesses();
    const { id } = await startUpload(a, "app");
    await appendUpload(a, "app", id, [chunk(0)], 0);
    // A process that ran here and exited: its pid is no longer running.
    const gone = Bun.spawnSync(["true"]).pid;
    const lease = (writer: string) =>
      a.db.updateTable("uploads").set({ writer, writer_until: Date.now() + WRITER_LEASE_MS }).where("id", "=", id).execute();
    await lease(`${hostname()}|${gone}|token|lease`);
    expect((await appendUpload(b, "app", id, [chunk(1)], 100_000)).size).toBe(200_000);
    // The same pid as this process but another life of it (a restarted container's server is often pid 1 again).
    await lease(`${hostname()}|${process.pid}|an-earlier-process|lease`);
    expect((await appendUpload(b, "app", id, [chunk(2)], 200_000)).size).toBe(300_000);
    // A live process on this host (this test's own parent) and any process on another host keep their lease.
    await lease(`${hostname()}|${process.ppid}|token|lease`);
    await expect(appendUpload(b, "app", id, [chunk(3)], 300_000)).rejects.toMatchObject({ code: "CHUNK_OUT_OF_ORDER" });
    await lease(`elsewhere.example|${gone}|token|lease`);
    await expect(appendUpload(b, "app", id, [chunk(3)], 300_000)).rejects.toMatchObject({ code: "CHUNK_OUT_OF_ORDER" });
  });

  test("a session cancelled through another process while a chunk is written ends that request as unknown", async () => {
    const [a, b] = await twoProcesses();
    const { id } = await startUpload(a, "app");
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    async function* slow() {
      yield chunk(0);
      await gate;
    }
    const writing = appendUpload(a, "app", id, slow(), 0);
    await Bun.sleep(50);
    await cancelUpload(b, "app", id, { actor: "user:test", source: null });
    release();
    await expect(writing).rejects.toMatchObject({ code: "BLOB_UPLOAD_UNKNOWN" });
  });
});
