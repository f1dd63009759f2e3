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
  if (!range) return new Response(sendable(body), { headers });
  headers["Content-Range"] = `bytes ${range.start}-${range.end}/${size}`;
  return new Response(sendable(body), { status: 206, headers });
}

/**
 * A store's Blob as a response body. A local file goes as it is (Bun sends
 * it with sendfile); a Blob backed by an S3 object (it can presign) goes as
 * its stream, because Bun answers a Response made of one with a redirect
 * to the object, and refuses headers beside it.
 */
function sendable(body: Blob | null): Blob | ReadableStream | null {
  return body && typeof (body as { presign?: unknown }).presign === "function" ? body.stream() : body;
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
      // Redirect mode (S3; presigning is local): once the repository is known to hold the blob, the client
      // fetches it from the bucket with a short-lived presigned URL, sending its Range header there.
      const location = reg.store.redirectUrl?.(digest) ?? null;
      if (location) {
        await statBlob(reg, name, digest);
        return new Response(null, { status: 307, headers: { Location: location, "Docker-Content-Digest": digest, "Content-Length": "0" } });
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
