/**
 * @module Who may open an upload session, and room for it. Sessions are
 * bounded per owner (an account, or an anonymous address, IPv6 by /64) and
 * in total; both counts and the insert share one write transaction
 * (BEGIN IMMEDIATE), so parallel requests, in any process, cannot pass
 * either. Under pressure, sessions idle for minutes rather than a day are
 * removed (rows and bytes) before anyone is refused; a request that is
 * sending bytes keeps its session's activity time fresh, so it is never
 * taken for idle.
 */
import { addressGroup } from "../auth/address-group.ts";
import { actorOf, type Identity } from "../auth/identity.ts";
import { fail } from "../errors.ts";
import { deleteStaleSession } from "../db/queries/gc-sweep.ts";
import { countSessions, insertUpload, staleUploadIds } from "../db/queries/uploads.ts";
import { upsertRepository } from "../db/queries/repositories.ts";
import { UPLOAD_SESSION_PRESSURE } from "../limits.ts";
import type { Registry } from "./registry.ts";

/** The owner of sessions opened by lib/ callers with no request behind them (tests, tools). */
export const INTERNAL_OWNER = "internal";

/** Seconds a client refused a session is told to wait. */
const RETRY_AFTER_SECONDS = 60;

/** Sessions removed at most per reclaim, so one request never waits on thousands of file removals. */
const RECLAIM_BATCH = 200;

/** A request writing to a session records it as active this often (a write per chunk would be too many): see upload-writer.ts. */
export const SESSION_TOUCH_MS = 30_000;

/**
 * Whose sessions count together: the account (`user:NAME`, `robot:NAME`)
 * or, for anonymous pushers, their address, IPv6 by its /64 (one host
 * usually holds a whole /64, so counting addresses would count nothing).
 */
export function uploadOwner(identity: Identity, source: string | null): string {
  if (identity.kind !== "anonymous") return actorOf(identity);
  if (source === null) return "anonymous";
  // The login throttle's client: an IPv4 address, an IPv6 /64.
  return `anonymous@${addressGroup(source).client}`;
}

type Attempt = { opened: true; total: number } | { opened: false; limit: "account" | "registry"; open: number };

/** One try: counts and insert under the database's write lock. */
async function tryOpen(reg: Registry, name: string, id: string, owner: string): Promise<Attempt> {
  const now = reg.now();
  return reg.db.transaction().execute(async (trx) => {
    const { total, mine } = await countSessions(trx, owner);
    if (mine >= reg.limits.maxUploadSessionsPerUser) return { opened: false, limit: "account", open: mine } as const;
    if (total >= reg.limits.maxUploadSessions) return { opened: false, limit: "registry", open: total } as const;
    const repositoryId = await upsertRepository(trx, name, now);
    await insertUpload(trx, id, repositoryId, owner, now);
    return { opened: true, total: total + 1 } as const;
  });
}

/**
 * Records session `id` of repository `name` for `owner`. At its own
 * limit, the owner's idle sessions make room; at the registry's, anyone's.
 * Throws TOO_MANY_REQUESTS naming the limit that was reached.
 */
export async function openSessionRow(reg: Registry, name: string, id: string, owner: string): Promise<void> {
  let attempt = await tryOpen(reg, name, id, owner);
  if (!attempt.opened) {
    const reclaimed = await reclaimIdleUploads(reg, attempt.limit === "account" ? owner : undefined);
    if (reclaimed > 0) attempt = await tryOpen(reg, name, id, owner);
  }
  if (attempt.opened) {
    // Past the pressure mark, idle sessions go now, before the registry is full.
    if (attempt.total >= reg.limits.maxUploadSessions * UPLOAD_SESSION_PRESSURE) await reclaimIdleUploads(reg);
    return;
  }
  const idle = Math.round(reg.limits.uploadSessionReclaimIdleMs / 60_000);
  if (attempt.limit === "account") {
    const max = reg.limits.maxUploadSessionsPerUser;
    fail(
      "TOO_MANY_REQUESTS",
      `${owner} has ${attempt.open} upload sessions open, the most one account may have (maxUploadSessionsPerUser = ${max}); complete or cancel some, or wait for idle ones to be removed after ${idle} minutes`,
      { retryAfter: RETRY_AFTER_SECONDS, limit: "maxUploadSessionsPerUser", max, open: attempt.open },
    );
  }
  const max = reg.limits.maxUploadSessions;
  fail(
    "TOO_MANY_REQUESTS",
    `${attempt.open} upload sessions are open, the most the registry keeps (maxUploadSessions = ${max}), and none has been idle for ${idle} minutes; try again later`,
    { retryAfter: RETRY_AFTER_SECONDS, limit: "maxUploadSessions", max, open: attempt.open },
  );
}

/**
 * Removes sessions (rows, then bytes) idle for `uploadSessionReclaimIdleMs`,
 * only `owner`'s when given, least recently active first, at most a batch;
 * each is re-checked as it is deleted, so one that just became active stays.
 * Returns how many went.
 */
export async function reclaimIdleUploads(reg: Registry, owner?: string, maxIdleMs = reg.limits.uploadSessionReclaimIdleMs, limit = RECLAIM_BATCH): Promise<number> {
  const cutoff = reg.now() - maxIdleMs;
  let removed = 0;
  for (const id of await staleUploadIds(reg.db, cutoff, limit, owner)) {
    if (!(await deleteStaleSession(reg.db, id, cutoff))) continue;
    await reg.store.abortUpload(id);
    removed++;
  }
  return removed;
}
