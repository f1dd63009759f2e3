/**
 * @module Password hashing (argon2id) and random secrets.
 */
import { timingSafeEqual } from "node:crypto";

/** argon2id at OWASP's recommended cost: 19 MiB, two passes. */
const ARGON2 = { algorithm: "argon2id", memoryCost: 19456, timeCost: 2 } as const;

/** Longest password accepted, so hashing cannot be made to take forever. */
export const MAX_PASSWORD_LENGTH = 1024;

/** An argon2id hash of `password`. */
export function hashPassword(password: string): Promise<string> {
  return Bun.password.hash(password, ARGON2);
}

/** Whether `password` matches `hash`. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  if (password.length > MAX_PASSWORD_LENGTH) return false;
  return Bun.password.verify(password, hash).catch(() => false);
}

let decoy: Promise<string> | null = null;

/**
 * Checks `password` against a hash no password matches, at the cost of a
 * real check: a login for an account that does not exist (or cannot use
 * a password) must take as long as one with a wrong password, or the
 * response time tells which user names are real.
 */
export async function verifyDecoy(password: string): Promise<false> {
  decoy ??= hashPassword(randomSecret(32));
  await verifyPassword(password.slice(0, MAX_PASSWORD_LENGTH), await decoy);
  return false;
}

/** `bytes` random bytes, base64url-encoded. */
export function randomSecret(bytes = 24): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("base64url");
}

/** Hex SHA-256 of a high-entropy secret (tokens need no slow hash). */
export function hashSecret(secret: string): string {
  return new Bun.CryptoHasher("sha256").update(secret).digest("hex");
}

/** Constant-time string equality. */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
