/**
 * @module The S3 calls the store makes with signed requests (see
 * s3-signed.ts for why not Bun.S3Client): multipart uploads driven by
 * part number and upload id, CopyObject, and PUT only-if-absent.
 */
import { escapeXml, s3Failure, signedFetch, xmlElements, xmlText, type S3Location } from "./s3-signed.ts";

/** A part uploaded to a multipart upload. */
export interface UploadedPart {
  n: number;
  etag: string;
  size: number;
}

/** Starts a multipart upload of `key`; returns its upload id. */
export async function createMultipart(loc: S3Location, key: string): Promise<string> {
  const res = await signedFetch(loc, { method: "POST", key, query: { uploads: "" } });
  if (!res.ok) await s3Failure(res, "CreateMultipartUpload");
  const id = xmlText(await res.text(), "UploadId");
  if (!id) throw new Error("S3 CreateMultipartUpload answered without an UploadId");
  return id;
}

/** Uploads part `n` (1-based; every part but the last at least 5 MiB); returns its ETag. */
export async function uploadPart(loc: S3Location, key: string, uploadId: string, n: number, bytes: Uint8Array): Promise<string> {
  const res = await signedFetch(loc, { method: "PUT", key, query: { partNumber: String(n), uploadId }, body: bytes });
  if (!res.ok) await s3Failure(res, "UploadPart");
  await res.arrayBuffer();
  const etag = res.headers.get("etag");
  if (!etag) throw new Error("S3 UploadPart answered without an ETag");
  return etag;
}

/** Completes a multipart upload from its parts, in order. */
export async function completeMultipart(loc: S3Location, key: string, uploadId: string, parts: readonly UploadedPart[]): Promise<void> {
  const body = `<CompleteMultipartUpload>${parts.map((p) => `<Part><PartNumber>${p.n}</PartNumber><ETag>${escapeXml(p.etag)}</ETag></Part>`).join("")}</CompleteMultipartUpload>`;
  const res = await signedFetch(loc, { method: "POST", key, query: { uploadId }, body, headers: { "content-type": "application/xml" } });
  const text = await res.text();
  // S3 may answer 200 and put the error in the body (the completion can take long).
  if (!res.ok || text.includes("<Error>")) await s3Failure(new Response(text, { status: res.ok ? 500 : res.status }), "CompleteMultipartUpload");
}

/** Aborts a multipart upload, freeing its parts; one already gone is ignored. */
export async function abortMultipart(loc: S3Location, key: string, uploadId: string): Promise<void> {
  const res = await signedFetch(loc, { method: "DELETE", key, query: { uploadId } });
  if (!res.ok && res.status !== 404) await s3Failure(res, "AbortMultipartUpload");
  await res.arrayBuffer().catch(() => {});
}

/** A multipart upload still open under a prefix. */
export interface OpenMultipart {
  key: string;
  uploadId: string;
  initiated: number;
}

/** Every open multipart upload whose key starts with `prefix`. */
export async function* listMultipart(loc: S3Location, prefix: string): AsyncIterable<OpenMultipart> {
  let keyMarker = "";
  let idMarker = "";
  for (;;) {
    const query: Record<string, string> = { uploads: "", prefix };
    if (keyMarker) Object.assign(query, { "key-marker": keyMarker, "upload-id-marker": idMarker });
    const res = await signedFetch(loc, { method: "GET", query });
    if (!res.ok) await s3Failure(res, "ListMultipartUploads");
    const xml = await res.text();
    for (const upload of xmlElements(xml, "Upload")) {
      yield { key: xmlText(upload, "Key") ?? "", uploadId: xmlText(upload, "UploadId") ?? "", initiated: Date.parse(xmlText(upload, "Initiated") ?? "") || 0 };
    }
    if (xmlText(xml, "IsTruncated") !== "true") return;
    keyMarker = xmlText(xml, "NextKeyMarker") ?? "";
    idMarker = xmlText(xml, "NextUploadIdMarker") ?? "";
    if (!keyMarker) return;
  }
}

/** Server-side copy of `from` to `to` in the same bucket (one request; S3 limits it to 5 GiB). */
export async function copyObject(loc: S3Location, from: string, to: string): Promise<void> {
  const source = `/${loc.bucket}/${from.split("/").map(encodeURIComponent).join("/")}`;
  const res = await signedFetch(loc, { method: "PUT", key: to, headers: { "x-amz-copy-source": source } });
  const text = await res.text();
  if (!res.ok || text.includes("<Error>")) await s3Failure(new Response(text, { status: res.ok ? 500 : res.status }), "CopyObject");
}

/**
 * Server-side copy of `size` bytes of `from` to `to` as a multipart upload
 * of ranges (UploadPartCopy), `partBytes` each: CopyObject stops at 5 GiB.
 */
export async function copyInParts(loc: S3Location, from: string, to: string, size: number, partBytes: number): Promise<void> {
  const source = `/${loc.bucket}/${from.split("/").map(encodeURIComponent).join("/")}`;
  const uploadId = await createMultipart(loc, to);
  try {
    const parts: UploadedPart[] = [];
    for (let start = 0, n = 1; start < size; start += partBytes, n++) {
      const end = Math.min(start + partBytes, size) - 1;
      const res = await signedFetch(loc, {
        method: "PUT",
        key: to,
        query: { partNumber: String(n), uploadId },
        headers: { "x-amz-copy-source": source, "x-amz-copy-source-range": `bytes=${start}-${end}` },
      });
      const text = await res.text();
      if (!res.ok || text.includes("<Error>")) await s3Failure(new Response(text, { status: res.ok ? 500 : res.status }), "UploadPartCopy");
      parts.push({ n, etag: xmlText(text, "ETag") ?? "", size: end - start + 1 });
    }
    await completeMultipart(loc, to, uploadId, parts);
  } catch (error) {
    await abortMultipart(loc, to, uploadId).catch(() => {});
    throw error;
  }
}

/** PUTs `body` at `key` only when no object is there; returns false when one is (412). */
export async function putIfAbsent(loc: S3Location, key: string, body: Uint8Array | string): Promise<boolean> {
  const res = await signedFetch(loc, { method: "PUT", key, body, headers: { "if-none-match": "*" } });
  if (res.status === 412) return false;
  if (!res.ok) await s3Failure(res, "PutObject");
  await res.arrayBuffer();
  return true;
}
