/**
 * @module Reading blobs through a repository: a blob is served only by a
 * repository it was pushed or mounted to, whatever else the store holds.
 */
import { fail } from "../errors.ts";
import { findLinkedBlob, touchBlob } from "../db/queries/blobs.ts";
import type { ByteRange } from "../storage/blob-store.ts";
import type { Registry } from "./registry.ts";

/** A touch refreshes `last_seen_at` at most this often, so reads rarely write. */
const TOUCH_INTERVAL_MS = 60_000;

/** Size of blob `digest` in repository `name`; throws BLOB_UNKNOWN. Counts as a use for GC. */
export async function statBlob(reg: Registry, name: string, digest: string): Promise<{ size: number }> {
  const blob = await findLinkedBlob(reg.db, name, digest);
  if (!blob) fail("BLOB_UNKNOWN", "blob unknown to registry", { digest });
  const now = reg.now();
  if (now - blob.last_seen_at > TOUCH_INTERVAL_MS) await touchBlob(reg.db, digest, now);
  return { size: blob.size };
}

/** An opened blob: its full size, the range chosen, and the bytes of that range. */
export interface OpenedBlob {
  size: number;
  range: ByteRange | null;
  body: Blob;
}

/**
 * The bytes of blob `digest` in repository `name`; `pickRange` chooses a
 * range once the size is known (null for all). Throws BLOB_UNKNOWN.
 */
export async function openBlob(
  reg: Registry,
  name: string,
  digest: string,
  pickRange: (size: number) => ByteRange | null = () => null,
): Promise<OpenedBlob> {
  const { size } = await statBlob(reg, name, digest);
  const range = pickRange(size);
  const body = await reg.store.open(digest, range ?? undefined);
  if (!body) fail("BLOB_UNKNOWN", "blob is recorded but its file is missing (run mcr gc to reconcile)", { digest });
  return { size, range, body };
}
