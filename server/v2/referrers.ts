/**
 * @module `GET /v2/<name>/referrers/<digest>`: an OCI image index of the
 * manifests whose subject is `digest`, filtered by `artifactType`.
 */
import { listReferrers } from "../../lib/registry/referrers.ts";
import { OCI_INDEX } from "../../lib/oci/media-types.ts";
import type { Registry } from "../../lib/registry/registry.ts";
import type { RouteParams } from "./router.ts";

/** Handlers for the referrers of one digest. */
export function referrerHandlers(reg: Registry) {
  return {
    async GET(_req: Request, { name, digest }: RouteParams, url: URL): Promise<Response> {
      const artifactType = url.searchParams.get("artifactType") ?? undefined;
      const manifests = await listReferrers(reg, name, digest, artifactType);
      const headers: Record<string, string> = { "Content-Type": OCI_INDEX };
      if (artifactType !== undefined) headers["OCI-Filters-Applied"] = "artifactType";
      const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests });
      return new Response(body, { headers });
    },
  };
}
