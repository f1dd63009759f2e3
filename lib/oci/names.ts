/**
 * @module Validation of the three things a /v2 path names: repositories,
 * tags and digests, with the grammars of the OCI distribution spec.
 */
import { fail } from "../errors.ts";

const NAME = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
/** The general digest grammar, then the one algorithm mcr stores. */
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const SHA256 = /^sha256:[a-f0-9]{64}$/;

/** Longest repository name accepted, in characters. */
export const MAX_NAME_LENGTH = 255;

/** Throws NAME_INVALID unless `name` is a valid repository name. */
export function checkRepositoryName(name: string): string {
  if (name.length > MAX_NAME_LENGTH) fail("NAME_INVALID", `repository name longer than ${MAX_NAME_LENGTH} characters`, { name: name.slice(0, 64) });
  if (!NAME.test(name)) fail("NAME_INVALID", "invalid repository name", { name });
  return name;
}

/** True when `ref` is a valid tag. */
export function isTag(ref: string): boolean {
  return TAG.test(ref);
}

/** True when `ref` has the shape of a digest (any algorithm). */
export function looksLikeDigest(ref: string): boolean {
  return DIGEST.test(ref);
}

/** True when `ref` is a sha256 digest, the one kind mcr stores. */
export function isSha256Digest(ref: string): boolean {
  return SHA256.test(ref);
}

/** Throws TAG_INVALID unless `tag` is a valid tag. */
export function checkTag(tag: string): string {
  if (!isTag(tag)) fail("TAG_INVALID", "invalid tag", { tag: tag.slice(0, 200) });
  return tag;
}

/** Throws DIGEST_INVALID unless `digest` is a sha256 digest mcr can verify. */
export function checkDigest(digest: string): string {
  if (SHA256.test(digest)) return digest;
  if (DIGEST.test(digest) && !digest.startsWith("sha256:")) {
    fail("DIGEST_INVALID", "unsupported digest algorithm: only sha256 is accepted", { digest: digest.slice(0, 200) });
  }
  fail("DIGEST_INVALID", "invalid digest", { digest: digest.slice(0, 200) });
}
