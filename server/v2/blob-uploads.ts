/**
 * @module Blob uploads: `POST /v2/<name>/blobs/uploads/` opens a session (or,
 * with `?digest=`, uploads in one request); `PATCH` appends a chunk, `PUT`
 * completes, `GET` reports progress and `DELETE` cancels.
 */
import { actorOf } from "../../lib/auth/identity.ts";
import { fail } from "../../lib/errors.ts";
import {
  appendUpload,
  cancelUpload,
  completeUpload,
  startUpload,
  uploadBlob,
  uploadStatus,
  type UploadStatus,
} from "../../lib/registry/uploads.ts";
import { mountBlob } from "../../lib/registry/mount.ts";
import { uploadOwner } from "../../lib/registry/upload-sessions.ts";
import type { Registry } from "../../lib/registry/registry.ts";
import { checkDigest, checkRepositoryName } from "../../lib/oci/names.ts";
import { bodyStream } from "../http/body.ts";
import { parseContentRange } from "../http/range.ts";
import type { RequestContext, RouteParams } from "./router.ts";

function sessionResponse(status: number, name: string, upload: UploadStatus): Response {
  return new Response(null, {
    status,
    headers: {
      Location: `/v2/${name}/blobs/uploads/${upload.id}`,
      Range: `0-${Math.max(0, upload.size - 1)}`,
      "Docker-Upload-UUID": upload.id,
      "Content-Length": "0",
    },
  });
}

function blobCreated(name: string, digest: string): Response {
  return new Response(null, {
    status: 201,
    headers: { Location: `/v2/${name}/blobs/${digest}`, "Docker-Content-Digest": digest, "Content-Length": "0" },
  });
}

/**
 * The chunk a request carries: where its Content-Range says it starts, and
 * a body cut off at the length it declares. A range that cannot be used
 * answers 416 with the Range the session holds (`sizeNow()` bytes, asked
 * only then: a usable chunk needs no status read), so the client can resume.
 */
async function chunkOf(req: Request, sizeNow: () => Promise<number>): Promise<{ at?: number; length?: number; body: AsyncIterable<Uint8Array> }> {
  const lengthHeader = req.headers.get("content-length");
  const length = lengthHeader === null ? undefined : Number(lengthHeader);
  let range;
  try {
    range = parseContentRange(req.headers.get("content-range"));
  } catch (error) {
    fail("CHUNK_OUT_OF_ORDER", (error as Error).message, { size: await sizeNow() });
  }
  if (range === null) return { length, body: bodyStream(req, length) };
  const rangeLength = range.end - range.start + 1;
  if (length !== undefined && length !== rangeLength) {
    fail("CHUNK_OUT_OF_ORDER", "Content-Length does not match Content-Range", { size: await sizeNow(), contentLength: length, range: `${range.start}-${range.end}` });
  }
  return { at: range.start, length: rangeLength, body: bodyStream(req, rangeLength) };
}

/** Handlers for the upload collection of a repository. */
export function uploadCollectionHandlers(reg: Registry) {
  return {
    async POST(req: Request, { name }: RouteParams, url: URL, ctx: RequestContext): Promise<Response> {
      const digest = url.searchParams.get("digest");
      if (digest !== null) {
        const { length, body } = await chunkOf(req, async () => 0);
        const owner = uploadOwner(ctx.auth.identity, ctx.by.source);
        const blob = await reg.uploadSlots.with(actorOf(ctx.auth.identity), () => uploadBlob(reg, name, digest, body, length, owner));
        return blobCreated(name, blob.digest);
      }
      const mount = url.searchParams.get("mount");
      if (mount !== null) {
        const from = url.searchParams.get("from");
        if (from !== null) checkRepositoryName(from);
        // When a mount is not possible (or not allowed) the spec's fallback is a new session.
        if (await mountBlob(reg, name, mount, from, ctx.canPull)) return blobCreated(name, mount);
      }
      return sessionResponse(202, name, await startUpload(reg, name, uploadOwner(ctx.auth.identity, ctx.by.source)));
    },
  };
}

/** Handlers for one upload session. */
export function uploadSessionHandlers(reg: Registry) {
  return {
    async GET(_req: Request, { name, id }: RouteParams): Promise<Response> {
      return sessionResponse(204, name, await uploadStatus(reg, name, id));
    },

    async PATCH(req: Request, { name, id }: RouteParams, _url: URL, ctx: RequestContext): Promise<Response> {
      return reg.uploadSlots.with(actorOf(ctx.auth.identity), async () => {
        const { at, length, body } = await chunkOf(req, async () => (await uploadStatus(reg, name, id)).size);
        return sessionResponse(202, name, await appendUpload(reg, name, id, body, at, length));
      });
    },

    async PUT(req: Request, { name, id }: RouteParams, url: URL, ctx: RequestContext): Promise<Response> {
      const digest = url.searchParams.get("digest");
      if (digest === null) fail("DIGEST_INVALID", "the digest query parameter is required to complete an upload");
      checkDigest(digest);
      return reg.uploadSlots.with(actorOf(ctx.auth.identity), async () => {
        const { at, length, body } = await chunkOf(req, async () => (await uploadStatus(reg, name, id)).size);
        if (at !== undefined) await appendUpload(reg, name, id, body, at, length);
        const blob = await completeUpload(reg, name, id, digest, at === undefined ? body : undefined, length);
        return blobCreated(name, blob.digest);
      });
    },

    async DELETE(_req: Request, { name, id }: RouteParams, _url: URL, ctx: RequestContext): Promise<Response> {
      await cancelUpload(reg, name, id, ctx.by);
      return new Response(null, { status: 204 });
    },
  };
}
