/**
 * @module Real clients against `mcr serve` on S3 (a Ceph RADOS Gateway,
 * test/support/ceph-rgw.ts): skopeo copies an OCI layout in and out byte for
 * byte, including a layer over 8 MiB that spans a multipart part; podman
 * pushes and pulls back; then a second `mcr serve` on the same database and
 * bucket with redirect = true answers blob GETs with 307 to a presigned URL,
 * which skopeo follows byte-exact and a crane-like fetch with a Range header
 * follows too.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { S3StoreOptions } from "../../lib/storage/s3-store.ts";
import { freshBucket, rgwUnavailable } from "../support/ceph-rgw.ts";
import { blobInfoCacheMentions, containerTool, lastLine, requireTool, type ContainerTool } from "../support/container-tool.ts";
import { noise, sha256, tarArchive } from "../support/oci-layout.ts";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";
import { tempDir } from "../support/temp.ts";

// Real processes, a 9 MiB layer and a gateway on a loaded machine: more than the default 5 s.
setDefaultTimeout(180_000);

const MiB = 1024 * 1024;
const SKOPEO = requireTool("skopeo", "test/e2e/s3-clients.test.ts");
const PODMAN = requireTool("podman", "test/e2e/s3-clients.test.ts");
const unavailable = rgwUnavailable();

function s3Env(o: S3StoreOptions, redirect = false): Record<string, string> {
  return {
    MCR_S3_ENDPOINT: o.endpoint,
    MCR_S3_BUCKET: o.bucket,
    MCR_S3_PREFIX: o.prefix,
    MCR_S3_ACCESS_KEY_ID: o.accessKeyId,
    MCR_S3_SECRET_ACCESS_KEY: o.secretAccessKey,
    MCR_S3_REDIRECT: String(redirect),
  };
}

/** What `writeLayout` wrote: the manifest and every blob it names. */
interface Layout {
  manifestDigest: string;
  configDigest: string;
  layers: { digest: string; size: number }[];
}

/** An OCI layout of one image: a small layer and one gzipped layer of `bigBytes` of noise (which gzip cannot shrink). */
function writeLayout(dir: string, tag: string, bigBytes: number): Layout {
  mkdirSync(join(dir, "blobs", "sha256"), { recursive: true });
  const blob = (mediaType: string, bytes: Uint8Array) => {
    writeFileSync(join(dir, "blobs", "sha256", sha256(bytes).slice(7)), bytes);
    return { mediaType, digest: sha256(bytes), size: bytes.byteLength };
  };
  const tars = [
    tarArchive([{ path: "etc/small.conf", content: "small layer\n" }]),
    tarArchive([{ path: "data/big.bin", content: noise(19, bigBytes) }]),
  ];
  const layers = tars.map((tar) => blob("application/vnd.oci.image.layer.v1.tar+gzip", Bun.gzipSync(tar)));
  const config = blob(
    "application/vnd.oci.image.config.v1+json",
    new TextEncoder().encode(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: tars.map((t) => sha256(t)) }, config: {} })),
  );
  const manifest = blob(
    "application/vnd.oci.image.manifest.v1+json",
    new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config, layers })),
  );
  writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  const entry = { ...manifest, annotations: { "org.opencontainers.image.ref.name": tag } };
  writeFileSync(join(dir, "index.json"), JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [entry] }));
  return { manifestDigest: manifest.digest, configDigest: config.digest, layers };
}

/** A blob of an OCI layout, checked to hash to its name. */
function layoutBlob(dir: string, digest: string): Uint8Array {
  const bytes = new Uint8Array(readFileSync(join(dir, "blobs", "sha256", digest.slice(7))));
  expect(sha256(bytes)).toBe(digest);
  return bytes;
}

/** The digest index.json of an OCI layout gives `tag`. */
function layoutTagDigest(dir: string, tag: string): string {
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8")) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
  return index.manifests.find((m) => m.annotations?.["org.opencontainers.image.ref.name"] === tag)?.digest ?? "none";
}

