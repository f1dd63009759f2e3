/**
 * @module SHA-256 digests in the OCI `sha256:<hex>` form.
 */

/** The digest of `bytes`. */
export function sha256Digest(bytes: Uint8Array | string): string {
  return `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`;
}

/** The digest and length of a blob's bytes, streamed (a file, an S3 object). */
export async function sha256OfBlob(blob: Blob): Promise<{ digest: string; size: number }> {
  const hasher = new Bun.CryptoHasher("sha256");
  let size = 0;
  for await (const chunk of blob.stream()) {
    hasher.update(chunk);
    size += chunk.byteLength;
  }
  return { digest: `sha256:${hasher.digest("hex")}`, size };
}

/** The hex part of a `sha256:<hex>` digest. */
export function digestHex(digest: string): string {
  return digest.slice(digest.indexOf(":") + 1);
}
