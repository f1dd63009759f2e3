/**
 * @module podman against a real `mcr serve`: push, pull back, copy between repositories,
 * a two-platform manifest list, tag listing and deletion, all from OCI layouts on disk.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  blobInfoCacheMentions,
  containerTool,
  lastLine,
  requireTool,
  type ContainerTool,
} from "../support/container-tool.ts";
import { sha256, writeImageLayout, writeIndexLayout, type ImageWritten, type IndexWritten } from "../support/oci-layout.ts";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";
import { tempDir } from "../support/temp.ts";

// Real processes, and the whole suite may run on a loaded machine: more than the default 5 s.
setDefaultTimeout(120_000);

const PODMAN = requireTool("podman", "test/e2e/podman.test.ts");
const SKOPEO = Bun.which("skopeo");
const ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

interface Manifest {
  config: { digest: string };
  layers: { digest: string }[];
  manifests?: { digest: string; platform?: { architecture: string } }[];
}

describe.skipIf(!PODMAN)("podman against mcr serve", () => {
  let server: ServerProcess;
  let podman: ContainerTool;
  let image: ImageWritten;
  let other: ImageWritten;
  let index: IndexWritten;
  /** Holds the layouts `image`, `other` and `index`, named by relative paths (see RunOptions.cwd). */
  let layouts: string;
  let pushedDigest: string;

  /** The manifest the registry serves for `repo:ref`, checked against the digest it should hash to. */
  async function registryManifest(repo: string, ref: string, digest: string): Promise<Manifest> {
    const res = await fetch(`${server.url}/v2/${repo}/manifests/${ref}`, { headers: { Accept: ACCEPT, Authorization: server.authHeader } });
    expect(res.status).toBe(200);
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(sha256(bytes)).toBe(digest);
    return JSON.parse(new TextDecoder().decode(bytes)) as Manifest;
  }

  const podmanImage = async (ref: string) =>
    (JSON.parse(await podman.run(["image", "inspect", ref])) as { Id: string; Digest: string; RepoDigests: string[] }[])[0];
  const pull = async (ref: string, extra: string[] = []) =>
    lastLine(
      await podman.run(["pull", "--quiet", "--tls-verify=false", ...podman.signaturePolicy, ...extra, ref], { cwd: layouts }),
    );
  const push = async (src: string, dest: string) => {
    const digestFile = join(tempDir("digest-"), "digest");
    await podman.run(["push", "--tls-verify=false", ...podman.signaturePolicy, "--digestfile", digestFile, src, dest]);
    return readFileSync(digestFile, "utf8").trim();
  };
  const removeAllImages = async () => {
    await podman.run(["rmi", "--all", "--force"]);
    expect((await podman.run(["images", "--quiet"])).trim()).toBe("");
  };

  beforeAll(async () => {
    server = await startServerProcess();
    podman = containerTool("podman", { registryHost: server.host, server, bin: PODMAN });
    await podman.login(server.username, server.password);
    layouts = tempDir("layouts-");
    image = writeImageLayout(join(layouts, "image"), { tag: "v1", layers: 3 });
    other = writeImageLayout(join(layouts, "other"), { tag: "v2", layers: 2, seed: 2 });
    index = writeIndexLayout(join(layouts, "index"), { tag: "latest" });
  });

  afterAll(async () => {
    await server?.stop();
  });

  test("pulls a 3-layer image from an OCI layout and pushes it through PATCH uploads", async () => {
    const id = await pull("oci:image:v1");
    expect(`sha256:${id}`).toBe(image.configDigest);
    await podman.run(["tag", id, `${server.host}/e2e/podman:v1`]);
    pushedDigest = await push(`${server.host}/e2e/podman:v1`, `docker://${server.host}/e2e/podman:v1`);

    const manifest = await registryManifest("e2e/podman", "v1", pushedDigest);
    expect(manifest.config.digest).toBe(image.configDigest);
    expect(manifest.layers).toHaveLength(3);
    expect(server.output()).toContain("PATCH /v2/e2e/podman/blobs/uploads/");
    // The push went through this client's own cache, not the host's shared one.
    expect(blobInfoCacheMentions(podman, server.host)).toBe(true);
  });

  test("pulls the image back into empty storage with the same id and digest", async () => {
    await removeAllImages();
    const id = await pull(`${server.host}/e2e/podman:v1`);
    expect(`sha256:${id}`).toBe(image.configDigest);
    const inspected = await podmanImage(`${server.host}/e2e/podman:v1`);
    expect(inspected?.Digest).toBe(pushedDigest);
    expect(inspected?.RepoDigests).toContain(`${server.host}/e2e/podman@${pushedDigest}`);
    const manifest = await registryManifest("e2e/podman", pushedDigest, pushedDigest);
    for (const layer of manifest.layers) expect(server.output()).toContain(`GET /v2/e2e/podman/blobs/${layer.digest}`);
  });

  test("pushes the same image to a second repository and pulls it from there", async () => {
    const digest = await push(`${server.host}/e2e/podman:v1`, `docker://${server.host}/e2e/podman-copy:v1`);
    expect(digest).toBe(pushedDigest);
    await registryManifest("e2e/podman-copy", "v1", pushedDigest);
    await removeAllImages();
    expect(`sha256:${await pull(`${server.host}/e2e/podman-copy:v1`)}`).toBe(image.configDigest);
  });

  test("pushes a two-platform manifest list with --all and pulls each platform by digest", async () => {
    await podman.run(["manifest", "create", "localhost/e2e-list"]);
    // An absolute path: the list keeps this reference and reads it again at push time.
    await podman.run(["manifest", "add", "--all", "localhost/e2e-list", `oci:${join(layouts, "index")}:latest`]);
    const digestFile = join(tempDir("digest-"), "digest");
    await podman.run([
      // No --signature-policy here in podman 4.3: the policy in the client's HOME applies.
      ...["manifest", "push", "--all", "--tls-verify=false", "--digestfile", digestFile],
      ...["localhost/e2e-list", `docker://${server.host}/e2e/podman-multi:v1`],
    ]);
    const listDigest = readFileSync(digestFile, "utf8").trim();

    const list = await registryManifest("e2e/podman-multi", "v1", listDigest);
    expect(list.manifests?.map((m) => m.platform?.architecture).sort()).toEqual(["amd64", "arm64"]);
    for (const platform of index.manifests) {
      const child = list.manifests?.find((m) => m.platform?.architecture === platform.platform.architecture);
      const manifest = await registryManifest("e2e/podman-multi", child?.digest ?? "missing", child?.digest ?? "");
      expect(manifest.config.digest).toBe(platform.configDigest);
    }

    await removeAllImages();
    for (const platform of index.manifests) {
      const ref = `${server.host}/e2e/podman-multi@${listDigest}`;
      const id = await pull(ref, ["--arch", platform.platform.architecture]);
      expect(`sha256:${id}`).toBe(platform.configDigest);
    }
  });

  test("lists the tags of a repository", async () => {
    const id = await pull("oci:other:v2");
    await podman.run(["tag", id, `${server.host}/e2e/podman:v2`]);
    await push(`${server.host}/e2e/podman:v2`, `docker://${server.host}/e2e/podman:v2`);
    const out = await podman.run(["search", "--list-tags", "--format", "json", "--tls-verify=false", `${server.host}/e2e/podman`]);
    const listed = JSON.parse(out) as { Name: string; Tags: string[] }[];
    expect(listed[0]?.Tags.sort()).toEqual(["v1", "v2"]);
    expect(`sha256:${id}`).toBe(other.configDigest);
  });

  test.skipIf(!SKOPEO)("deletes a tag with skopeo delete and the tag is gone", async () => {
    const skopeo = containerTool("skopeo", { registryHost: server.host, server, bin: SKOPEO ?? "skopeo" });
    await skopeo.login(server.username, server.password);
    await skopeo.run(["delete", "--tls-verify=false", `docker://${server.host}/e2e/podman:v2`]);

    const tags = JSON.parse(await skopeo.run(["list-tags", "--tls-verify=false", `docker://${server.host}/e2e/podman`])) as {
      Tags: string[];
    };
    expect(tags.Tags).toEqual(["v1"]);
    const gone = await podman.result(["pull", "--tls-verify=false", ...podman.signaturePolicy, `${server.host}/e2e/podman:v2`]);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toMatch(/manifest unknown|not found/i);
    await registryManifest("e2e/podman", "v1", pushedDigest);
  });
});
