/**
 * @module A tiny black-box HTTP client for the OCI conformance suite: plain
 * fetch against a base URL, push helpers, random content and error checks.
 */
import { expect } from "bun:test";

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
export const OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";
export const OCI_EMPTY = "application/vnd.oci.empty.v1+json";
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";

/** The empty JSON blob `{}` and its descriptor (image-spec "Guidance for an Empty Descriptor"). */
export const EMPTY_JSON = new TextEncoder().encode("{}");
export const EMPTY_DESCRIPTOR: Descriptor = {
  mediaType: OCI_EMPTY,
  digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
  size: 2,
};

/** An OCI content descriptor. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** A response as the suite keeps it: status, headers and the whole body read once. */
export interface Reply {
  status: number;
  headers: Headers;
  body: Uint8Array;
  text(): string;
  json(): unknown;
}

/** What `request` accepts besides method and path. */
export interface RequestInit {
  headers?: Record<string, string>;
  body?: Uint8Array | string;
}

/** The sha256 digest of `bytes` in OCI form. */
export function digestOf(bytes: Uint8Array | string): string {
  return `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`;
}

/** `size` random bytes. */
export function randomBytes(size: number): Uint8Array {
  const out = new Uint8Array(size);
  // getRandomValues fills at most 65536 bytes per call.
  for (let at = 0; at < size; at += 65536) crypto.getRandomValues(out.subarray(at, Math.min(size, at + 65536)));
  return out;
}

/** A lowercase random suffix, valid in repository names and tags. */
export function randomId(length = 10): string {
  return Array.from(randomBytes(length), (b) => "abcdefghijklmnopqrstuvwxyz0123456789"[b % 36]).join("");
}

/** A unique repository name under `prefix` (two path components, as the name grammar allows). */
export function randomRepo(prefix: string): string {
  return `${prefix}/r-${randomId()}`;
}

/** The bytes of a JSON document exactly as they will be sent. */
export function jsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/** Talks to one registry over HTTP, remembering every status it answered. */
export class Client {
  readonly statuses: { method: string; path: string; status: number }[] = [];

  /** `authorization` is sent on every request when set (e.g. Basic credentials). */
  constructor(
    readonly baseUrl: string,
    readonly authorization?: string,
  ) {}

  /** `path` may be a path (`/v2/...`) or an absolute URL such as a `Location` header. */
  url(path: string): string {
    return new URL(path, this.baseUrl).toString();
  }

  async request(method: string, path: string, init: RequestInit = {}): Promise<Reply> {
    const headers = { ...(this.authorization ? { Authorization: this.authorization } : {}), ...init.headers };
    const res = await fetch(this.url(path), {
      method,
      headers,
      body: init.body,
      redirect: "manual",
    });
    const body = new Uint8Array(await res.arrayBuffer());
    this.statuses.push({ method, path, status: res.status });
    this.checkWarnings(method, path, res.headers);
    return {
      status: res.status,
      headers: res.headers,
      body,
      text: () => new TextDecoder().decode(body),
      json: () => JSON.parse(new TextDecoder().decode(body)) as unknown,
    };
  }

  /** Responses whose `Warning` headers broke spec "Warnings"; a conforming run has none. */
  readonly badWarnings: string[] = [];

  /**
   * "If included, Warning headers MUST specify a warn-code of 299 and a warn-agent of -, and MUST NOT
   * specify a warn-date value"; "A registry MUST NOT send more than 4096 bytes of warning data".
   */
  private checkWarnings(method: string, path: string, headers: Headers): void {
    const warning = headers.get("warning");
    if (warning === null) return;
    // Headers joins repeated fields with ", "; each warning is `299 - "text"`.
    const ok = /^299 - "(?:[^"\\]|\\.)*"(?:, 299 - "(?:[^"\\]|\\.)*")*$/.test(warning) && warning.length <= 4096;
    if (!ok) this.badWarnings.push(`${method} ${path}: Warning: ${warning}`);
  }

  /** Every request that was answered with a 5xx; a conforming run has none. */
  serverErrors(): string[] {
    return this.statuses.filter((s) => s.status >= 500).map((s) => `${s.method} ${s.path} → ${s.status}`);
  }

  /** POST then PUT (end-4a, end-6); returns the digest. */
  async pushBlob(repo: string, bytes: Uint8Array | string): Promise<string> {
    const digest = digestOf(bytes);
    const start = await this.request("POST", `/v2/${repo}/blobs/uploads/`);
    if (start.status !== 202) throw new Error(`POST upload: ${start.status} ${start.text()}`);
    const put = await this.request("PUT", withQuery(location(start), { digest }), {
      headers: { "Content-Type": "application/octet-stream" },
      body: bytes,
    });
    if (put.status !== 201) throw new Error(`PUT upload: ${put.status} ${put.text()}`);
    return digest;
  }

  /** PUT a manifest (end-7) with `mediaType` as Content-Type. */
  putManifest(repo: string, reference: string, bytes: Uint8Array, mediaType = OCI_MANIFEST): Promise<Reply> {
    return this.request("PUT", `/v2/${repo}/manifests/${reference}`, {
      headers: { "Content-Type": mediaType },
      body: bytes,
    });
  }

  /** Pushes a manifest and fails unless the registry answers 201; returns its digest. */
  async pushManifest(repo: string, reference: string, bytes: Uint8Array, mediaType = OCI_MANIFEST): Promise<string> {
    const res = await this.putManifest(repo, reference, bytes, mediaType);
    if (res.status !== 201) throw new Error(`PUT manifest ${repo}:${reference}: ${res.status} ${res.text()}`);
    return digestOf(bytes);
  }

  /** Pushes a config, `layerCount` random layers and an image manifest under `reference`. */
  async pushImage(repo: string, reference: string, opts: ImageOptions = {}): Promise<PushedImage> {
    const configBytes = jsonBytes({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] }, n: randomId() });
    const config: Descriptor = {
      mediaType: opts.configMediaType ?? OCI_CONFIG,
      digest: await this.pushBlob(repo, configBytes),
      size: configBytes.byteLength,
    };
    const layers: Descriptor[] = [];
    const layerBytes: Uint8Array[] = [];
    for (let i = 0; i < (opts.layerCount ?? 1); i++) {
      const bytes = randomBytes(opts.layerSize ?? 256);
      layers.push({ mediaType: OCI_LAYER, digest: await this.pushBlob(repo, bytes), size: bytes.byteLength });
      layerBytes.push(bytes);
    }
    const manifest = imageManifest({ config, layers, subject: opts.subject, artifactType: opts.artifactType, annotations: opts.annotations });
    const digest = await this.pushManifest(repo, reference, manifest);
    return { digest, manifest, config, configBytes, layers, layerBytes, descriptor: { mediaType: OCI_MANIFEST, digest, size: manifest.byteLength } };
  }
}

