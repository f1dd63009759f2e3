/**
 * @module S3 requests Bun.S3Client cannot make, signed here (AWS SigV4):
 * the multipart calls with explicit part numbers and upload ids (Bun's
 * `writer()` keeps its multipart state in the process, so an upload could
 * not continue on another replica or after a restart), CopyObject and
 * conditional PUT (`If-None-Match`). Everything else goes through
 * Bun.S3Client. Bodies are sent as UNSIGNED-PAYLOAD: the bytes are already
 * hashed once for the digest; hashing them again for the signature would
 * double the CPU of a push.
 */
import { createHash, createHmac } from "node:crypto";
import { fail } from "../errors.ts";

/** Where the bucket is and how to sign for it. */
export interface S3Location {
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** `endpoint/bucket/key` rather than `bucket.endpoint/key`. */
  forcePathStyle: boolean;
}

/** One signed request. */
export interface SignedRequest {
  method: "GET" | "PUT" | "POST" | "DELETE" | "HEAD";
  key?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
}

/** RFC 3986 encoding as SigV4 wants it (every byte but the unreserved ones). */
function encode(text: string, keepSlash = false): string {
  const encoded = encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return keepSlash ? encoded.replace(/%2F/g, "/") : encoded;
}

function hmac(key: string | Buffer, text: string): Buffer {
  return createHmac("sha256", key).update(text).digest();
}

/** Sends a SigV4-signed request to the bucket; the response as it came (status checked by the caller). */
export async function signedFetch(loc: S3Location, req: SignedRequest, now = new Date()): Promise<Response> {
  const base = new URL(loc.endpoint);
  const host = loc.forcePathStyle ? base.host : `${loc.bucket}.${base.host}`;
  const basePath = base.pathname.replace(/\/$/, "");
  const path = `${basePath}${loc.forcePathStyle ? `/${encode(loc.bucket)}` : ""}/${encode(req.key ?? "", true)}`;
  const query = Object.entries(req.query ?? {})
    .map(([k, v]) => [encode(k), encode(v)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  const day = stamp.slice(0, 8);
  const headers: Record<string, string> = { host, "x-amz-date": stamp, "x-amz-content-sha256": "UNSIGNED-PAYLOAD" };
  for (const [name, value] of Object.entries(req.headers ?? {})) headers[name.toLowerCase()] = value.trim();
  const names = Object.keys(headers).sort();
  const canonical = [req.method, path, query, ...names.map((n) => `${n}:${headers[n]}`), "", names.join(";"), "UNSIGNED-PAYLOAD"].join("\n");
  const scope = `${day}/${loc.region}/s3/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", stamp, scope, createHash("sha256").update(canonical).digest("hex")].join("\n");
  const key = hmac(hmac(hmac(hmac(`AWS4${loc.secretAccessKey}`, day), loc.region), "s3"), "aws4_request");
  const signature = createHmac("sha256", key).update(toSign).digest("hex");
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${loc.accessKeyId}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}`;
  delete headers.host;
  const url = `${base.protocol}//${host}${path}${query ? `?${query}` : ""}`;
  try {
    // A cast, not a conversion: Bun's fetch sends a Uint8Array as it is, but which global BodyInit the
    // checker resolves (Bun's or undici's, whose ArrayBufferView is over ArrayBuffer only) varies between runs.
    const body = req.body as unknown as RequestInit["body"];
    return await fetch(url, { method: req.method, headers, body, redirect: "manual" });
  } catch (error) {
    fail("UNAVAILABLE", `S3 endpoint unreachable: ${(error as Error).message}`, { endpoint: loc.endpoint });
  }
}

/** The text of the first `<tag>` in an XML document, or null. */
export function xmlText(xml: string, tag: string): string | null {
  const match = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(xml);
  return match ? unescapeXml(match[1]!) : null;
}

/** Every `<tag>…</tag>` element's inner XML. */
export function xmlElements(xml: string, tag: string): string[] {
  return [...xml.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, "g"))].map((m) => m[1]!);
}

function unescapeXml(text: string): string {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, "&");
}

/** Escapes text for an XML body. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Throws STORAGE_ERROR naming the S3 error code and message of a failed response. */
export async function s3Failure(res: Response, what: string): Promise<never> {
  const body = await res.text().catch(() => "");
  const code = xmlText(body, "Code") ?? `HTTP ${res.status}`;
  fail("UNAVAILABLE", `S3 ${what} failed: ${code}${xmlText(body, "Message") ? ` (${xmlText(body, "Message")})` : ""}`, { status: res.status, code });
}
