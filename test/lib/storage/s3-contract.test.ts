/**
 * @module The blob store contract (blob-store.suite.ts) on a real S3: a
 * Ceph RADOS Gateway started for the run (test/support/ceph-rgw.ts), one
 * bucket per store; a second run copies blobs in 5 MiB ranges, as blobs
 * over 5 GiB are. Skipped, with the reason printed, where Ceph is not
 * installed (never under CI).
 */
import { describe, test } from "bun:test";
import { S3BlobStore } from "../../../lib/storage/s3-store.ts";
import { freshBucket, rgwUnavailable } from "../../support/ceph-rgw.ts";
import { runBlobStoreSuite } from "./blob-store.suite.ts";

const unavailable = rgwUnavailable();
if (unavailable) {
  describe("S3BlobStore", () => test.skip(unavailable, () => {}));
} else {
  runBlobStoreSuite("S3BlobStore", async () => {
    const options = await freshBucket("mcr/");
    return { store: new S3BlobStore(options), reopen: () => new S3BlobStore(options) };
  });
  // Blobs over 5 GiB are copied to their key in ranges (UploadPartCopy): the same contract with 5 MiB ranges.
  runBlobStoreSuite("S3BlobStore copying in 5 MiB ranges", async () => {
    const options = { ...(await freshBucket("mcr/")), copyPartBytes: 5 * 1024 * 1024 };
    return { store: new S3BlobStore(options), reopen: () => new S3BlobStore(options) };
  });
}
