/**
 * @module The empty JSON blob `{}` (application/vnd.oci.empty.v1+json),
 * the config of artifacts that have none. Its bytes are fixed, so the
 * registry can provide it when a client references it without pushing it.
 */
import { sha256Digest } from "../oci/digest.ts";
import type { Registry } from "./registry.ts";

const EMPTY_JSON = new TextEncoder().encode("{}");

/** sha256:44136fa3…, the digest of `{}`. */
export const EMPTY_JSON_DIGEST = sha256Digest(EMPTY_JSON);

/** Makes sure the store holds the empty JSON blob (verified like any upload). */
export async function ensureEmptyJsonBlob(reg: Registry): Promise<void> {
  if (await reg.store.stat(EMPTY_JSON_DIGEST)) return;
  const id = crypto.randomUUID();
  await reg.store.beginUpload(id);
  try {
    await reg.store.appendUpload(id, [EMPTY_JSON]);
    await reg.store.commitUpload(id, EMPTY_JSON_DIGEST);
  } finally {
    // The blob has its own name now; the upload's is no longer needed.
    await reg.store.abortUpload(id);
  }
}
