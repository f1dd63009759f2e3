/**
 * @module The grammars of repository names, tags and digests, at and
 * around their edges.
 */
import { describe, expect, test } from "bun:test";
import { RegistryError } from "../../../lib/errors.ts";
import { checkDigest, checkRepositoryName, checkTag, isTag, looksLikeDigest, MAX_NAME_LENGTH } from "../../../lib/oci/names.ts";

/** The code of the RegistryError `fn` throws, or null when it returns. */
function codeOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (error) {
    if (error instanceof RegistryError) return error.code;
    throw error;
  }
}

const hex = "0123456789abcdef".repeat(4);

describe("checkRepositoryName", () => {
  test("accepts the spec's grammar and returns the name", () => {
    for (const name of ["a", "0", "ubuntu", "library/ubuntu", "a/b/c/d", "a.b", "a_b", "a__b", "a-b", "a--b", "a.b-c_d__e/f0", "9a/b9"]) {
      expect({ name, code: codeOf(() => checkRepositoryName(name)) }).toEqual({ name, code: null });
      expect(checkRepositoryName(name)).toBe(name);
    }
  });

  test("rejects everything else with NAME_INVALID", () => {
    const bad = [
      "",
      "A",
      "Library/ubuntu",
      "/a",
      "a/",
      "a//b",
      "..",
      "a/../b",
      "a/./b",
      "%2e%2e",
      ".a",
      "-a",
      "_a",
      "a-",
      "a.",
      "a..b",
      "a___b",
      "a.-b",
      "a b",
      "a:b",
      "a@b",
      "a\nb",
      "ü",
    ];
    for (const name of bad) {
      expect({ name, code: codeOf(() => checkRepositoryName(name)) }).toEqual({ name, code: "NAME_INVALID" });
    }
  });

  test("the length limit is 255 characters, whole name", () => {
    expect(MAX_NAME_LENGTH).toBe(255);
    expect(codeOf(() => checkRepositoryName("a".repeat(255)))).toBeNull();
    expect(codeOf(() => checkRepositoryName(`${"a".repeat(127)}/${"b".repeat(127)}`))).toBeNull();
    expect(codeOf(() => checkRepositoryName("a".repeat(256)))).toBe("NAME_INVALID");
    expect(codeOf(() => checkRepositoryName(`${"a".repeat(128)}/${"b".repeat(127)}`))).toBe("NAME_INVALID");
  });

  test("a very long name is rejected quickly and its detail is truncated", () => {
    const started = performance.now();
    let detail: unknown;
    try {
      checkRepositoryName("a".repeat(1_000_000));
    } catch (error) {
      detail = (error as RegistryError).detail;
    }
    expect(performance.now() - started).toBeLessThan(100);
    expect(JSON.stringify(detail).length).toBeLessThan(200);
  });
});

describe("tags", () => {
  test("isTag follows [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}", () => {
    for (const tag of ["latest", "v1.0.0", "1", "_", "_x", "A", "Latest", "a-b_c.d", "x".repeat(128)]) {
      expect({ tag, ok: isTag(tag) }).toEqual({ tag, ok: true });
    }
    for (const tag of ["", ".x", "-x", "a:b", "a/b", "a b", "a+b", "x".repeat(129), "é"]) {
      expect({ tag, ok: isTag(tag) }).toEqual({ tag, ok: false });
    }
  });

  test("checkTag returns a valid tag and throws TAG_INVALID otherwise", () => {
    expect(checkTag("v1")).toBe("v1");
    expect(codeOf(() => checkTag("-v1"))).toBe("TAG_INVALID");
    expect(codeOf(() => checkTag("x".repeat(129)))).toBe("TAG_INVALID");
    expect(codeOf(() => checkTag(""))).toBe("TAG_INVALID");
  });
});

describe("digests", () => {
  test("looksLikeDigest recognises the general digest grammar, any algorithm", () => {
    for (const ref of [`sha256:${hex}`, `sha512:${hex}${hex}`, "sha256:abc", "multihash+base58:QmRZxt2b1", "a.b_c-d:X="]) {
      expect({ ref, ok: looksLikeDigest(ref) }).toEqual({ ref, ok: true });
    }
    for (const ref of ["latest", "v1.0", "sha256", ":abc", "sha256:", "SHA256:abc", "sha256:a b"]) {
      expect({ ref, ok: looksLikeDigest(ref) }).toEqual({ ref, ok: false });
    }
  });

  test("checkDigest accepts lowercase sha256 with 64 hex digits", () => {
    expect(checkDigest(`sha256:${hex}`)).toBe(`sha256:${hex}`);
  });

  test("checkDigest throws DIGEST_INVALID for anything else", () => {
    for (const digest of [
      "",
      "latest",
      "sha256:",
      `sha256:${hex.slice(1)}`,
      `sha256:${hex}0`,
      `sha256:${hex.toUpperCase()}`,
      `sha256:${hex.slice(1)}g`,
      `SHA256:${hex}`,
      `sha512:${hex}${hex}`,
      `md5:${hex.slice(0, 32)}`,
      ` sha256:${hex}`,
      `sha256:${hex}\n`,
    ]) {
      expect({ digest, code: codeOf(() => checkDigest(digest)) }).toEqual({ digest, code: "DIGEST_INVALID" });
    }
  });

  test("an unsupported algorithm is told apart from a malformed digest", () => {
    const messageOf = (digest: string) => {
      try {
        checkDigest(digest);
      } catch (error) {
        return (error as Error).message;
      }
      return "";
    };
    expect(messageOf(`sha512:${hex}${hex}`)).toContain("unsupported");
    expect(messageOf("nonsense")).not.toContain("unsupported");
    expect(messageOf("sha256:abc")).not.toContain("unsupported");
    expect(messageOf(`sha256:${hex.toUpperCase()}`)).not.toContain("unsupported");
  });
});
