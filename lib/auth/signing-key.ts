/**
 * @module The Ed25519 key that signs registry tokens: generated at first
 * start, kept in the data directory with mode 0600, shared by every
 * process that opens the same data directory.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";

/** A loaded signing key and its id (a hash of the public key). */
export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  kid: string;
}

/** Loads the key at `path`, creating it first when absent. */
export function loadSigningKey(path: string): SigningKey {
  let pem: string;
  try {
    pem = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    const generated = generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }).toString();
    try {
      writeFileSync(path, generated, { mode: 0o600, flag: "wx" });
      pem = generated;
    } catch (raced) {
      // Another process created it first: use theirs.
      if ((raced as NodeJS.ErrnoException).code !== "EEXIST") throw raced;
      pem = readFileSync(path, "utf8");
    }
  }
  chmodSync(path, 0o600);
  return keyFromPem(pem);
}

/** A signing key from PKCS#8 PEM text. */
export function keyFromPem(pem: string): SigningKey {
  const privateKey = createPrivateKey(pem);
  const publicKey = createPublicKey(privateKey);
  const der = publicKey.export({ format: "der", type: "spki" });
  const kid = createHash("sha256").update(der).digest("base64url").slice(0, 16);
  return { privateKey, publicKey, kid };
}

/** A fresh key that is stored nowhere (for tests). */
export function ephemeralSigningKey(): SigningKey {
  return keyFromPem(generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }).toString());
}
