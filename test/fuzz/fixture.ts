/**
 * @module What the fuzz cases refer to, set up on a fresh registry before
 * a run: an admin access token (login throttling never slows it, however
 * many hostile logins the run makes), a small image, and open sessions.
 */
import { sha256Digest } from "../../lib/oci/digest.ts";
import type { Fixture } from "./cases.ts";

/** A registry under test: its base URL and the admin's Basic header. */
export interface Target {
  url: string;
  authHeader: string;
}

/** Sends one request to `target`. */
export function call(target: Target, method: string, path: string, auth: string, body?: Uint8Array | string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${target.url}${path}`, { method, body, headers: { Authorization: auth, ...headers } });
}

/** Pushes a small image as `repo:tag` and returns the pieces the cases refer to. */
export async function pushFixture(target: Target, auth: string, repo: string, tag: string): Promise<Omit<Fixture, "sessions" | "auth" | "repo" | "tag">> {
  const push = async (bytes: Uint8Array | string) => {
    const digest = sha256Digest(bytes);
    const res = await call(target, "POST", `/v2/${repo}/blobs/uploads/?digest=${digest}`, auth, bytes);
    if (res.status !== 201) throw new Error(`fixture blob: ${res.status} ${await res.text()}`);
    return { digest, size: typeof bytes === "string" ? new TextEncoder().encode(bytes).byteLength : bytes.byteLength };
  };
  const config = { mediaType: "application/vnd.oci.image.config.v1+json", ...(await push(`{"architecture":"amd64","os":"linux","repo":"${repo}"}`)) };
  const layers = [
    { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...(await push(crypto.getRandomValues(new Uint8Array(3000)))) },
    { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...(await push(`layer of ${repo}`)) },
  ];
  const manifest = JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config, layers });
  const res = await call(target, "PUT", `/v2/${repo}/manifests/${tag}`, auth, manifest, { "Content-Type": "application/vnd.oci.image.manifest.v1+json" });
  if (res.status !== 201) throw new Error(`fixture manifest: ${res.status} ${await res.text()}`);
  return { config, layers, manifestDigest: sha256Digest(manifest), manifestSize: manifest.length };
}

/** Sets up the fixture of a run on `target`. */
export async function setUpFixture(target: Target): Promise<Fixture> {
  const tokenRes = await call(target, "POST", "/v1/tokens", target.authHeader, JSON.stringify({ user: "admin", name: "fuzz" }), { "Content-Type": "application/json" });
  const auth = `Bearer ${((await tokenRes.json()) as { token: string }).token}`;
  const parts = await pushFixture(target, auth, "fuzz/app", "v1");
  const sessions: string[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await call(target, "POST", "/v2/fuzz/app/blobs/uploads/", auth);
    sessions.push(res.headers.get("docker-upload-uuid")!);
  }
  return { ...parts, repo: "fuzz/app", tag: "v1", sessions, auth };
}

/** After a run: the registry still answers, and a push pulls back byte-exact. Returns what went wrong. */
export async function stillServes(target: Target, auth: string): Promise<string[]> {
  const problems: string[] = [];
  const base = await call(target, "GET", "/v2/", auth);
  if (base.status !== 200) problems.push(`GET /v2/ answered ${base.status}`);
  const parts = await pushFixture(target, auth, "fuzz/after", "ok");
  const manifest = await call(target, "GET", "/v2/fuzz/after/manifests/ok", auth, undefined, { Accept: "application/vnd.oci.image.manifest.v1+json" });
  if (sha256Digest(new Uint8Array(await manifest.arrayBuffer())) !== parts.manifestDigest) problems.push("the manifest came back different");
  for (const blob of [parts.config, ...parts.layers]) {
    const res = await call(target, "GET", `/v2/fuzz/after/blobs/${blob.digest}`, auth);
    if (sha256Digest(new Uint8Array(await res.arrayBuffer())) !== blob.digest) problems.push(`blob ${blob.digest} came back different`);
  }
  return problems;
}