/**
 * A client for a started `mcr serve`. When the server created an admin
 * account at start-up (it prints the password once), the client logs in with
 * Basic credentials on every request, so push and delete are allowed; the
 * conformance requirements themselves say nothing about authentication.
 */
export function clientFor(server: { url: string; authHeader: string }): Client {
  return new Client(server.url, server.authHeader);
}

/** Options for `Client.pushImage`. */
export interface ImageOptions {
  layerCount?: number;
  layerSize?: number;
  configMediaType?: string;
  subject?: Descriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** What `Client.pushImage` pushed. */
export interface PushedImage {
  digest: string;
  manifest: Uint8Array;
  descriptor: Descriptor;
  config: Descriptor;
  configBytes: Uint8Array;
  layers: Descriptor[];
  layerBytes: Uint8Array[];
}

/** The bytes of an OCI image manifest. */
export function imageManifest(m: {
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
}): Uint8Array {
  return jsonBytes({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    ...(m.artifactType ? { artifactType: m.artifactType } : {}),
    config: m.config,
    layers: m.layers,
    ...(m.subject ? { subject: m.subject } : {}),
    ...(m.annotations ? { annotations: m.annotations } : {}),
  });
}

/** The bytes of an OCI image index. */
export function imageIndex(m: {
  manifests: Descriptor[];
  subject?: Descriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
}): Uint8Array {
  return jsonBytes({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    ...(m.artifactType ? { artifactType: m.artifactType } : {}),
    manifests: m.manifests,
    ...(m.subject ? { subject: m.subject } : {}),
    ...(m.annotations ? { annotations: m.annotations } : {}),
  });
}

/** A digest no content will have. */
export function unknownDigest(): string {
  return digestOf(randomBytes(32));
}

/** The `Location` header of `res`; fails when absent. */
export function location(res: Reply): string {
  const value = res.headers.get("location");
  if (!value) throw new Error(`no Location header (status ${res.status}): ${res.text()}`);
  return value;
}

/** `url` (a path or absolute URL, possibly with a query) with `params` added. */
export function withQuery(url: string, params: Record<string, string>): string {
  const parsed = new URL(url, "http://placeholder");
  for (const [key, value] of Object.entries(params)) parsed.searchParams.set(key, value);
  return url.startsWith("/") ? parsed.pathname + parsed.search : parsed.toString();
}

/** The path part of a `Location` header, absolute or relative. */
export function pathOf(url: string): string {
  return new URL(url, "http://placeholder").pathname;
}

/** Asserts the status of `res`, showing the body when it differs. */
export function expectStatus(res: Reply, status: number | number[]): void {
  const statuses = Array.isArray(status) ? status : [status];
  if (!statuses.includes(res.status)) {
    expect(`${res.status} ${res.text().slice(0, 500)}`).toBe(`${statuses.join(" or ")}`);
  }
}

/** One entry of an OCI error body. */
export interface OciError {
  code: string;
  message?: unknown;
  detail?: unknown;
}

/**
 * Asserts `res` is an error of `status` whose JSON body has the form of spec
 * "Error Codes" (`{"errors":[{"code","message","detail"}]}`), and returns its codes.
 * `codes` lists the acceptable codes; at least one entry must carry one of them.
 */
export function expectError(res: Reply, status: number | number[], codes: string | string[]): string[] {
  const wanted = Array.isArray(codes) ? codes : [codes];
  expectStatus(res, status);
  const body = res.json() as { errors?: OciError[] };
  expect(Array.isArray(body.errors)).toBe(true);
  const errors = body.errors ?? [];
  expect(errors.length).toBeGreaterThan(0);
  for (const error of errors) {
    // "The code field MUST be a unique identifier, containing only uppercase alphabetic characters and underscores."
    expect(error.code).toMatch(/^[A-Z_]+$/);
    // mcr always sends message and detail (the spec makes both OPTIONAL).
    expect(typeof error.message).toBe("string");
    expect("detail" in error).toBe(true);
  }
  const got = errors.map((e) => e.code);
  if (!got.some((code) => wanted.includes(code))) expect(got.join(", ")).toBe(wanted.join(" or "));
  return got;
}

/** The target of a `Link: <url>; rel="next"` header (RFC 5988), or undefined. */
export function nextLink(res: Reply): string | undefined {
  const header = res.headers.get("link");
  if (!header) return undefined;
  const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(header);
  return match?.[1];
}
