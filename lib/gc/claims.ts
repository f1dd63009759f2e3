/**
 * @module The writer's side of GC claims. GC unlinks a file only while it
 * holds a claim on the digest, taken in the same transaction that removed
 * the blob's rows (or saw there were none). So a writer about to record a
 * blob checks, inside its own transaction, that no live claim exists and
 * that the file is there; then the row it writes is backed by a file that
 * no GC can remove without first deciding, in a later transaction, that
 * the blob is garbage again.
 */
import type { Kysely, Transaction } from "kysely";
import { fail } from "../errors.ts";
import { deleteClaims, findClaim } from "../db/queries/gc-claims.ts";
import type { DB } from "../db/schema.ts";
import type { Registry } from "../registry/registry.ts";
import { runIsLive } from "./lock.ts";

/** How long a writer waits for GC to finish removing a digest before giving up. */
const CLAIM_WAIT_MS = 30_000;
const POLL_MS = 20;
/** A file that keeps vanishing as soon as it is restored means something else is wrong. */
const MAX_RESTORES = 10;

type Check = { ok: true } | { ok: false; digest: string; why: "claimed" | "missing" };

/**
 * Runs `body` in a transaction in which every blob of `digests` is stored
 * and not being removed by GC. A digest being removed is waited for (GC
 * holds a claim for milliseconds); a missing file is put back with
 * `restore` and the transaction retried. Throws UNAVAILABLE if GC keeps a
 * digest longer than CLAIM_WAIT_MS.
 */
export async function withStoredBlobs<T>(
  reg: Registry,
  digests: readonly string[],
  restore: (digest: string) => Promise<void>,
  body: (trx: Transaction<DB>) => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + CLAIM_WAIT_MS;
  let restores = 0;
  for (;;) {
    const outcome = await reg.db.transaction().execute(async (trx) => {
      const check = await checkStored(reg, trx, digests);
      return check.ok ? { check, value: await body(trx) } : { check, value: undefined };
    });
    const { check } = outcome;
    if (check.ok) return outcome.value as T;
    if (check.why === "missing") {
      if (++restores > MAX_RESTORES) fail("UNAVAILABLE", "the blob's file keeps disappearing; retry later", { digest: check.digest });
      await restore(check.digest);
      continue;
    }
    if (Date.now() > deadline) fail("UNAVAILABLE", "garbage collection is removing this blob; retry", { digest: check.digest });
    await Bun.sleep(POLL_MS);
  }
}

/** Inside a transaction: the first digest that is claimed by a live GC or has no file. */
async function checkStored(reg: Registry, trx: Kysely<DB>, digests: readonly string[]): Promise<Check> {
  for (const digest of digests) {
    const claim = await findClaim(trx, digest);
    if (claim) {
      if (await runIsLive(trx, claim.run_id, reg.now())) return { ok: false, digest, why: "claimed" };
      // Left by a GC that died: it will unlink nothing more, so the claim only blocks.
      await deleteClaims(trx, [digest]);
    }
    if (!(await reg.store.stat(digest))) return { ok: false, digest, why: "missing" };
  }
  return { ok: true };
}