describe.skipIf(!SKOPEO || !PODMAN || unavailable !== null)("real clients against mcr serve on S3", () => {
  let options: S3StoreOptions;
  let server: ServerProcess;
  let redirecting: ServerProcess | undefined;
  let layouts: string;
  let layoutDir: string;
  let layout: Layout;

  /** skopeo copy with its own HOME and blob-info cache, so no cached blob turns an upload into a mount. */
  const skopeoCopy = (via: ServerProcess, src: string, dest: string) => {
    const skopeo = containerTool("skopeo", { registryHost: via.host, server: via, bin: SKOPEO });
    const creds = `${via.username}:${via.password}`;
    return skopeo.run([
      ...["copy", "--src-tls-verify=false", "--dest-tls-verify=false", "--preserve-digests"],
      ...(src.startsWith("docker://") ? ["--src-creds", creds] : []),
      ...(dest.startsWith("docker://") ? ["--dest-creds", creds] : []),
      src,
      dest,
    ]);
  };

  beforeAll(async () => {
    options = await freshBucket("clients/");
    server = await startServerProcess({ env: s3Env(options) });
    // podman names an `oci:` image after its path as given, and temp dir names have capitals: a relative, lowercase one.
    layouts = tempDir("layouts-");
    layoutDir = join(layouts, "image");
    layout = writeLayout(layoutDir, "v1", 9 * MiB);
  });

  afterAll(async () => {
    await redirecting?.stop();
    await server?.stop();
  });

  test("skopeo copies an image with a 9 MiB layer in and out of the bucket, every digest byte-exact", async () => {
    expect(layout.layers[1]!.size).toBeGreaterThan(8 * MiB);
    const remote = `docker://${server.host}/s3e2e/app:v1`;
    await skopeoCopy(server, `oci:${layoutDir}:v1`, remote);
    // The big layer went up in PATCH chunks or one PUT; either way it is one object in the bucket now.
    expect(server.output()).toContain("/v2/s3e2e/app/blobs/uploads/");
    const outDir = tempDir("oci-s3-out-");
    await skopeoCopy(server, remote, `oci:${outDir}:v1`);
    expect(layoutTagDigest(outDir, "v1")).toBe(layout.manifestDigest);
    for (const digest of [layout.manifestDigest, layout.configDigest, ...layout.layers.map((l) => l.digest)]) {
      expect(layoutBlob(outDir, digest)).toEqual(layoutBlob(layoutDir, digest));
    }
  });

  test("podman pushes the image to S3 and pulls it back into empty storage", async () => {
    const podman: ContainerTool = containerTool("podman", { registryHost: server.host, server, bin: PODMAN });
    await podman.login(server.username, server.password);
    const pulled = lastLine(await podman.run(["pull", "--quiet", ...podman.signaturePolicy, "oci:image:v1"], { cwd: layouts }));
    expect(`sha256:${pulled}`).toBe(layout.configDigest);
    const ref = `${server.host}/s3e2e/podman:v1`;
    await podman.run(["tag", pulled, ref]);
    const digestFile = join(tempDir("digest-"), "digest");
    await podman.run(["push", "--tls-verify=false", ...podman.signaturePolicy, "--digestfile", digestFile, ref, `docker://${ref}`]);
    const pushed = readFileSync(digestFile, "utf8").trim();
    // Uploaded, not skipped: this podman's own blob-info cache knew nothing of the blobs skopeo pushed.
    expect(server.output()).toContain("PATCH /v2/s3e2e/podman/blobs/uploads/");
    expect(blobInfoCacheMentions(podman, server.host)).toBe(true);
    const res = await fetch(`${server.url}/v2/s3e2e/podman/manifests/v1`, {
      headers: { Accept: "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json", Authorization: server.authHeader },
    });
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(sha256(bytes)).toBe(pushed);
    // podman recompresses what it pushes: each layer the registry serves must hash to the digest the manifest names.
    const manifest = JSON.parse(new TextDecoder().decode(bytes)) as { layers: { digest: string; size: number }[] };
    expect(manifest.layers.some((l) => l.size > 8 * MiB)).toBe(true);
    for (const layer of manifest.layers) {
      const blob = await fetch(`${server.url}/v2/s3e2e/podman/blobs/${layer.digest}`, { headers: { Authorization: server.authHeader } });
      expect(sha256(new Uint8Array(await blob.arrayBuffer()))).toBe(layer.digest);
    }
    await podman.run(["rmi", "--all", "--force"]);
    expect((await podman.run(["images", "--quiet"])).trim()).toBe("");
    const back = lastLine(await podman.run(["pull", "--quiet", "--tls-verify=false", ...podman.signaturePolicy, ref]));
    expect(`sha256:${back}`).toBe(layout.configDigest);
    for (const layer of manifest.layers) expect(server.output()).toContain(`GET /v2/s3e2e/podman/blobs/${layer.digest}`);
  });

  test("with redirect = true, skopeo follows the 307 to the bucket and pulls byte-exact; a Range fetch that follows gets 206", async () => {
    redirecting = await startServerProcess({ dataDir: server.dataDir, env: s3Env(options, true) });
    const big = layout.layers[1]!;
    const auth = { Authorization: redirecting.authHeader };
    const manual = await fetch(`${redirecting.url}/v2/s3e2e/app/blobs/${big.digest}`, { headers: auth, redirect: "manual" });
    expect(manual.status).toBe(307);
    const location = manual.headers.get("location") ?? "";
    expect(location.startsWith(`${options.endpoint}/${options.bucket}/`)).toBe(true);
    expect(location).toContain("X-Amz-Signature=");

    const outDir = tempDir("oci-s3-redirect-");
    await skopeoCopy(redirecting, `docker://${redirecting.host}/s3e2e/app:v1`, `oci:${outDir}:v1`);
    expect(layoutTagDigest(outDir, "v1")).toBe(layout.manifestDigest);
    for (const digest of [layout.configDigest, ...layout.layers.map((l) => l.digest)]) {
      expect(layoutBlob(outDir, digest)).toEqual(layoutBlob(layoutDir, digest));
      expect(redirecting.output()).toContain(`GET /v2/s3e2e/app/blobs/${digest} 307 `);
    }

    // A crane-like client: follow the 307, asking for a range across the 8 MiB part boundary.
    const [from, to] = [8 * MiB - 5, 8 * MiB + 6];
    const ranged = await fetch(`${redirecting.url}/v2/s3e2e/app/blobs/${big.digest}`, { headers: { ...auth, Range: `bytes=${from}-${to}` }, redirect: "follow" });
    expect(ranged.status).toBe(206);
    expect(ranged.url.startsWith(`${options.endpoint}/`)).toBe(true);
    expect(ranged.headers.get("content-range")).toBe(`bytes ${from}-${to}/${big.size}`);
    expect([...new Uint8Array(await ranged.arrayBuffer())]).toEqual([...layoutBlob(layoutDir, big.digest).subarray(from, to + 1)]);
  });
});

// Without Ceph, the reason shows in the run's report.
if (unavailable) test.skip(unavailable, () => {});
