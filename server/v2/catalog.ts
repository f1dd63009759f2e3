/**
 * @module `GET /v2/_catalog`: repository names, lexically sorted, paginated
 * like the tags list.
 */
import { listRepositories } from "../../lib/registry/tags.ts";
import type { Registry } from "../../lib/registry/registry.ts";
import { nextLink, pageParams } from "../http/pagination.ts";
import type { RequestContext } from "./router.ts";

/** Handlers for the catalog. */
export function catalogHandlers(reg: Registry) {
  return {
    async GET(_req: Request, _params: unknown, url: URL, ctx: RequestContext): Promise<Response> {
      const { n, last } = pageParams(url);
      // The catalog lists only what the caller may pull.
      const page = await listRepositories(reg, n, last, ctx.canRead);
      return Response.json({ repositories: page.items }, { headers: nextLink(url, page, n) });
    },
  };
}
