/**
 * @module `GET /v2/<name>/tags/list`, lexically sorted, paginated with
 * `n` and `last` and a `Link` header to the next page.
 */
import { listTags } from "../../lib/registry/tags.ts";
import type { Registry } from "../../lib/registry/registry.ts";
import { nextLink, pageParams } from "../http/pagination.ts";
import type { RouteParams } from "./router.ts";

/** Handlers for a repository's tag list. */
export function tagHandlers(reg: Registry) {
  return {
    async GET(_req: Request, { name }: RouteParams, url: URL): Promise<Response> {
      const { n, last } = pageParams(url);
      const page = await listTags(reg, name, n, last);
      return Response.json({ name, tags: page.items }, { headers: nextLink(url, page, n) });
    },
  };
}
