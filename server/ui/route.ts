/**
 * @module The UI's pages are addressed by the URL's fragment (`#/repo?name=…`),
 * so the server serves one page and no path ever needs routing twice.
 */

/** A page and its parameters. */
export interface Route {
  page: string;
  params: URLSearchParams;
}

/** The route of a location hash (`#/repo?name=a/b`). */
export function parseRoute(hash: string): Route {
  const text = hash.replace(/^#\/?/, "");
  const q = text.indexOf("?");
  const page = (q < 0 ? text : text.slice(0, q)) || "repos";
  return { page, params: new URLSearchParams(q < 0 ? "" : text.slice(q + 1)) };
}

/** The hash link to `page` with `params`. */
export function href(page: string, params: Record<string, string> = {}): string {
  const q = new URLSearchParams(params).toString();
  return `#/${page}${q === "" ? "" : `?${q}`}`;
}
