/**
 * @module Pulling through an in-process registry in mirror tests: the
 * manifest and every blob it references, each digest checked, with the
 * cache headers of the manifest answer.
 */
import { expect } from "bun:test";
import { sha256Digest } from "../../lib/oci/digest.ts";
import type { TestApp } from "./app.ts";

/** Accept header of an image pull. */
export const PULL_ACCEPT = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json";

/** What a pull saw. */
export interface MirrorPull {
  digest: string;
  /** X-Mcr-Cache of the manifest answer. */
  cache: string | null;
  warning: string | null;
  blobs: string[];
}

/** Pulls `repository:reference` through `t` (headers and `query` added to each request), checking every digest. */
export async function pullThrough(t: TestApp, repository: string, reference: string, headers: Record<string, string> = {}, query = ""): Promise<MirrorPull> {
  const res = await t.request("GET", `/v2/${repository}/manifests/${reference}${query}`, { headers: { accept: PULL_ACCEPT, ...headers } });
  if (res.status !== 200) throw new Error(`manifest ${repository}:${reference}: ${res.status} ${await res.text()}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const digest = sha256Digest(bytes);
  expect(res.headers.get("docker-content-digest")).toBe(digest);
  const manifest = JSON.parse(new TextDecoder().decode(bytes)) as { config: { digest: string }; layers: { digest: string }[] };
  const blobs = [manifest.config.digest, ...manifest.layers.map((l) => l.digest)];
  for (const blob of blobs) {
    const b = await t.request("GET", `/v2/${repository}/blobs/${blob}${query}`, { headers });
    expect(b.status).toBe(200);
    expect(sha256Digest(new Uint8Array(await b.arrayBuffer()))).toBe(blob);
  }
  return { digest, cache: res.headers.get("x-mcr-cache"), warning: res.headers.get("warning"), blobs };
}

/** The OCI error code of a response. */
export async function errorCode(res: Response): Promise<{ code: string; message: string }> {
  const body = (await res.json()) as { errors: { code: string; message: string }[] };
  return body.errors[0]!;
}
