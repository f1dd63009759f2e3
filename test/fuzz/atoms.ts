/**
 * @module The hostile values the fuzzer combines: repository names, tags,
 * digests, upload ids, ranges, lengths, queries and header values that a
 * registry must refuse cleanly. Each list mixes attacks with a few valid
 * values, so requests also get past the first check and hit deeper code.
 */
import type { Rng } from "../support/random.ts";

const HEX64 = "a".repeat(64);

/** Repository names: traversal in every spelling, absolute paths, NUL, overlong, odd characters. */
export const hostileNames = [
  "../../etc",
  "..%2f..%2fetc",
  "%2e%2e/%2e%2e/etc",
  "%2e%2e%2f%2e%2e%2fetc",
  ".%2e/x",
  "%2E%2E",
  "a/../../b",
  "a/%2e%2e/%2e%2e/b",
  "/etc/passwd",
  "//etc",
  "a%00b",
  "a%2500b",
  "%00",
  "A".repeat(300),
  "a/".repeat(140) + "a",
  "a".repeat(256),
  "a".repeat(5000),
  "%2F",
  "a%2Fb",
  "%C3%BCnicode",
  "a%20b",
  "a%5Cb",
  "C:%5Cwindows",
  "a//b",
  "a/./b",
  ".",
  "..",
  "-a",
  "a-",
  "a___b",
  "a...b",
  "~root",
  "%24(id)",
  "a;b",
  "a%3Fb",
  "a%23b",
  "%",
  "%zz",
  "%E0%A4%A",
  "blobs",
  "v2",
  "_catalog",
  "fuzz/app/blobs/uploads",
  "fuzz/app/manifests/v1",
] as const;

/** Tags, valid and not. */
export const hostileTags = ["v1", "latest", "a".repeat(128), "a".repeat(129), ".hidden", "-x", "%00", "v%201", "%C3%A9", "v1%2F..", "..", "_", "x".repeat(4000)] as const;

/** Digests: truncated, padded, wrong case, other algorithms, path characters, oversized. */
export function hostileDigests(known: readonly string[]): string[] {
  return [
    ...known,
    `sha256:${"0".repeat(64)}`,
    `sha256:${HEX64.slice(1)}`,
    `sha256:${HEX64}a`,
    `sha256:${HEX64.toUpperCase()}`,
    `SHA256:${HEX64}`,
    `sha512:${"b".repeat(128)}`,
    `md5:${"c".repeat(32)}`,
    `sha256+b64:${HEX64}`,
    "sha256",
    "sha256:",
    ":abc",
    "",
    `sha256:${"z".repeat(64)}`,
    "sha256:..%2f..%2fmcr.db",
    "sha256:%2e%2e",
    `sha256%3A${HEX64}`,
    `sha256:${"%00".repeat(4)}${HEX64.slice(12)}`,
    `sha256:${"a".repeat(10_000)}`,
    `a:${"b".repeat(3000)}`,
    "..",
    "%00",
  ];
}

/** Upload ids, including ones that name other files of the data directory. */
export function hostileUploadIds(live: readonly string[]): string[] {
  return [
    ...live,
    crypto.randomUUID(),
    "..",
    "%2e%2e",
    "..%2f..%2fmcr.db",
    "..%2fsigning-key.pem",
    "mcr.db",
    "signing-key.pem",
    "a".repeat(65),
    "a".repeat(64),
    "%00",
    "x%00y",
    "-",
    "%2F",
  ];
}

/** `Range` values for blob reads. */
export const hostileRanges = [
  "bytes=0-0",
  "bytes=-1",
  "bytes=-0",
  "bytes=0-",
  "bytes=99999999999999999999-",
  "bytes=5-2",
  "bytes=0-0,2-3",
  "bytes=abc",
  "bytes=-99999999999999999999",
  "bytes=0-1e30",
  "bytes= 0-1",
  "items=0-1",
  "bytes=--1",
  "bytes=18446744073709551616-18446744073709551617",
  "bytes=",
  "",
  "bytes=0-0".repeat(500),
] as const;

/** `Content-Range` values for upload chunks. */
export const hostileContentRanges = [
  "0-0",
  "-5-10",
  "0-99999999999999999999",
  "10-5",
  "a-b",
  "0--1",
  "bytes 0-9/10",
  "bytes=0-9",
  "0-9/*",
  "999999999999999-999999999999999",
  "",
  " ",
  "0-9,10-19",
  "0-9007199254740993",
] as const;

/** `Content-Length` values a raw request may declare whatever its body. */
export const hostileContentLengths = ["-1", "abc", "99999999999999999999", "1e3", "0x10", " 5", "5 5", "18446744073709551616", "4294967296", "0"] as const;

/** `n` and `last` of listings. */
export const hostilePaging = ["n=-1", "n=1e99", "n=abc", "n=99999999999", "n=0", "n=10001", `last=${"z".repeat(10_000)}`, "last=%00", "last=%zz", "n=1&n=2", "n=", "last="] as const;

/** Header values that parsers choke on. */
export const hostileHeaderValues = [
  "",
  " ",
  "a".repeat(8000),
  ",,,,",
  "*/*;q=abc",
  "application/vnd.oci.image.manifest.v1+json; charset=\u00ff",
  Array.from({ length: 300 }, (_, i) => `application/x-${i}`).join(", "),
  "\u00e9\u00e8",
  "%00",
] as const;

/** Authorization headers: malformed, forged, oversized. */
export function hostileAuthorizations(rng: Rng): string[] {
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  const forged = (alg: string) =>
    `${Buffer.from(JSON.stringify({ alg, typ: "JWT" })).toString("base64url")}.${Buffer.from(JSON.stringify({ sub: "admin", access: [{ type: "repository", name: "fuzz/app", actions: ["*"] }], exp: 9e9, aud: "x", iss: "mcr" })).toString("base64url")}.`;
  return [
    "Basic",
    "Basic !!!",
    `Basic ${b64("nocolon")}`,
    `Basic ${b64(":")}`,
    `Basic ${b64(`admin:${"x".repeat(5000)}`)}`,
    `Basic ${b64(`${"u".repeat(2000)}:p`)}`,
    `Basic ${b64("admin:\u0000")}`,
    "Bearer",
    "Bearer a.b.c",
    `Bearer ${forged("none")}`,
    `Bearer ${forged("HS256")}`,
    `Bearer ${forged("EdDSA")}`,
    `Bearer mcr_${"0".repeat(16)}_${"A".repeat(43)}`,
    `Bearer ${rng.string(9000)}`,
    "Digest username=admin",
    "Basic YWRtaW46dGVzdC1hZG1pbi1wYXNzd29yZA== extra",
  ];
}

/** A random mutation of a string: a byte flipped, inserted, removed, or the string cut. */
export function mutate(rng: Rng, value: string): string {
  if (value.length === 0) return rng.pick(["%00", "/", ".."]);
  const at = rng.int(0, value.length - 1);
  switch (rng.int(0, 4)) {
    case 0:
      return value.slice(0, at) + rng.pick(["%00", "%2e", "/", "..", "%", "\\", "%ff", "%C0%AE"]) + value.slice(at);
    case 1:
      return value.slice(0, at) + value.slice(at + 1);
    case 2:
      return value.slice(0, at);
    case 3:
      return value + value;
    default:
      return value.slice(0, at) + String.fromCharCode(rng.int(0x21, 0x7e)) + value.slice(at + 1);
  }
}
