/**
 * @module The `n`/`last` query parameters of listings and the `Link`
 * header that points to the next page.
 */
import { fail } from "../../lib/errors.ts";
import type { Page } from "../../lib/registry/tags.ts";

/** The `n` and `last` of a listing request; `n` must be a non-negative integer. */
export function pageParams(url: URL): { n?: number; last?: string } {
  const rawN = url.searchParams.get("n");
  const last = url.searchParams.get("last") ?? undefined;
  if (rawN === null) return { last };
  if (!/^\d{1,9}$/.test(rawN)) fail("PAGINATION_NUMBER_INVALID", "n must be a non-negative integer", { n: rawN.slice(0, 20) });
  return { n: Number(rawN), last };
}

/** A `Link` header to the page after `page`, if there is one. */
export function nextLink(url: URL, page: Page, n: number | undefined): Record<string, string> {
  if (page.next === null) return {};
  const next = new URLSearchParams();
  if (n !== undefined) next.set("n", String(n));
  next.set("last", page.next);
  return { Link: `<${url.pathname}?${next}>; rel="next"` };
}
