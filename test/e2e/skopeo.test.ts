/**
 * @module skopeo against a real `mcr serve`: copy an image and a two-platform
 * index in and out over the network, and check that every digest survives.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sha256, writeImageLayout, writeIndexLayout, type ImageWritten, type IndexWritten } from "../support/oci-layout.ts";
import { containerTool } from "../support/container-tool.ts";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";
import { tempDir } from "../support/temp.ts";

// Real processes, and the whole suite may run on a loaded machine: more than the default 5 s.
setDefaultTimeout(120_000);

const SKOPEO = Bun.which("skopeo");

if (!SKOPEO) {
  if (process.env.CI) {
    test("skopeo is installed (required when CI is set)", () => {
      throw new Error("skopeo is not on PATH; CI must run the skopeo end-to-end tests");
    });
  } else {
    console.warn("skipping test/e2e/skopeo.test.ts: skopeo is not on PATH");
  }
}

/**
 * A skopeo isolated like every client in these tests (own HOME, config and
 * a private blob-info cache, so cached blobs never turn an upload into a mount).
 */
function skopeoRunner(bin: string, server: ServerProcess) {
  const tool = containerTool("skopeo", { registryHost: server.host, server, bin });
  const hasPreserveDigests = Bun.spawnSync([bin, "copy", "--help"]).stdout.toString().includes("--preserve-digests");
  const creds = `${server.username}:${server.password}`;
  const run = (args: string[]) => tool.run(args);

  return {
    run,
    copy: (src: string, dest: string, extra: string[] = []) =>
      run([
        "copy",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        ...(src.startsWith("docker://") ? ["--src-creds", creds] : []),
        ...(dest.startsWith("docker://") ? ["--dest-creds", creds] : []),
        ...(hasPreserveDigests ? ["--preserve-digests"] : []),
        ...extra,
        src,
        dest,
      ]),
    inspectRaw: (ref: string) => run(["inspect", "--raw", "--tls-verify=false", "--creds", creds, ref]),
  };
}

/** The digest index.json of an OCI layout gives `tag`. */
function layoutTagDigest(dir: string, tag: string): string {
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8")) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  const entry = index.manifests.find((m) => m.annotations?.["org.opencontainers.image.ref.name"] === tag);
  if (!entry) throw new Error(`no ${tag} in ${dir}/index.json: ${JSON.stringify(index)}`);
  return entry.digest;
}

/** A blob of an OCI layout, checked to hash to its name. */
function layoutBlob(dir: string, digest: string): Uint8Array {
  const bytes = new Uint8Array(readFileSync(join(dir, "blobs", "sha256", digest.slice("sha256:".length))));
  expect(sha256(bytes)).toBe(digest);
  return bytes;
}

describe.skipIf(!SKOPEO)("skopeo against mcr serve", () => {
  let server: ServerProcess;
  let skopeo: ReturnType<typeof skopeoRunner>;
  let image: ImageWritten;
  let index: IndexWritten;
  let imageDir: string;
  let indexDir: string;

  beforeAll(async () => {
    server = await startServerProcess();
    skopeo = skopeoRunner(SKOPEO ?? "skopeo", server);
    imageDir = tempDir("oci-image-");
    indexDir = tempDir("oci-index-");
    image = writeImageLayout(imageDir, { tag: "v1", layers: 3 });
    index = writeIndexLayout(indexDir, { tag: "latest" });
  });

  afterAll(async () => {
    await server?.stop();
  });

  test("copies a 3-layer image in and out with its digests intact", async () => {
    const remote = `docker://${server.host}/e2e/app:v1`;
    await skopeo.copy(`oci:${imageDir}:v1`, remote);

    const raw = await skopeo.inspectRaw(remote);
    expect(sha256(raw)).toBe(image.manifestDigest);

    const outDir = tempDir("oci-out-");
    await skopeo.copy(remote, `oci:${outDir}:v1`);
    expect(layoutTagDigest(outDir, "v1")).toBe(image.manifestDigest);
    const manifest = JSON.parse(new TextDecoder().decode(layoutBlob(outDir, image.manifestDigest))) as {
      config: { digest: string };
      layers: { digest: string; size: number }[];
    };
    expect(manifest.config.digest).toBe(image.configDigest);
    expect(manifest.layers.map((l) => l.digest)).toEqual(image.layerDigests);
    for (const digest of [image.configDigest, ...image.layerDigests]) {
      expect(layoutBlob(outDir, digest)).toEqual(layoutBlob(imageDir, digest));
    }
  });

  test("copies a two-platform index with --all in and out", async () => {
    const remote = `docker://${server.host}/e2e/multi:latest`;
    await skopeo.copy(`oci:${indexDir}:latest`, remote, ["--all"]);

    expect(sha256(await skopeo.inspectRaw(remote))).toBe(index.indexDigest);
    for (const child of index.manifests) {
      const raw = await skopeo.inspectRaw(`docker://${server.host}/e2e/multi@${child.manifestDigest}`);
      expect(sha256(raw)).toBe(child.manifestDigest);
    }

    const outDir = tempDir("oci-out-multi-");
    await skopeo.copy(remote, `oci:${outDir}:latest`, ["--all"]);
    expect(layoutTagDigest(outDir, "latest")).toBe(index.indexDigest);
    const copied = JSON.parse(new TextDecoder().decode(layoutBlob(outDir, index.indexDigest))) as {
      manifests: { digest: string; platform?: { architecture: string } }[];
    };
    expect(copied.manifests.map((m) => m.digest)).toEqual(index.manifests.map((m) => m.manifestDigest));
    for (const child of index.manifests) {
      for (const digest of [child.manifestDigest, child.configDigest, ...child.layerDigests]) {
        expect(layoutBlob(outDir, digest)).toEqual(layoutBlob(indexDir, digest));
      }
    }
  });

  test("lists the tags of a pushed repository", async () => {
    const out = await skopeo.run(["list-tags", "--tls-verify=false", "--creds", `${server.username}:${server.password}`, `docker://${server.host}/e2e/app`]);
    const listed = JSON.parse(out) as { Repository: string; Tags: string[] };
    expect(listed.Tags).toContain("v1");
  });
});
