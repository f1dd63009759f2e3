/**
 * @module Registry JWTs: only EdDSA signatures by our key, for our audience, in time.
 */
import { describe, expect, test } from "bun:test";
import { signJwt, verifyJwt } from "../../../lib/auth/jwt.ts";
import { ephemeralSigningKey } from "../../../lib/auth/signing-key.ts";
import { RegistryError } from "../../../lib/errors.ts";

const key = ephemeralSigningKey();
const now = 1_800_000_000;
const claims = { sub: "alice", aud: "registry.test", iat: now, nbf: now, exp: now + 300, jti: "j1", access: [{ type: "repository", name: "app", actions: ["pull"] }] };
const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString("base64url");

function rejects(token: string, audience = "registry.test", at = now): string {
  try {
    verifyJwt(key, token, audience, at);
  } catch (error) {
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).code).toBe("UNAUTHORIZED");
    return (error as Error).message;
  }
  throw new Error("token was accepted");
}

describe("registry JWTs", () => {
  test("a token we signed verifies and carries its claims", () => {
    const verified = verifyJwt(key, signJwt(key, claims), "registry.test", now + 10);
    expect(verified).toMatchObject({ iss: "mcr", sub: "alice", access: claims.access });
  });

  test("a token signed by another key is refused", () => {
    expect(rejects(signJwt(ephemeralSigningKey(), claims))).toMatch(/signature/);
  });

  test("alg none, and any algorithm but EdDSA, is refused", () => {
    const payload = b64({ iss: "mcr", ...claims });
    expect(rejects(`${b64({ alg: "none", typ: "JWT" })}.${payload}.`)).toMatch(/algorithm/);
    const [, , signature] = signJwt(key, claims).split(".");
    expect(rejects(`${b64({ alg: "HS256", typ: "JWT" })}.${payload}.${signature}`)).toMatch(/algorithm/);
  });

  test("a changed payload no longer matches its signature", () => {
    const [header, , signature] = signJwt(key, claims).split(".");
    const forged = b64({ iss: "mcr", ...claims, access: [{ type: "repository", name: "app", actions: ["push"] }] });
    expect(rejects(`${header}.${forged}.${signature}`)).toMatch(/signature/);
  });

  test("expired tokens and tokens for another audience are refused", () => {
    expect(rejects(signJwt(key, claims), "registry.test", now + 300)).toMatch(/expired/);
    expect(rejects(signJwt(key, claims), "other.example")).toMatch(/not issued/);
  });

  test("malformed and oversized tokens are refused without throwing anything else", () => {
    for (const token of ["", "a.b", "a.b.c.d", "!!!.###.$$$", `${b64({ alg: "EdDSA" })}.not-json.x`, "x".repeat(9000)]) {
      rejects(token);
    }
  });
});
