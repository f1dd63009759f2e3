/**
 * @module buildah against a real `mcr serve`: build on an OCI layout image, add a file,
 * commit, push, then pull into fresh storage and read the file back from the image.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  blobInfoCacheMentions,
  containerTool,
  lastLine,
  requireTool,
  type ContainerTool,
} from "../support/container-tool.ts";
import { sha256, writeImageLayout, type ImageWritten } from "../support/oci-layout.ts";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";
import { tempDir } from "../support/temp.ts";

// Real processes, and the whole suite may run on a loaded machine: more than the default 5 s.
setDefaultTimeout(120_000);

const BUILDAH = requireTool("buildah", "test/e2e/buildah.test.ts");
const BASE_LAYERS = 2;
const ADDED = "hello from buildah, through mcr\n";
const ACCEPT = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

interface BuildahImage {
  FromImageID: string;
  FromImageDigest: string;
  OCIv1: { config?: { Labels?: Record<string, string> }; rootfs: { diff_ids: string[] } };
}

describe.skipIf(!BUILDAH)("buildah against mcr serve", () => {
  let server: ServerProcess;
  let base: ImageWritten;
  let layouts: string;
  let committedId: string;
  let pushedDigest: string;

  const tool = () => containerTool("buildah", { registryHost: server.host, server, bin: BUILDAH });

  beforeAll(async () => {
    server = await startServerProcess();
    layouts = tempDir("layouts-");
    base = writeImageLayout(join(layouts, "base"), { tag: "v1", layers: BASE_LAYERS, seed: 11 });
  });

  afterAll(async () => {
    await server?.stop();
  });

  test("builds on an OCI layout image, commits an added file and pushes the result", async () => {
    const builder = tool();
    await builder.login(server.username, server.password);
    // A relative path: buildah names the pulled image after it, and temp paths have capitals.
    const container = lastLine(
      await builder.run(["from", "--quiet", ...builder.signaturePolicy, "oci:base:v1"], { cwd: layouts }),
    );
    expect(container).not.toBe("");
    const file = join(builder.dir, "hello.txt");
    writeFileSync(file, ADDED);
    await builder.run(["copy", container, file, "/opt/mcr/hello.txt"]);
    await builder.run(["config", "--label", "mcr.e2e=buildah", container]);
    committedId = lastLine(
      await builder.run(["commit", "--quiet", ...builder.signaturePolicy, container, "localhost/e2e-built:v1"]),
    );
    expect(committedId).toMatch(/^[0-9a-f]{64}$/);

    const digestFile = join(builder.dir, "digest");
    await builder.run([
      ...["push", "--tls-verify=false", ...builder.signaturePolicy, "--digestfile", digestFile],
      ...["localhost/e2e-built:v1", `docker://${server.host}/e2e/buildah:v1`],
    ]);
    pushedDigest = readFileSync(digestFile, "utf8").trim();

    const res = await fetch(`${server.url}/v2/e2e/buildah/manifests/v1`, { headers: { Accept: ACCEPT, Authorization: server.authHeader } });
    expect(res.status).toBe(200);
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(sha256(bytes)).toBe(pushedDigest);
    const manifest = JSON.parse(new TextDecoder().decode(bytes)) as { config: { digest: string }; layers: unknown[] };
    expect(manifest.config.digest).toBe(`sha256:${committedId}`);
    expect(manifest.layers).toHaveLength(BASE_LAYERS + 1);
    // Every blob was new to this registry and this client's own cache: all uploaded, none mounted.
    expect(server.output()).not.toContain("mount=");
    expect(blobInfoCacheMentions(builder, server.host)).toBe(true);
  });

  test("pulls the pushed image into fresh storage and reads the added file from it", async () => {
    const puller: ContainerTool = tool();
    await puller.login(server.username, server.password);
    const ref = `${server.host}/e2e/buildah:v1`;
    const id = lastLine(await puller.run(["pull", "--quiet", "--tls-verify=false", ...puller.signaturePolicy, ref]));
    expect(id).toBe(committedId);

    const inspected = JSON.parse(await puller.run(["inspect", "--type", "image", ref])) as BuildahImage;
    expect(inspected.FromImageID).toBe(committedId);
    expect(inspected.FromImageDigest).toBe(pushedDigest);
    expect(inspected.OCIv1.config?.Labels?.["mcr.e2e"]).toBe("buildah");
    expect(inspected.OCIv1.rootfs.diff_ids.slice(0, BASE_LAYERS)).toEqual(base.diffIds);
    expect(inspected.OCIv1.rootfs.diff_ids).toHaveLength(BASE_LAYERS + 1);

    const container = lastLine(await puller.run(["from", "--pull-never", "--quiet", ref]));
    // vfs "mounts" are plain directories, so the test can read them outside buildah's mount namespace.
    const root = lastLine(await puller.run(["mount", container]));
    expect(readFileSync(join(root, "opt", "mcr", "hello.txt"), "utf8")).toBe(ADDED);
    expect(readFileSync(join(root, "layer0", "README"), "utf8")).toBe("layer 0 of a amd64 test image\n");
    await puller.run(["umount", container]);
    await puller.run(["rm", container]);
  });
});
