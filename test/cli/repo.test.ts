/**
 * @module `mcr repo list|show|delete` as child processes: the table with
 * sizes and totals (1,000 repositories well under a second), --json,
 * --sort, the tag table, and deletes that ask first.
 */
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { sha256Digest } from "../../lib/oci/digest.ts";
import { putManifest } from "../../lib/registry/manifests.ts";
import { openRegistry, type Registry } from "../../lib/registry/registry.ts";
import type { RepositoryDetail, RepositorySummary } from "../../lib/registry/repositories.ts";
import { uploadBlob } from "../../lib/registry/uploads.ts";
import { cliOk, runCli } from "../support/cli.ts";
import { seedRepositories, seedSizes } from "../support/seed.ts";
import { tempDir } from "../support/temp.ts";

// These tests start processes or build large fixtures; a loaded machine needs more than 5 s (bunfig.toml's timeout is not applied).
setDefaultTimeout(60_000);

const BY = { actor: "local:test", source: null };
const enc = new TextEncoder();

/** Pushes an image of `layers` (their contents) through lib/, as a push over HTTP would. */
async function push(reg: Registry, name: string, tag: string, layers: string[]): Promise<void> {
  const config = JSON.stringify({ architecture: "arm64", os: "linux", variant: "v8" });
  const descriptors = [];
  for (const content of [config, ...layers]) {
    const digest = sha256Digest(content);
    await uploadBlob(reg, name, digest, [enc.encode(content)]);
    descriptors.push({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest, size: enc.encode(content).byteLength });
  }
  const [cfg, ...rest] = descriptors;
  const manifest = { schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: { ...cfg!, mediaType: "application/vnd.oci.image.config.v1+json" }, layers: rest };
  await putManifest(reg, name, tag, null, enc.encode(JSON.stringify(manifest)), BY);
}

describe("mcr repo", () => {
  const data = tempDir("cli-repo-");
  const d = ["--data", data];

  beforeAll(async () => {
    const reg = await openRegistry(data);
    await seedRepositories(reg, 1000);
    await push(reg, "zz/big", "v1", ["x".repeat(300_000), "shared".repeat(1000)]);
    await push(reg, "zz/small", "v1", ["shared".repeat(1000)]);
    await push(reg, "zz/small", "v2", ["shared".repeat(1000), "tiny"]);
    await reg.close();
  });

  test("list: 1,000 repositories with sizes and totals", async () => {
    const started = performance.now();
    const out = await cliOk(["repo", "list", ...d]);
    const ms = performance.now() - started;
    // Mostly Bun starting and transpiling the CLI from source; the listing itself is timed in test/lib/registry/repositories.test.ts.
    console.log(`mcr repo list on 1,002 repositories: ${ms.toFixed(0)} ms, process start included`);
    expect(ms).toBeLessThan(3000);
    const lines = out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^NAME\s+TAGS\s+MANIFESTS\s+SIZE\s+UNIQUE\s+LAST PUSH$/);
    expect(lines[1]).toMatch(/^seed-0000\s+3\s+2\s+35\.3 MiB\s+1\.9 MiB\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
    expect(lines).toContainEqual(expect.stringMatching(/^zz\/small\s+2\s+2\s+6\.\d KiB\s+\d+ B\s/));
    expect(lines.at(-1)).toMatch(/^1002 repositories; [\d.]+ GiB stored \([\d.]+ GiB without sharing\)$/);
  });

  test("list --json and --sort", async () => {
    const { repositories, totals } = JSON.parse(await cliOk(["repo", "list", "--json", "--sort", "size", ...d])) as {
      repositories: RepositorySummary[];
      totals: { repositories: number; storedSize: number; unreferencedSize: number };
    };
    expect(repositories).toHaveLength(1002);
    expect(totals.repositories).toBe(1002);
    const sizes = repositories.map((r) => r.size);
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
    expect(repositories.find((r) => r.name === "seed-0042")).toMatchObject({ tagCount: 3, manifestCount: 2, ...seedSizes("seed-0042") });
    const small = repositories.find((r) => r.name === "zz/small")!;
    // zz/big and zz/small share the config and the "shared" layer; only "tiny" and the manifests are zz/small's own.
    expect(small.size - small.uniqueSize).toBe(6000 + JSON.stringify({ architecture: "arm64", os: "linux", variant: "v8" }).length);
    expect((await runCli(["repo", "list", "--sort", "color", ...d])).code).toBe(2);
  });

  test("show: the tag table, and --json", async () => {
    const out = await cliOk(["repo", "show", "zz/small", ...d]);
    expect(out).toMatch(/^zz\/small\n  size [\d.]+ KiB \(\d+ B not shared with other repositories\) · 2 tags · 2 manifests · 3 blobs\n/);
    expect(out).toMatch(/\nTAG\s+DIGEST\s+TYPE\s+PLATFORMS\s+SIZE\s+PUSHED\n/);
    expect(out).toMatch(/\nv2\s+sha256:[0-9a-f]{12}\s+image\s+linux\/arm64\/v8\s+[\d.]+ KiB\s+\d{4}-/);
    const detail = JSON.parse(await cliOk(["repo", "show", "zz/small", "--json", ...d])) as RepositoryDetail;
    expect(detail.tags.map((t) => [t.name, t.platforms])).toEqual([
      ["v1", ["linux/arm64/v8"]],
      ["v2", ["linux/arm64/v8"]],
    ]);
    const missing = await runCli(["repo", "show", "no/such", ...d]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("repository name not known");
  });

  test("delete asks; only y deletes; --yes does not ask", async () => {
    for (const stdin of ["n\n", "", "maybe\n"]) {
      const r = await runCli(["repo", "delete", "seed-0001", ...d], { stdin });
      expect({ stdin, code: r.code }).toEqual({ stdin, code: 1 });
      expect(r.stderr).toContain("delete seed-0001: 3 tags, 2 manifests, 35.3 MiB (1.9 MiB freed after mcr gc)? [y/N]");
      expect(r.stderr).toContain("seed-0001 not deleted");
    }
    expect((await runCli(["repo", "delete", "seed-0001", ...d])).code).toBe(1);
    const yes = await runCli(["repo", "delete", "seed-0001", ...d], { stdin: "y\n" });
    expect(yes.code).toBe(0);
    expect(yes.stdout).toBe("deleted seed-0001: 3 tags, 2 manifests, 4 blob links, 0 uploads; the blobs stay until mcr gc\n");
    expect((await cliOk(["repo", "delete", "seed-0002", "--yes", ...d]))).toContain("deleted seed-0002");
    const names = (JSON.parse(await cliOk(["repo", "list", "--json", ...d])) as { repositories: RepositorySummary[] }).repositories.map((r) => r.name);
    expect(names).not.toContain("seed-0001");
    expect(names).not.toContain("seed-0002");
    expect(names).toContain("seed-0003");
    const audit = await cliOk(["audit", "tail", "--json", "--event", "repository.deleted", ...d]);
    expect(audit.trimEnd().split("\n").map((l) => JSON.parse(l) as { repository: string; actor: string })).toEqual([
      expect.objectContaining({ repository: "seed-0001", actor: expect.stringMatching(/^local:/) }),
      expect.objectContaining({ repository: "seed-0002" }),
    ]);
    expect((await runCli(["repo", "delete", "seed-0001", "--yes", ...d])).code).toBe(1);
  });
});
