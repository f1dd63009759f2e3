/**
 * @module The `n`/`last` query parameters of listings and the `Link`
 * header that points to the next page; integer parameters of /v1 listings.
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

/** A `Link` header to the page after `page`, if there is one; `keep` are query parameters it carries over (filters). */
export function nextLink(url: URL, page: Pick<Page, "next">, n: number | undefined, keep: Record<string, string> = {}): Record<string, string> {
  if (page.next === null) return {};
  const next = new URLSearchParams(keep);
  if (n !== undefined) next.set("n", String(n));
  next.set("last", page.next);
  return { Link: `<${url.pathname}?${next}>; rel="next"` };
}

/** Integer query parameter `name` within [min, max], or undefined when absent; throws INVALID_ARGUMENT. */
export function integerParam(url: URL, name: string, min: number, max: number): number | undefined {
  const text = url.searchParams.get(name);
  if (text === null) return undefined;
  const value = Number(text);
  if (!/^\d{1,15}$/.test(text) || value < min || value > max) fail("INVALID_ARGUMENT", `${name} must be an integer from ${min} to ${max}`);
  return value;
}
