/**
 * @module Per-repository storage quota: the bytes of the blobs a
 * repository may serve, held against `repositoryQuotaBytes`. Uploads are
 * checked before their bytes are written, when their length is known, and
 * cut off the moment they pass what is left when it is not; completing an
 * upload checks again, so concurrent uploads cannot add up past the quota.
 */
import { fail } from "../errors.ts";
import { findLinkedBlob } from "../db/queries/blobs.ts";
import { repositoryBytes } from "../db/queries/usage.ts";
import type { ByteSource } from "../storage/blob-store.ts";
import type { Registry } from "./registry.ts";

/**
 * Bytes repository `name` may still take: null when there is no quota, or
 * when `digest` is already in the repository (pushing it again adds nothing).
 */
export async function quotaRoom(reg: Registry, name: string, digest?: string): Promise<number | null> {
  const quota = reg.limits.repositoryQuotaBytes;
  if (quota === null) return null;
  if (digest !== undefined && (await findLinkedBlob(reg.db, name, digest))) return null;
  return Math.max(0, quota - (await repositoryBytes(reg.db, name)));
}

function exceeded(reg: Registry, name: string, wanted: number, room: number): never {
  const quota = reg.limits.repositoryQuotaBytes ?? 0;
  fail("QUOTA_EXCEEDED", `repository ${name} is over its storage quota: ${wanted} more bytes do not fit in the ${room} left of ${quota}`, {
    repository: name,
    quota,
    available: room,
    wanted,
  });
}

/**
 * The upload body `body`, which is to land on top of `held` bytes already
 * in its session and declares `declared` bytes (undefined: unknown), held
 * to the quota of repository `name`: refused with QUOTA_EXCEEDED before
 * any byte is read when it cannot fit, and cut off when it grows past
 * what fits.
 */
export async function withinQuota(
  reg: Registry,
  name: string,
  body: ByteSource,
  opts: { held?: number; declared?: number; digest?: string } = {},
): Promise<ByteSource> {
  const room = await quotaRoom(reg, name, opts.digest);
  if (room === null) return body;
  const left = room - (opts.held ?? 0);
  const wanted = opts.declared ?? 0;
  if (left <= 0 || wanted > left) exceeded(reg, name, Math.max(wanted, 1), Math.max(0, left));
  return cut(body, left, () => exceeded(reg, name, left + 1, left));
}

async function* cut(body: ByteSource, limit: number, over: () => never): AsyncIterable<Uint8Array> {
  let total = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > limit) over();
    yield chunk;
  }
}

/** Throws QUOTA_EXCEEDED unless a blob of `size` bytes fits in repository `name` (a blob it holds always fits). */
export async function ensureQuota(reg: Registry, name: string, size: number, digest: string): Promise<void> {
  const room = await quotaRoom(reg, name, digest);
  if (room !== null && size > room) exceeded(reg, name, size, room);
}
