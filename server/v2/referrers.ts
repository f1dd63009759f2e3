/**
 * @module `GET /v2/<name>/referrers/<digest>`: an OCI image index of the
 * manifests whose subject is `digest`, filtered by `artifactType`, a page
 * at a time (`n`, `last`) with a `Link: <…>; rel="next"` to the next page.
 */
import { listReferrers } from "../../lib/registry/referrers.ts";
import { OCI_INDEX } from "../../lib/oci/media-types.ts";
import type { Registry } from "../../lib/registry/registry.ts";
import { nextLink, pageParams } from "../http/pagination.ts";
import type { RouteParams } from "./router.ts";

/** Handlers for the referrers of one digest. */
export function referrerHandlers(reg: Registry) {
  return {
    async GET(_req: Request, { name, digest }: RouteParams, url: URL): Promise<Response> {
      const artifactType = url.searchParams.get("artifactType") ?? undefined;
      const { n, last } = pageParams(url);
      const page = await listReferrers(reg, name, digest, { artifactType, n, last });
      const headers: Record<string, string> = { "Content-Type": OCI_INDEX };
      if (artifactType !== undefined) headers["OCI-Filters-Applied"] = "artifactType";
      Object.assign(headers, nextLink(url, page, n, artifactType === undefined ? {} : { artifactType }));
      const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: page.manifests });
      return new Response(body, { headers });
    },
  };
}
