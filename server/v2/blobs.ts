/**
 * @module Blob reads: `GET`/`HEAD /v2/<name>/blobs/<digest>`, with single
 * byte ranges. The body is the store's file, which Bun sends with sendfile.
 */
import { deleteBlob, openBlob, statBlob } from "../../lib/registry/blobs.ts";
import { checkDigest } from "../../lib/oci/names.ts";
import type { Registry } from "../../lib/registry/registry.ts";
import type { ByteRange } from "../../lib/storage/blob-store.ts";
import { prepareBlob } from "../../lib/mirror/mirror-blobs.ts";
import { parseRange } from "../http/range.ts";
import { cacheHeaders } from "./mirror-route.ts";
import type { RequestContext, RouteParams } from "./router.ts";

function blobResponse(body: Blob | null, digest: string, size: number, range: ByteRange | null): Response {
  const headers: Record<string, string> = {
    "Content-Type": "application/octet-stream",
    "Content-Length": String(range ? range.end - range.start + 1 : size),
    "Docker-Content-Digest": digest,
    ETag: `"${digest}"`,
    "Accept-Ranges": "bytes",
  };
  if (!range) return new Response(body, { headers });
  headers["Content-Range"] = `bytes ${range.start}-${range.end}/${size}`;
  return new Response(body, { status: 206, headers });
}

/** Handlers for one blob. */
export function blobHandlers(reg: Registry) {
  return {
    async HEAD(req: Request, { name, digest }: RouteParams, _url: URL, ctx: RequestContext): Promise<Response> {
      checkDigest(digest);
      if (ctx.mirror) await prepareBlob(ctx.mirror.mirror, ctx.mirror.target, digest, ctx.by, false);
      const { size } = await statBlob(reg, name, digest);
      return blobResponse(null, digest, size, parseRange(req.headers.get("range"), size));
    },

    async GET(req: Request, { name, digest }: RouteParams, _url: URL, ctx: RequestContext): Promise<Response> {
      checkDigest(digest);
      if (ctx.mirror) {
        // The request that starts a fetch reads the bytes as they arrive (a range waits for the whole blob).
        const arriving = await prepareBlob(ctx.mirror.mirror, ctx.mirror.target, digest, ctx.by, req.headers.get("range") === null);
        if (arriving) {
          const headers: Record<string, string> = { "Content-Type": "application/octet-stream", "Docker-Content-Digest": digest, ...cacheHeaders("miss") };
          if (arriving.size !== null) headers["Content-Length"] = String(arriving.size);
          return new Response(arriving.body, { headers });
        }
      }
      const blob = await openBlob(reg, name, digest, (size) => parseRange(req.headers.get("range"), size));
      return blobResponse(blob.body, digest, blob.size, blob.range);
    },

    async DELETE(_req: Request, { name, digest }: RouteParams, _url: URL, ctx: RequestContext): Promise<Response> {
      checkDigest(digest);
      await deleteBlob(reg, name, digest, ctx.by);
      return new Response(null, { status: 202, headers: { "Content-Length": "0" } });
    },
  };
}
