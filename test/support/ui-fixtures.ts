/**
 * @module Content for the UI's tests: an image whose config and
 * annotations carry markup (which must show as text), a signature and an
 * SBOM referring to it, and many tags on one manifest, written as rows.
 */
import { sha256Digest } from "../../lib/oci/digest.ts";
import type { TestApp } from "./app.ts";
import { pushBlob, pushManifest } from "./blobs.ts";

/** Markup that would run if any client string were rendered as HTML. */
export const XSS = `<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">`;

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const EMPTY_CONFIG = { mediaType: "application/vnd.oci.empty.v1+json", digest: sha256Digest("{}"), size: 2 };

/** Pushes `name:tag`: an image with labels, env, ports, history and annotations (some holding XSS); returns its digest. */
export async function pushRichImage(t: TestApp, name: string, tag: string): Promise<string> {
  const config = JSON.stringify({
    architecture: "arm64",
    os: "linux",
    created: "2026-11-30T12:00:00Z",
    config: {
      Entrypoint: ["/usr/bin/app"],
      Cmd: ["--serve"],
      Env: ["PATH=/usr/bin", "GREETING=hello"],
      Labels: { "org.opencontainers.image.title": "demo app", "evil.label": XSS },
      ExposedPorts: { "8080/tcp": {} },
    },
    rootfs: { type: "layers", diff_ids: [] },
    history: [{ created: "2026-11-30T12:00:00Z", created_by: "COPY app /usr/bin/app" }],
  });
  const configDigest = await pushBlob(t, name, config);
  const layer = await pushBlob(t, name, `layer of ${name}`);
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: configDigest, size: new TextEncoder().encode(config).byteLength },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: layer, size: new TextEncoder().encode(`layer of ${name}`).byteLength }],
    annotations: { "org.opencontainers.image.description": XSS },
  };
  const bytes = new TextEncoder().encode(JSON.stringify(manifest));
  const res = await pushManifest(t, name, tag, bytes);
  if (res.status !== 201) throw new Error(`push failed: ${res.status} ${await res.text()}`);
  return sha256Digest(bytes);
}

/** Pushes an artifact of `artifactType` whose subject is `subject`; returns its digest. */
export async function pushReferrer(t: TestApp, name: string, subject: string, artifactType: string, annotations: Record<string, string>): Promise<string> {
  await pushBlob(t, name, "{}");
  const payload = await pushBlob(t, name, `payload ${artifactType} ${subject}`);
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType,
    config: EMPTY_CONFIG,
    layers: [{ mediaType: "application/octet-stream", digest: payload, size: new TextEncoder().encode(`payload ${artifactType} ${subject}`).byteLength }],
    subject: { mediaType: OCI_MANIFEST, digest: subject, size: 0 },
    annotations,
  };
  const bytes = new TextEncoder().encode(JSON.stringify(manifest));
  const digest = sha256Digest(bytes);
  const res = await pushManifest(t, name, digest, bytes);
  if (res.status !== 201) throw new Error(`referrer push failed: ${res.status} ${await res.text()}`);
  return digest;
}

/**
 * Adds `count` tags (`t00000`…) to repository `name`, all naming its
 * manifest `digest`, as rows in one transaction, one second apart, newest
 * first. `t00000` is a millisecond newer than now, so it is newer than any
 * tag pushed just before even when that push fell in this same millisecond
 * (a tie would sort it by name, after "base").
 */
export async function seedTags(t: TestApp, name: string, digest: string, count: number): Promise<void> {
  const now = t.reg.now() + 1;
  await t.reg.db.transaction().execute(async (trx) => {
    const repo = await trx.selectFrom("repositories").select("id").where("name", "=", name).executeTakeFirstOrThrow();
    const manifest = await trx.selectFrom("manifests").select("id").where("repository_id", "=", repo.id).where("digest", "=", digest).executeTakeFirstOrThrow();
    for (let i = 0; i < count; i += 500) {
      const rows = Array.from({ length: Math.min(500, count - i) }, (_, j) => ({
        repository_id: repo.id,
        name: `t${String(i + j).padStart(5, "0")}`,
        manifest_id: manifest.id,
        updated_at: now - (i + j) * 1000,
      }));
      await trx.insertInto("tags").values(rows).execute();
    }
  });
}
