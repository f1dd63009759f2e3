/**
 * @module The file-system blob store on a full disk (a small tmpfs): a
 * write that fails while the body is still arriving is an error of the
 * append, never an unhandled rejection (which ends a Bun process), on both
 * write paths; and once the upload is dropped its space is back.
 */
import { afterAll, afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RegistryError } from "../../../lib/errors.ts";
import { FsBlobStore } from "../../../lib/storage/fs-store.ts";
import { smallDisk, type SmallDisk } from "../../support/small-disk.ts";

const MiB = 1024 * 1024;
const disk = await smallDisk(4 * MiB, "test/lib/storage/fs-store-full.test.ts");

describe.skipIf(disk === null)("FsBlobStore on a full disk", () => {
  const unhandled: unknown[] = [];
  const record = (reason: unknown) => void unhandled.push(reason);
  let root: string;

  beforeEach(() => {
    unhandled.length = 0;
    process.on("unhandledRejection", record);
    root = join((disk as SmallDisk).path, `store-${crypto.randomUUID()}`);
    mkdirSync(root);
  });
  afterEach(() => {
    process.off("unhandledRejection", record);
    rmSync(root, { recursive: true, force: true });
  });
  afterAll(async () => {
    await disk?.unmount();
  });

  test.each([
    ["with O_DIRECT", true],
    ["through the page cache", false],
  ])("a write that fails while the body is awaited is the append's error, and abort gives the space back (%s)", async (_how, directIo) => {
    const store = new FsBlobStore(root, { directIo });
    await store.beginUpload("full");
    const free = disk!.free();
    // Less room than one piece (256 KiB, or 1 MiB with O_DIRECT) is left.
    writeFileSync(join(root, "filler"), new Uint8Array(free - 64 * 1024));
    const fillerFree = disk!.free();
    async function* slowBody(): AsyncIterable<Uint8Array> {
      // One whole piece: it is written, without waiting, while the body is awaited...
      yield new Uint8Array(directIo ? MiB : 256 * 1024).fill(7);
      // ...and fails meanwhile: nothing is awaiting it for these 200 ms.
      await Bun.sleep(200);
      yield new Uint8Array(MiB).fill(8);
    }
    let error: unknown = null;
    await store.appendUpload("full", slowBody()).catch((caught: unknown) => (error = caught));
    // Give a stray rejection the turn of the event loop that reports it.
    await Bun.sleep(20);
    expect(unhandled.map(String)).toEqual([]);
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).code).toBe("INSUFFICIENT_STORAGE");
    await store.abortUpload("full");
    expect(readdirSync(store.layout.uploadsDir)).toEqual([]);
    expect(disk!.free()).toBeGreaterThanOrEqual(fillerFree);
  });
});
