/**
 * @module GC phase "uploads": upload sessions idle for a day (row and
 * bytes), and upload files no session owns (left by a crash) as old. The
 * grace period does not apply: an upload is someone's push in progress,
 * and a day idle is what makes it abandoned, whatever `--grace` says.
 */
import { deleteStaleSession, sessionIdsAmong, staleSessionPage } from "../db/queries/gc-sweep.ts";
import { STALE_UPLOAD_MS } from "../registry/uploads.ts";
import type { StoredUpload } from "../storage/blob-store.ts";
import { PAGE, type GcContext } from "./context.ts";

/** Removes stale upload sessions and ownerless upload files. */
export async function sweepUploads(ctx: GcContext): Promise<void> {
  const { reg, tally, options } = ctx;
  const cutoff = ctx.startedAt - STALE_UPLOAD_MS;
  let checked = 0;
  let removed = 0;
  for (let after = ""; ; ) {
    const ids = await staleSessionPage(reg.db, cutoff, after, PAGE);
    for (const id of ids) {
      const size = (await reg.store.uploadSize(id)) ?? 0;
      if (!options.dryRun) {
        await reg.db.transaction().execute((trx) => ctx.checkpoint(trx));
        if (!(await deleteStaleSession(reg.db, id, cutoff))) continue;
        await reg.store.abortUpload(id);
      }
      removed++;
      tally.uploadsRemoved++;
      tally.bytesFreed += size;
    }
    checked += ids.length;
    ctx.progress("uploads", checked, removed);
    if (ids.length < PAGE) break;
    after = ids[ids.length - 1]!;
  }

  let page: StoredUpload[] = [];
  const flush = async () => {
    const owned = await sessionIdsAmong(reg.db, page.map((u) => u.id));
    for (const upload of page) {
      if (owned.has(upload.id) || upload.modifiedAt >= cutoff) continue;
      if (!options.dryRun) await reg.store.abortUpload(upload.id);
      removed++;
      tally.uploadsRemoved++;
      tally.bytesFreed += upload.size;
    }
    checked += page.length;
    ctx.progress("uploads", checked, removed);
    page = [];
  };
  for await (const upload of reg.store.listUploads()) {
    page.push(upload);
    if (page.length >= PAGE) await flush();
  }
  await flush();
}
