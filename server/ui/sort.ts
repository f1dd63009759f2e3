/**
 * @module Sorting the tags of a repository: newest push first, or by name
 * in the order people expect (`v2` before `v10`).
 */

/** How the tag list is ordered. */
export type TagOrder = "pushed" | "name";

const collator = new Intl.Collator("en", { numeric: true, sensitivity: "base" });

/** `tags` ordered by `order` (a new array); ties broken by name so the order is stable. */
export function sortTags<T extends { name: string; pushedAt: number }>(tags: readonly T[], order: TagOrder, descending = order === "pushed"): T[] {
  const byName = (a: T, b: T) => collator.compare(a.name, b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const compare = order === "pushed" ? (a: T, b: T) => a.pushedAt - b.pushedAt || byName(a, b) : byName;
  const sorted = [...tags].sort(compare);
  return descending ? sorted.reverse() : sorted;
}

/** Tags whose name contains `filter` (case-insensitive). */
export function filterTags<T extends { name: string }>(tags: readonly T[], filter: string): T[] {
  const needle = filter.trim().toLowerCase();
  return needle === "" ? [...tags] : tags.filter((t) => t.name.toLowerCase().includes(needle));
}
