/**
 * @module Listing a repository's tags and the registry's repositories,
 * in lexical order with `n`/`last` pagination.
 */
import { fail } from "../errors.ts";
import { findRepositoryId, listRepositoryNames } from "../db/queries/repositories.ts";
import { listTagNames } from "../db/queries/tags.ts";
import type { Registry } from "./registry.ts";

/** Most entries one page returns, whatever `n` asks for. */
export const MAX_PAGE = 10_000;

/** A page of names and whether more follow. */
export interface Page {
  items: string[];
  /** The `last` to ask for the next page, or null at the end. */
  next: string | null;
}

/** Tags of repository `name`, `n` of them after `last`; throws NAME_UNKNOWN. */
export async function listTags(reg: Registry, name: string, n?: number, last?: string): Promise<Page> {
  const repositoryId = await findRepositoryId(reg.db, name);
  if (repositoryId === null) fail("NAME_UNKNOWN", "repository name not known to registry", { name });
  return page(n, (limit) => listTagNames(reg.db, repositoryId, limit, last));
}

/** Repository names the caller may see (`visible`, default all), `n` of them after `last`. */
export async function listRepositories(
  reg: Registry,
  n?: number,
  last?: string,
  visible: (name: string) => Promise<boolean> = async () => true,
): Promise<Page> {
  return page(n, async (limit) => {
    // Hidden repositories are skipped, so read in batches until the page is full.
    const found: string[] = [];
    let cursor = last;
    for (;;) {
      const batch = await listRepositoryNames(reg.db, SCAN_BATCH, cursor);
      for (const name of batch) {
        if (found.length < limit && (await visible(name))) found.push(name);
      }
      if (found.length >= limit || batch.length < SCAN_BATCH) return found;
      cursor = batch[batch.length - 1];
    }
  });
}

const SCAN_BATCH = 500;

async function page(n: number | undefined, fetch: (limit: number) => Promise<string[]>): Promise<Page> {
  const size = Math.min(n ?? MAX_PAGE, MAX_PAGE);
  if (size <= 0) return { items: [], next: null };
  const rows = await fetch(size + 1);
  const items = rows.slice(0, size);
  return { items, next: rows.length > size ? items[items.length - 1]! : null };
}
