/**
 * @module `GET /v2/_catalog`: repository names, lexically sorted, paginated
 * like the tags list.
 */
import { listRepositories } from "../../lib/registry/tags.ts";
import type { Registry } from "../../lib/registry/registry.ts";
import { nextLink, pageParams } from "../http/pagination.ts";

/** Handlers for the catalog. */
export function catalogHandlers(reg: Registry) {
  return {
    async GET(_req: Request, _params: unknown, url: URL): Promise<Response> {
      const { n, last } = pageParams(url);
      const page = await listRepositories(reg, n, last);
      return Response.json({ repositories: page.items }, { headers: nextLink(url, page, n) });
    },
  };
}
