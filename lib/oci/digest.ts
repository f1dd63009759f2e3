/**
 * @module SHA-256 digests in the OCI `sha256:<hex>` form.
 */

/** The digest of `bytes`. */
export function sha256Digest(bytes: Uint8Array | string): string {
  return `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`;
}

/** The hex part of a `sha256:<hex>` digest. */
export function digestHex(digest: string): string {
  return digest.slice(digest.indexOf(":") + 1);
}
