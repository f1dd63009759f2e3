/**
 * @module The Ed25519 key that signs registry tokens: generated at first
 * start, kept in the data directory with mode 0600, shared by every
 * process that opens the same data directory; or, for replicas with data
 * directories of their own, one file every replica reads
 * (`auth.signing_key_file`), created once by `mcr auth keygen`.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { chmodSync, closeSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { fail } from "../errors.ts";

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
  const temp = writeNewKey(path);
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

/** Writes a fresh key to a temporary file beside `path` (mode 0600, flushed) and returns its name. */
function writeNewKey(path: string): string {
  const generated = generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }).toString();
  const temp = `${path}.${process.pid}.${Date.now()}.tmp`;
  const fd = openSync(temp, "wx", 0o600);
  try {
    writeSync(fd, generated);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return temp;
}

const SETTING = "auth.signing_key_file";

/**
 * Loads the key file every replica shares (`auth.signing_key_file`). It is
 * never created here: replicas starting together on separate boxes could
 * each make a different one (the very split the setting exists to prevent),
 * and a missing file more likely means a mount that failed. Refuses a file
 * group or others can read, as ssh does for a private key, rather than
 * chmod someone else's (perhaps read-only, mounted) secret.
 */
export function loadSharedSigningKey(path: string): SigningKey {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") fail("INVALID_ARGUMENT", `${SETTING}: ${path} does not exist; create it once with: mcr auth keygen ${path} (then give every replica that same file)`, { key: SETTING });
    fail("INVALID_ARGUMENT", `${SETTING}: cannot read ${path}: ${code ?? String(error)}`, { key: SETTING });
  }
  if ((mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(3, "0");
    fail("INVALID_ARGUMENT", `${SETTING}: ${path} is readable or writable by group or others (mode ${octal}); it is a private key: chmod 600 ${path}`, { key: SETTING });
  }
  const { pem } = readKey(path);
  if (pem === null) fail("INVALID_ARGUMENT", `${SETTING}: ${path} is empty; create a key with: mcr auth keygen FILE`, { key: SETTING });
  try {
    return keyFromPem(pem);
  } catch {
    fail("INVALID_ARGUMENT", `${SETTING}: ${path} is not a PEM private key (Ed25519, PKCS#8)`, { key: SETTING });
  }
}

/**
 * Creates a new key file at `path` (mode 0600) and returns its key, never
 * replacing an existing file: the key is linked into place, so of two
 * concurrent runs one fails and both end with the same file.
 */
export function createSigningKeyFile(path: string): SigningKey {
  let temp: string;
  try {
    temp = writeNewKey(path);
  } catch (error) {
    fail("INVALID_ARGUMENT", `cannot create ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { path });
  }
  try {
    linkSync(temp, path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") fail("ALREADY_EXISTS", `${path} already exists; it is not replaced (a new key would invalidate every token issued with it)`, { path });
    fail("INVALID_ARGUMENT", `cannot create ${path}: ${code ?? String(error)}`, { path });
  } finally {
    rmSync(temp, { force: true });
  }
  fsyncDirectory(dirname(path));
  return loadSharedSigningKey(path);
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
