/**
 * @module The Ed25519 key that signs registry tokens: generated at first
 * start, kept in the data directory with mode 0600, shared by every
 * process that opens the same data directory.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { chmodSync, closeSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";

/** A loaded signing key and its id (a hash of the public key). */
export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  kid: string;
}

/**
 * Loads the key at `path`, creating it first when absent. A new key is
 * written to a temporary file, flushed, and linked into place, so a crash
 * never leaves a half-written key that would stop every later start; an
 * empty file (what an older mcr could leave when killed mid-write) signed
 * nothing and is replaced.
 */
export function loadSigningKey(path: string): SigningKey {
  const existing = readKey(path);
  if (existing.pem !== null) {
    chmodSync(path, 0o600);
    return keyFromPem(existing.pem);
  }
  const generated = generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }).toString();
  const temp = `${path}.${process.pid}.${Date.now()}.tmp`;
  const fd = openSync(temp, "wx", 0o600);
  try {
    writeSync(fd, generated);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    // An empty file is a crashed write from an older mcr: replace it. Otherwise never clobber a key.
    if (existing.empty) renameSync(temp, path);
    else linkSync(temp, path);
  } catch (raced) {
    // Another process created it first: use theirs.
    if ((raced as NodeJS.ErrnoException).code !== "EEXIST") throw raced;
  } finally {
    rmSync(temp, { force: true });
  }
  fsyncDirectory(dirname(path));
  const { pem } = readKey(path);
  if (pem === null) throw new Error(`could not create the signing key at ${path}`);
  return keyFromPem(pem);
}

/** The PEM text at `path` (null when absent or empty), and whether the file exists but is empty. */
function readKey(path: string): { pem: string | null; empty: boolean } {
  try {
    const pem = readFileSync(path, "utf8");
    return pem.trim() === "" ? { pem: null, empty: true } : { pem, empty: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { pem: null, empty: false };
    throw error;
  }
}

function fsyncDirectory(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
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
