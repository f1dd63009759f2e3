/**
 * @module Manifests: `PUT`, `GET` and `HEAD /v2/<name>/manifests/<reference>`,
 * by tag or digest. Content is served byte-exact with its pushed media type.
 */
import { actorOf } from "../../lib/auth/identity.ts";
import { deleteManifest, getManifest, pullManifest, putManifest } from "../../lib/registry/manifests.ts";
import type { Registry } from "../../lib/registry/registry.ts";
import type { Manifest } from "../../lib/db/schema.ts";
import { prepareManifest } from "../../lib/mirror/mirror-manifests.ts";
import { readBody } from "../http/body.ts";
import { cacheHeaders } from "./mirror-route.ts";
import type { RequestContext, RouteParams } from "./router.ts";

function manifestHeaders(m: Manifest): Record<string, string> {
  return {
    "Content-Type": m.media_type,
    "Content-Length": String(m.size),
    "Docker-Content-Digest": m.digest,
    ETag: `"${m.digest}"`,
  };
}

/** The media types of all Accept headers, without parameters (clients send several headers). */
function acceptedTypes(req: Request): string[] {
  const header = req.headers.get("accept");
  if (!header) return [];
  return header
    .split(",")
    .map((part) => part.split(";")[0]!.trim())
    .filter((type) => type !== "");
}

/** Handlers for one manifest reference. */
export function manifestHandlers(reg: Registry) {
  return {
    async GET(req: Request, { name, reference }: RouteParams, _url: URL, ctx: RequestContext): Promise<Response> {
      // A mirror repository is brought up to date first; then it answers like any other.
      const cache = ctx.mirror && (await prepareManifest(ctx.mirror.mirror, ctx.mirror.target, reference, acceptedTypes(req), ctx.by));
      const manifest = await pullManifest(reg, name, reference, acceptedTypes(req), ctx.by);
      return new Response(manifest.content, { headers: { ...manifestHeaders(manifest), ...cacheHeaders(cache) } });
    },

    async HEAD(req: Request, { name, reference }: RouteParams, _url: URL, ctx: RequestContext): Promise<Response> {
      const cache = ctx.mirror && (await prepareManifest(ctx.mirror.mirror, ctx.mirror.target, reference, acceptedTypes(req), ctx.by));
      const manifest = await getManifest(reg, name, reference, acceptedTypes(req));
      return new Response(null, { headers: { ...manifestHeaders(manifest), ...cacheHeaders(cache) } });
    },

    async DELETE(_req: Request, { name, reference }: RouteParams, _url: URL, ctx: RequestContext): Promise<Response> {
      await deleteManifest(reg, name, reference, ctx.by);
      return new Response(null, { status: 202, headers: { "Content-Length": "0" } });
    },

    async PUT(req: Request, { name, reference }: RouteParams, _url: URL, ctx: RequestContext): Promise<Response> {
      const pushed = await reg.uploadSlots.with(actorOf(ctx.auth.identity), async () => {
        const bytes = await readBody(req, reg.limits.maxManifestBytes, "MANIFEST_TOO_LARGE");
        return putManifest(reg, name, reference, req.headers.get("content-type"), bytes, ctx.by, ctx.auth.identity);
      });
      const headers: Record<string, string> = {
        Location: `/v2/${name}/manifests/${pushed.digest}`,
        "Docker-Content-Digest": pushed.digest,
        "Content-Length": "0",
      };
      if (pushed.subject) headers["OCI-Subject"] = pushed.subject;
      return new Response(null, { status: 201, headers });
    },
  };
}
