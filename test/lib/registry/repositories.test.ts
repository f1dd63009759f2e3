/**
 * @module Repository sizes and details: a repository's size counts each of
 * its blobs once, its unique size only what no other repository shares;
 * tags show platforms (from the config or the index), artifact types and
 * the bytes a pull fetches; a delete takes everything but shared blobs.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { latestAuditEventId, auditEventsAfter } from "../../../lib/audit/audit-events.ts";
import { RegistryError } from "../../../lib/errors.ts";
import { sha256Digest } from "../../../lib/oci/digest.ts";
import {
  deleteRepository,
  getRepositoryDetail,
  listAllRepositories,
  listRepositorySummaries,
  registryTotals,
} from "../../../lib/registry/repositories.ts";
import { openRegistry } from "../../../lib/registry/registry.ts";
import { testApp, type TestApp } from "../../support/app.ts";
import { tempDir } from "../../support/temp.ts";
import { pushBlob, pushImage, pushManifest } from "../../support/blobs.ts";
import { seedRepositories, seedSizes } from "../../support/seed.ts";

// These tests start processes or build large fixtures; a loaded machine needs more than 5 s (bunfig.toml's timeout is not applied).
setDefaultTimeout(60_000);

const enc = new TextEncoder();
const len = (text: string) => enc.encode(text).byteLength;
const SHARED = "shared base layer ".repeat(100);
const CONFIG = JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } });
const BY = { actor: "local:test", source: null };

let t: TestApp;
let a: Awaited<ReturnType<typeof pushImage>>;
let b: Awaited<ReturnType<typeof pushImage>>;

beforeAll(async () => {
  t = await testApp();
  a = await pushImage(t, "team/a", "v1", [SHARED, "only in a"]);
  b = await pushImage(t, "team/b", "v1", [SHARED, "only in b, longer"]);
});
afterAll(() => t.close());

async function code(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => "ok",
    (e: unknown) => (e instanceof RegistryError ? e.code : String(e)),
  );
}

describe("sizes with shared blobs", () => {
  test("size counts every blob once; uniqueSize only what no other repository holds", async () => {
    const { repositories } = await listRepositorySummaries(t.reg, 100);
    const byName = Object.fromEntries(repositories.map((r) => [r.name, r]));
    expect(byName["team/a"]).toMatchObject({
      tagCount: 1,
      manifestCount: 1,
      blobCount: 3,
      size: len(CONFIG) + len(SHARED) + len("only in a") + a.bytes.byteLength,
      uniqueSize: len("only in a") + a.bytes.byteLength,
      lastPushedAt: expect.any(Number),
    });
    expect(byName["team/b"]).toMatchObject({
      size: len(CONFIG) + len(SHARED) + len("only in b, longer") + b.bytes.byteLength,
      uniqueSize: len("only in b, longer") + b.bytes.byteLength,
    });
  });

  test("the same layer pushed twice to one repository counts once; totals count every stored byte once", async () => {
    await pushImage(t, "team/a", "v2", [SHARED, "only in a"]);
    const before = (await listRepositorySummaries(t.reg, 100)).repositories.find((r) => r.name === "team/a")!;
    expect(before).toMatchObject({ tagCount: 2, manifestCount: 1, blobCount: 3 });
    const totals = await registryTotals(t.reg);
    expect(totals).toEqual({
      repositories: 2,
      storedSize: len(CONFIG) + len(SHARED) + len("only in a") + len("only in b, longer") + a.bytes.byteLength + b.bytes.byteLength,
      unreferencedSize: 0,
    });
  });

  test("pages in name order with a continuation name", async () => {
    for (const name of ["zeta", "alpha", "mid/x"]) await pushImage(t, name, "v1", [name]);
    const first = await listRepositorySummaries(t.reg, 2);
    expect(first.repositories.map((r) => r.name)).toEqual(["alpha", "mid/x"]);
    expect(first.next).toBe("mid/x");
    const rest = await listRepositorySummaries(t.reg, 10, first.next!);
    expect(rest.repositories.map((r) => r.name)).toEqual(["team/a", "team/b", "zeta"]);
    expect(rest.next).toBeNull();
  });
});

describe("repository detail", () => {
  test("tags with digest, type, platform from the config, size of what a pull fetches", async () => {
    const detail = await getRepositoryDetail(t.reg, "team/b");
    expect(detail.tags).toEqual([
      {
        name: "v1",
        digest: b.digest,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        artifactType: null,
        platforms: ["linux/amd64"],
        size: b.bytes.byteLength + len(CONFIG) + len(SHARED) + len("only in b, longer"),
        pushedAt: expect.any(Number),
      },
    ]);
    expect(await code(getRepositoryDetail(t.reg, "nope"))).toBe("NAME_UNKNOWN");
    expect(await code(getRepositoryDetail(t.reg, "Bad Name"))).toBe("NAME_INVALID");
  });

  test("an index lists its children's platforms (not attestations) and counts their blobs once", async () => {
    const arm = await pushImage(t, "multi", "arm-only", [SHARED, "arm layer"]);
    const amd = await pushImage(t, "multi", "amd-only", [SHARED, "amd layer"]);
    const index = {
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [
        { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: amd.digest, size: amd.bytes.byteLength, platform: { os: "linux", architecture: "amd64" } },
        { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: arm.digest, size: arm.bytes.byteLength, platform: { os: "linux", architecture: "arm64", variant: "v8" } },
        { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: arm.digest, size: arm.bytes.byteLength, platform: { os: "unknown", architecture: "unknown" } },
      ],
    };
    const bytes = enc.encode(JSON.stringify(index));
    expect((await pushManifest(t, "multi", "latest", bytes, index.mediaType)).status).toBe(201);
    const tag = (await getRepositoryDetail(t.reg, "multi")).tags.find((x) => x.name === "latest")!;
    expect(tag).toMatchObject({ digest: sha256Digest(bytes), mediaType: index.mediaType, platforms: ["linux/amd64", "linux/arm64/v8"] });
    expect(tag.size).toBe(bytes.byteLength + amd.bytes.byteLength + arm.bytes.byteLength + len(CONFIG) + len(SHARED) + len("arm layer") + len("amd layer"));
  });

  test("an artifact shows its artifact type and no platform", async () => {
    const sbom = await pushBlob(t, "multi", "sbom contents");
    const manifest = {
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      artifactType: "application/spdx+json",
      config: { mediaType: "application/vnd.oci.empty.v1+json", digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", size: 2 },
      layers: [{ mediaType: "application/spdx+json", digest: sbom, size: len("sbom contents") }],
    };
    expect((await pushManifest(t, "multi", "sbom", manifest)).status).toBe(201);
    const tag = (await getRepositoryDetail(t.reg, "multi")).tags.find((x) => x.name === "sbom")!;
    expect(tag).toMatchObject({ artifactType: "application/spdx+json", platforms: [] });
  });
});

describe("deleteRepository", () => {
  test("removes tags, manifests (an index and its children), memberships and uploads; shared blobs stay readable elsewhere", async () => {
    const started = await t.request("POST", "/v2/multi/blobs/uploads/");
    const uploadId = started.headers.get("docker-upload-uuid")!;
    expect(await t.reg.store.uploadSize(uploadId)).toBe(0);
    await t.reg.audit.flush();
    const mark = await latestAuditEventId(t.reg);

    const deleted = await deleteRepository(t.reg, "multi", BY);
    expect(deleted).toEqual({ name: "multi", tags: 4, manifests: 4, blobs: 6, uploads: 1 });
    expect(await code(getRepositoryDetail(t.reg, "multi"))).toBe("NAME_UNKNOWN");
    expect(await t.reg.store.uploadSize(uploadId)).toBeNull();
    expect(((await (await t.request("GET", "/v2/_catalog")).json()) as { repositories: string[] }).repositories).not.toContain("multi");
    expect((await t.request("GET", "/v2/multi/manifests/latest")).status).toBe(404);

    const shared = a.manifest.layers[0]!.digest;
    expect((await t.request("GET", `/v2/multi/blobs/${shared}`)).status).toBe(404);
    const other = await t.request("GET", `/v2/team/a/blobs/${shared}`);
    expect(other.status).toBe(200);
    expect(await other.text()).toBe(SHARED);
    expect(await t.reg.store.stat(shared)).toEqual({ size: len(SHARED) });

    await t.reg.audit.flush();
    expect(await auditEventsAfter(t.reg, {}, mark, 10)).toEqual([
      expect.objectContaining({ event: "repository.deleted", actor: "local:test", repository: "multi", detail: { tags: 4, manifests: 4, blobs: 6, uploads: 1 } }),
    ]);
    expect(await code(deleteRepository(t.reg, "multi", BY))).toBe("NAME_UNKNOWN");
  });

  test("blobs only the deleted repository held are left for GC, and counted as unreferenced", async () => {
    const before = await registryTotals(t.reg);
    expect(before.unreferencedSize).toBeGreaterThan(0);
    expect(before.unreferencedSize).toBe(len("arm layer") + len("amd layer") + len("sbom contents") + 2);
    await pushImage(t, "multi", "again", [SHARED]);
    expect((await getRepositoryDetail(t.reg, "multi")).tags.map((x) => x.name)).toEqual(["again"]);
  });
});

describe("scale", () => {
  test("listing 1,000 repositories with their sizes takes well under a second", async () => {
    const reg = await openRegistry(tempDir());
    await seedRepositories(reg, 1000);
    await listRepositorySummaries(reg, 1); // the first query pays for opening pages of the file
    // CPU time (other load on the machine stretches wall time, not this): a query per repository would cross it.
    const before = process.cpuUsage();
    const { repositories: all, totals } = await listAllRepositories(reg);
    const spent = process.cpuUsage(before);
    const ms = (spent.user + spent.system) / 1000;
    console.log(`listRepositorySummaries + registryTotals on 1,000 repositories: ${ms.toFixed(1)} ms of CPU`);
    expect(ms).toBeLessThan(250);
    expect(all).toHaveLength(1000);
    expect(totals.repositories).toBe(1000);
    expect(all[999]).toMatchObject({ name: "seed-0999", ...seedSizes("seed-0999") });
    await reg.close();
  });
});
