/**
 * @module The blob store contract (blob-store.suite.ts) on the file system.
 */
import { FsBlobStore } from "../../../lib/storage/fs-store.ts";
import { tempDir } from "../../support/temp.ts";
import { runBlobStoreSuite } from "./blob-store.suite.ts";

runBlobStoreSuite("FsBlobStore", async () => {
  const dir = tempDir();
  return { store: new FsBlobStore(dir), reopen: () => new FsBlobStore(dir) };
});
