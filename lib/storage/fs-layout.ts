/**
 * @module The on-disk layout of the data directory, documented once:
 *
 *   <data>/mcr.db                    SQLite database (and -wal, -shm)
 *   <data>/blobs/sha256/ab/abcdef…   committed blobs, named by the hex digest,
 *                                    fanned out by its first two characters
 *   <data>/uploads/<id>              bytes of an upload in progress (after its commit,
 *                                    briefly, a second name of the blob)
 *   <data>/signing-key.pem           Ed25519 key that signs registry tokens (0600)
 */
import { join } from "node:path";
import { fail } from "../errors.ts";

const UPLOAD_ID = /^[A-Za-z0-9-]{1,64}$/;
const SHA256 = /^sha256:([a-f0-9]{64})$/;

/** Paths inside one data directory. */
export class FsLayout {
  constructor(readonly root: string) {}

  get database(): string {
    return join(this.root, "mcr.db");
  }
  get blobsDir(): string {
    return join(this.root, "blobs", "sha256");
  }
  get uploadsDir(): string {
    return join(this.root, "uploads");
  }
  get signingKey(): string {
    return join(this.root, "signing-key.pem");
  }

  /** The file of a committed blob. Only sha256 digests have one. */
  blob(digest: string): string {
    const hex = SHA256.exec(digest)?.[1] ?? fail("DIGEST_INVALID", "invalid digest", { digest });
    return join(this.blobsDir, hex.slice(0, 2), hex);
  }

  /** The file of an upload; ids are checked so no path can escape the directory. */
  upload(id: string): string {
    if (!UPLOAD_ID.test(id)) fail("BLOB_UPLOAD_UNKNOWN", "invalid upload id", { id: id.slice(0, 80) });
    return join(this.uploadsDir, id);
  }
}
