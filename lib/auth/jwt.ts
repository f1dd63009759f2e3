/**
 * @module Registry tokens: compact JWTs signed with EdDSA (Ed25519). Only
 * that algorithm is accepted on the way in, whatever the header claims.
 */
import { sign, verify } from "node:crypto";
import { fail } from "../errors.ts";
import type { SigningKey } from "./signing-key.ts";

/** One grant of the Docker token spec: actions on a named resource. */
export interface AccessClaim {
  type: string;
  name: string;
  actions: string[];
}

/** The claims mcr puts in a registry token. */
export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  nbf: number;
  iat: number;
  jti: string;
  access: AccessClaim[];
  /** The access token the JWT was obtained with, if any: revoking it ends the JWT too. */
  tid?: string;
  /** The account's id: a new account reusing a removed one's name does not inherit its tokens. */
  uid?: number;
  /** For a JWT issued from a password: the account's password version then; a password change ends the JWT. */
  pwv?: number;
}

const ISSUER = "mcr";
/** Longest token string accepted before any parsing. */
export const MAX_JWT_LENGTH = 8192;

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** Signs `claims` (iss is filled in). */
export function signJwt(key: SigningKey, claims: Omit<TokenClaims, "iss">): string {
  const header = b64({ alg: "EdDSA", typ: "JWT", kid: key.kid });
  const payload = b64({ iss: ISSUER, ...claims });
  const signature = sign(null, Buffer.from(`${header}.${payload}`), key.privateKey).toString("base64url");
  return `${header}.${payload}.${signature}`;
}

/** Verifies signature, algorithm, issuer, audience and time; throws UNAUTHORIZED. */
export function verifyJwt(key: SigningKey, token: string, audience: string, nowSeconds: number): TokenClaims {
  if (token.length > MAX_JWT_LENGTH) fail("UNAUTHORIZED", "token too long");
  const parts = token.split(".");
  if (parts.length !== 3) fail("UNAUTHORIZED", "malformed token");
  const [header, payload, signature] = parts as [string, string, string];
  const head = decode(header) as { alg?: unknown };
  if (head.alg !== "EdDSA") fail("UNAUTHORIZED", "unsupported token algorithm");
  const ok = verify(null, Buffer.from(`${header}.${payload}`), key.publicKey, Buffer.from(signature, "base64url"));
  if (!ok) fail("UNAUTHORIZED", "invalid token signature");
  const claims = decode(payload) as Partial<TokenClaims>;
  if (claims.iss !== ISSUER || claims.aud !== audience) fail("UNAUTHORIZED", "token not issued for this registry");
  if (typeof claims.exp !== "number" || claims.exp <= nowSeconds) fail("UNAUTHORIZED", "token expired");
  if (typeof claims.nbf === "number" && claims.nbf > nowSeconds + 60) fail("UNAUTHORIZED", "token not yet valid");
  if (typeof claims.sub !== "string" || !Array.isArray(claims.access)) fail("UNAUTHORIZED", "malformed token claims");
  return claims as TokenClaims;
}

function decode(part: string): unknown {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    if (typeof value !== "object" || value === null) throw new Error("not an object");
    return value;
  } catch {
    fail("UNAUTHORIZED", "malformed token");
  }
}
