/**
 * @module What the web UI lists, limited to what one viewer may see: the
 * repositories they may pull (searched by name, paged), one repository
 * with its tags and when each manifest was last pulled, and storage use
 * with the growth of stored bytes. The caller passes the visibility test
 * (the policy's pull decision), so this module knows nothing of identities.
 */
import { blobBytesBefore, blobBytesByDay, manifestLastPulls, tagRows, tagsWithContent } from "../db/queries/browse.ts";
import { listRepositoryNames } from "../db/queries/repositories.ts";
import { repositoryStructure, repositoryUsage } from "../db/queries/repository-usage.ts";
import { fail } from "../errors.ts";
import { checkRepositoryName } from "../oci/names.ts";
import type { Registry } from "./registry.ts";
import { summaryOf, type RepositorySummary } from "./repositories.ts";
import { describeTagsOf, type TagDetail } from "./tag-details.ts";
import { filterTags, sortTags, type TagOrder } from "./tag-order.ts";

/** Whether the viewer may see repository `name`. */
export type Visible = (name: string) => boolean;

/** A page of the repositories a viewer may see. */
export interface BrowsePage {
  repositories: RepositorySummary[];
  /** The name to continue after; null at the end. */
  next: string | null;
  /** How many visible repositories match the search, on all pages. */
  matched: number;
}

/** Largest page of repositories the UI asks for. */
export const MAX_BROWSE_PAGE = 200;
const NAME_BATCH = 5000;

/**
 * The visible repositories whose name contains `query` (case-insensitive),
 * `limit` of them after `after`, in name order. Names are cheap (one index
 * scan); sizes are computed only for the page shown.
 */
export async function browseRepositories(reg: Registry, visible: Visible, query: string, limit: number, after?: string): Promise<BrowsePage> {
  const needle = query.trim().toLowerCase();
  const size = Math.max(1, Math.min(Math.trunc(limit) || 1, MAX_BROWSE_PAGE));
  const names: string[] = [];
  let last: string | undefined;
  for (;;) {
    const batch = await listRepositoryNames(reg.db, NAME_BATCH, last);
    for (const name of batch) if ((needle === "" || name.includes(needle)) && visible(name)) names.push(name);
    if (batch.length < NAME_BATCH) break;
    last = batch[batch.length - 1];
  }
  const start = after === undefined ? 0 : names.findIndex((n) => n > after);
  const pageNames = start < 0 ? [] : names.slice(start, start + size);
  const repositories = (await repositoryUsage(reg.db, { limit: size, names: pageNames })).map((row) => summaryOf(row));
  const more = start >= 0 && start + size < names.length;
  return { repositories, next: more ? pageNames[pageNames.length - 1]! : null, matched: names.length };
}

/** A tag with when its manifest was last pulled (null: never, or not yet recorded; pulls are written every few seconds). */
export interface BrowseTag extends TagDetail {
  lastPulledAt: number | null;
}

/** Which tags of a repository to show. */
export interface TagQuery {
  order: TagOrder;
  /** Part of the name (case-insensitive); empty: all. */
  filter: string;
  offset: number;
  limit: number;
}

/** Largest page of tags the UI asks for. */
export const MAX_TAG_PAGE = 500;

/** One repository as the UI shows it: its summary and one page of its tags. */
export interface BrowseRepository extends RepositorySummary {
  tags: BrowseTag[];
  /** How many tags match the filter, on all pages. */
  matchedTags: number;
  offset: number;
}

/**
 * Repository `name` with a page of its tags, sorted and filtered before
 * any manifest is read, so the cost follows the page, not the repository.
 * Throws NAME_UNKNOWN (also when the viewer may not see it, so its
 * existence stays hidden).
 */
export async function browseRepository(reg: Registry, visible: Visible, name: string, query: TagQuery): Promise<BrowseRepository> {
  checkRepositoryName(name);
  const row = visible(name) ? (await repositoryUsage(reg.db, { limit: 1, names: [name] }))[0] : undefined;
  if (!row) fail("NAME_UNKNOWN", "repository name not known to registry", { name });
  const { id } = row;
  const all = (await tagRows(reg.db, id)).map((t) => ({ name: t.name, pushedAt: t.updated_at }));
  const matched = sortTags(filterTags(all, query.filter), query.order);
  const limit = Math.max(1, Math.min(Math.trunc(query.limit) || 1, MAX_TAG_PAGE));
  const pageNames = matched.slice(query.offset, query.offset + limit).map((t) => t.name);
  const [structure, tags, pulls] = await Promise.all([repositoryStructure(reg.db, id), tagsWithContent(reg.db, id, pageNames), manifestLastPulls(reg.db, id)]);
  const details = await describeTagsOf(reg, { ...structure, tags });
  return {
    ...summaryOf(row),
    tags: details.map((t) => ({ ...t, lastPulledAt: pulls.get(t.digest) ?? null })),
    matchedTags: matched.length,
    offset: query.offset,
  };
}

/** Storage use of the visible repositories, and the growth of the registry's stored bytes. */
export interface StorageView {
  repositories: { name: string; size: number; uniqueSize: number }[];
  /** Sums over the visible repositories: `size` counts shared blobs once per repository. */
  totals: { size: number; uniqueSize: number; shared: number };
  /**
   * Stored blob bytes at the end of each day with pushes in the window (present blobs, by the day they
   * first arrived); null when not asked for (it is of the whole store, which only admins see).
   */
  growth: { day: number; bytes: number; total: number }[] | null;
}

/** The storage view; with `growthDays`, the store's growth over that many days too. */
export async function browseStorage(reg: Registry, visible: Visible, growthDays: number | null): Promise<StorageView> {
  const repositories: StorageView["repositories"] = [];
  let after: string | undefined;
  for (;;) {
    const rows = await repositoryUsage(reg.db, { limit: 1000, after });
    for (const row of rows) {
      if (!visible(row.name)) continue;
      const s = summaryOf(row);
      repositories.push({ name: s.name, size: s.size, uniqueSize: s.uniqueSize });
    }
    if (rows.length < 1000) break;
    after = rows[rows.length - 1]!.name;
  }
  repositories.sort((a, b) => b.size - a.size || (a.name < b.name ? -1 : 1));
  const size = repositories.reduce((n, r) => n + r.size, 0);
  const uniqueSize = repositories.reduce((n, r) => n + r.uniqueSize, 0);
  return { repositories, totals: { size, uniqueSize, shared: size - uniqueSize }, growth: growthDays === null ? null : await storeGrowth(reg, growthDays) };
}

async function storeGrowth(reg: Registry, days: number): Promise<NonNullable<StorageView["growth"]>> {
  const since = reg.now() - days * 86_400_000;
  let total = await blobBytesBefore(reg.db, since);
  return (await blobBytesByDay(reg.db, since)).map((d) => ({ day: d.day, bytes: d.bytes, total: (total += d.bytes) }));
}
