/**
 * @module /v1/repositories: admin only; the list in cursor pages with
 * registry totals (fast on 1,000 repositories), one repository by its
 * multi-segment name, DELETE, and JSON errors.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { addUser } from "../../../lib/auth/users.ts";
import type { RepositoryDetail, RepositorySummary } from "../../../lib/registry/repositories.ts";
import { testApp, type TestApp } from "../../support/app.ts";
import { pushImage } from "../../support/blobs.ts";
import { basicAuth } from "../../support/credentials.ts";
import { SEED, seedRepositories, seedSizes } from "../../support/seed.ts";

// These tests start processes or build large fixtures; a loaded machine needs more than 5 s (bunfig.toml's timeout is not applied).
setDefaultTimeout(60_000);

let t: TestApp;
interface Listing {
  repositories: RepositorySummary[];
  nextCursor: string | null;
  totals: { repositories: number; storedSize: number; unreferencedSize: number };
}

beforeAll(async () => {
  t = await testApp();
  await addUser(t.reg, { name: "alice", password: "alice-password" }, "test");
  await seedRepositories(t.reg, 1000);
  await pushImage(t, "team/web/app", "v1", ["shared layer", "web layer"]);
  await pushImage(t, "team/api", "v1", ["shared layer", "api layer"]);
});
afterAll(() => t.close());

async function call(method: string, path: string, authorization?: string): Promise<{ status: number; body: unknown }> {
  const res = await t.request(method, path, { headers: authorization === undefined ? {} : { authorization } });
  return { status: res.status, body: await res.json() };
}

describe("/v1/repositories", () => {
  test("admins only", async () => {
    expect((await call("GET", "/v1/repositories", "")).status).toBe(401);
    for (const [method, path] of [["GET", "/v1/repositories"], ["GET", "/v1/repositories/team/api"], ["DELETE", "/v1/repositories/team/api"]] as const) {
      const r = await call(method, path, basicAuth("alice", "alice-password"));
      expect(r.status).toBe(403);
      expect(r.body).toHaveProperty("error");
    }
  });

  test("1,000 repositories in cursor pages, in name order, well under a second", async () => {
    // CPU time, in process (other load on the machine stretches wall time, not this).
    const before = process.cpuUsage();
    const names: string[] = [];
    let cursor: string | null = "";
    let pages = 0;
    while (cursor !== null) {
      const { status, body } = await call("GET", `/v1/repositories?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      expect(status).toBe(200);
      const listing = body as Listing;
      names.push(...listing.repositories.map((r) => r.name));
      cursor = listing.nextCursor;
      pages++;
    }
    const spent = process.cpuUsage(before);
    const ms = (spent.user + spent.system) / 1000;
    console.log(`GET /v1/repositories: 1,002 repositories in ${pages} pages, ${ms.toFixed(0)} ms of CPU`);
    expect(ms).toBeLessThan(500);
    expect(names).toHaveLength(1002);
    expect(names).toEqual([...names].sort());
    const first = (await call("GET", "/v1/repositories?limit=1")).body as Listing;
    expect(first.repositories[0]).toEqual({
      name: "seed-0000",
      tagCount: 3,
      manifestCount: 2,
      blobCount: 4,
      ...seedSizes("seed-0000"),
      createdAt: expect.any(Number),
      lastPushedAt: expect.any(Number),
      mirrorOf: null,
    });
    expect(first.nextCursor).toBe("seed-0000");
    expect(first.totals.repositories).toBe(1002);
  });

  test("sizes of seeded repositories: shared bases count in size, not in uniqueSize; totals count them once", async () => {
    const listing = (await call("GET", "/v1/repositories?limit=1000")).body as Listing;
    for (const r of listing.repositories) expect({ name: r.name, size: r.size, uniqueSize: r.uniqueSize }).toEqual({ name: r.name, ...seedSizes(r.name) });
    const seeded = listing.repositories.filter((r) => r.name.startsWith("seed-"));
    const own = seeded.reduce((sum, r) => sum + r.uniqueSize, 0);
    const pushed = (await call("GET", "/v1/repositories?cursor=seed-9999")).body as Listing;
    // The two pushed images share their config (pushImage writes the same one) and one layer.
    const config = JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } });
    const pushedBytes = pushed.repositories.reduce((sum, r) => sum + r.uniqueSize, 0) + "shared layer".length + config.length;
    expect(listing.totals.storedSize).toBe(SEED.baseSizes[0] + SEED.baseSizes[1] + own + pushedBytes);
  });

  test("one repository by its multi-segment name, with tags", async () => {
    const { status, body } = await call("GET", "/v1/repositories/team/web/app");
    expect(status).toBe(200);
    const detail = body as RepositoryDetail;
    expect(detail).toMatchObject({ name: "team/web/app", tagCount: 1, manifestCount: 1, blobCount: 3 });
    expect(detail.tags).toEqual([expect.objectContaining({ name: "v1", platforms: ["linux/amd64"], artifactType: null })]);
    expect((await call("GET", "/v1/repositories/team%2Fweb%2Fapp")).status).toBe(200);
  });

  test("DELETE answers what it removed; the other repository still serves the shared layer", async () => {
    const { status, body } = await call("DELETE", "/v1/repositories/team/web/app");
    expect(status).toBe(200);
    expect(body).toEqual({ name: "team/web/app", tags: 1, manifests: 1, blobs: 3, uploads: 0 });
    expect((await call("GET", "/v1/repositories/team/web/app")).status).toBe(404);
    expect((await call("DELETE", "/v1/repositories/team/web/app")).status).toBe(404);
    const detail = (await call("GET", "/v1/repositories/team/api")).body as RepositoryDetail;
    const image = await t.request("GET", `/v2/team/api/manifests/v1`);
    const manifest = (await image.json()) as { layers: { digest: string }[] };
    for (const layer of manifest.layers) expect((await t.request("GET", `/v2/team/api/blobs/${layer.digest}`)).status).toBe(200);
    expect(detail.tagCount).toBe(1);
  });

  test("bad names and parameters: 400/404 with a JSON error, never a 500", async () => {
    for (const [path, status] of [
      ["/v1/repositories/Bad%20Name", 400],
      ["/v1/repositories/%E0%A4", 400],
      ["/v1/repositories/nope", 404],
      ["/v1/repositories?limit=0", 400],
      ["/v1/repositories?limit=abc", 400],
    ] as const) {
      const r = await call("GET", path);
      expect({ path, status: r.status }).toEqual({ path, status });
      expect(typeof (r.body as { error: unknown }).error).toBe("string");
    }
    expect((await call("PUT", "/v1/repositories/team/api")).status).toBe(405);
  });
});
