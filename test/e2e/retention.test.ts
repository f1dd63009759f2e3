/**
 * @module Retention end to end: 50 CI builds pushed over HTTP across 50
 * simulated days (the registry's clock injected), releases, a multi-platform
 * index, signatures, stray untagged manifests, a mirror pulled now and
 * then, and a repository no rule covers. `mcr retention plan --json` is
 * taken, then `mcr gc --retention` runs from the command line: exactly the
 * planned tags, manifests, referrers and blobs go, each audited with its
 * rule, and everything kept pulls back byte-exact.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { GcReport } from "../../lib/gc/report.ts";
import { sha256Digest } from "../../lib/oci/digest.ts";
import { EMPTY_JSON_DIGEST } from "../../lib/registry/empty-blob.ts";
import type { RetentionPlan } from "../../lib/retention/plan.ts";
import { testApp, type TestApp } from "../support/app.ts";
import { pushBlob, pushImage, pushManifest } from "../support/blobs.ts";
import { runCli } from "../support/cli.ts";
import { tempDir } from "../support/temp.ts";

setDefaultTimeout(60_000);

const DAY = 86_400_000;
const INDEX = "application/vnd.oci.image.index.v1+json";
const MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const RULES = `
[[rule]]
id = "ci"
repositories = ["ci/**"]
keep_last = 20
keep_tags = ["release-*"]
untagged_after = "7d"

[[rule]]
id = "mirror"
repositories = ["mirror/**"]
keep_pulled_within = "30d"
`;

interface Pushed {
  repo: string;
  reference: string;
  digest: string;
  bytes: Uint8Array;
  blobs: string[];
}

let t: TestApp;
let clock = 0;
const pushed: Pushed[] = [];
const expectGone = new Set<string>();
const referrers: { subject: string; signature: string }[] = [];

async function image(repo: string, tag: string, layers: string[]): Promise<Pushed> {
  const p = await pushImage(t, repo, tag, layers);
  const entry = { repo, reference: tag, digest: p.digest, bytes: p.bytes, blobs: [p.manifest.config.digest, ...p.manifest.layers.map((l) => l.digest)] };
  pushed.push(entry);
  return entry;
}

async function byDigest(repo: string, doc: object, mediaType: string, blobs: string[] = []): Promise<Pushed> {
  const bytes = new TextEncoder().encode(JSON.stringify(doc));
  const digest = sha256Digest(bytes);
  const res = await pushManifest(t, repo, digest, bytes, mediaType);
  if (res.status !== 201) throw new Error(`push ${repo}@${digest}: ${res.status} ${await res.text()}`);
  const entry = { repo, reference: digest, digest, bytes, blobs };
  pushed.push(entry);
  return entry;
}

async function signature(repo: string, subject: Pushed, text: string): Promise<Pushed> {
  const layer = await pushBlob(t, repo, text);
  return byDigest(
    repo,
    {
      schemaVersion: 2,
      mediaType: MANIFEST,
      artifactType: "application/vnd.dev.cosign.artifact.sig.v1+json",
      config: { mediaType: "application/vnd.oci.empty.v1+json", digest: EMPTY_JSON_DIGEST, size: 2 },
      layers: [{ mediaType: "application/octet-stream", digest: layer, size: text.length }],
      subject: { mediaType: MANIFEST, digest: subject.digest, size: subject.bytes.byteLength },
    },
    MANIFEST,
    [layer],
  );
}

beforeAll(async () => {
  t = await testApp();
  // Day 0 is 60 days ago; the command-line tools run at the real time.
  const start = Date.now() - 60 * DAY;
  clock = start;
  t.reg.now = () => clock;
  const at = (day: number) => (clock = start + day * DAY);

  at(0);
  for (const v of ["3.17", "3.18", "3.19"]) await image("mirror/alpine", v, [`alpine ${v}`]);
  await image("other/app", "ancient", ["other layer"]);
  const stray = await byDigest("ci/app", { schemaVersion: 2, mediaType: MANIFEST, config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: await pushBlob(t, "ci/app", "stray config"), size: 12 }, layers: [] }, MANIFEST);
  expectGone.add(stray.digest);

  at(1);
  const amd = await byDigest("ci/app", { schemaVersion: 2, mediaType: MANIFEST, config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: await pushBlob(t, "ci/app", "amd64 config"), size: 12 }, layers: [] }, MANIFEST);
  const arm = await byDigest("ci/app", { schemaVersion: 2, mediaType: MANIFEST, config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: await pushBlob(t, "ci/app", "arm64 config"), size: 12 }, layers: [] }, MANIFEST);
  const index = {
    schemaVersion: 2,
    mediaType: INDEX,
    manifests: [amd, arm].map((m, i) => ({ mediaType: MANIFEST, digest: m.digest, size: m.bytes.byteLength, platform: { os: "linux", architecture: i === 0 ? "amd64" : "arm64" } })),
  };
  const indexBytes = new TextEncoder().encode(JSON.stringify(index));
  const res = await pushManifest(t, "ci/app", "multi", indexBytes, INDEX);
  expect(res.status).toBe(201);
  const multi = { repo: "ci/app", reference: "multi", digest: sha256Digest(indexBytes), bytes: indexBytes, blobs: [] };
  pushed.push(multi);
  for (const m of [amd, arm, multi]) expectGone.add(m.digest);

  const builds: Pushed[] = [];
  for (let i = 0; i < 50; i++) {
    at(2 + i);
    const build = await image("ci/app", `build-${String(i).padStart(2, "0")}`, ["shared base", `layer ${i}`]);
    builds.push(build);
    if (i % 10 === 5) await pushManifest(t, "ci/app", `release-${i}`, build.bytes);
    // keep_last 20 counts release tags too: the newest 20 are build-32…49, release-35 and release-45.
    if (i < 32 && i % 10 !== 5) expectGone.add(build.digest);
  }
  const oldSig = await signature("ci/app", builds[3]!, "signature of build 3");
  const newSig = await signature("ci/app", builds[48]!, "signature of build 48");
  expectGone.add(oldSig.digest);
  referrers.push({ subject: builds[48]!.digest, signature: newSig.digest }, { subject: builds[3]!.digest, signature: oldSig.digest });

  at(45);
  expect((await t.request("GET", "/v2/mirror/alpine/manifests/3.18", { headers: { accept: MANIFEST } })).status).toBe(200);
  at(10);
  expect((await t.request("HEAD", "/v2/mirror/alpine/manifests/3.19", { headers: { accept: MANIFEST } })).status).toBe(200);
  at(57);
  const recent = await byDigest("ci/app", { schemaVersion: 2, mediaType: MANIFEST, config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: await pushBlob(t, "ci/app", "recent stray"), size: 12 }, layers: [] }, MANIFEST);
  expect(recent.digest).toStartWith("sha256:");
  await t.reg.pulls.flush();
  for (const p of pushed) if (p.repo === "mirror/alpine" && p.reference !== "3.18") expectGone.add(p.digest);
});

afterAll(() => t.close());

async function tags(repo: string): Promise<string[]> {
  const res = await t.request("GET", `/v2/${repo}/tags/list`);
  return ((await res.json()) as { tags: string[] }).tags.sort();
}

describe("retention end to end", () => {
  test("plan, then gc --retention: exactly the planned tags, manifests, referrers and blobs go; the rest pulls byte-exact", async () => {
    const file = join(tempDir(), "retention.toml");
    writeFileSync(file, RULES);
    const applied = await runCli(["retention", "apply", "-f", file, "--data", t.dataDir]);
    expect(applied.stdout).toContain("+ ci: keep_last 20, keep_tags release-*, untagged after 7d on ci/**");
    expect(applied.code).toBe(0);

    const planRun = await runCli(["retention", "plan", "--json", "--data", t.dataDir]);
    expect(planRun.code).toBe(0);
    const plan = JSON.parse(planRun.stdout) as RetentionPlan;
    expect(plan.repositories.map((r) => r.repository).sort()).toEqual(["ci/app", "mirror/alpine"]);
    const plannedTags = plan.repositories.flatMap((r) => r.tags.filter((d) => !d.keep).map((d) => `${r.repository}:${d.tag}`)).sort();
    const plannedManifests = plan.repositories.flatMap((r) => r.manifests.flat().map((m) => `${r.repository}@${m.digest}`)).sort();
    const text = await runCli(["retention", "plan", "--repo", "ci/*", "--data", t.dataDir]);
    expect(text.stdout).toContain("remove tag build-00");
    expect(text.stdout).toContain("[ci]");
    expect(text.stdout).not.toContain("mirror/alpine");

    const gc = await runCli(["gc", "--retention", "--grace", "0s", "--json", "--data", t.dataDir]);
    expect(gc.code).toBe(0);
    const report = JSON.parse(gc.stdout) as GcReport;
    expect(report.retentionRun).toMatchObject({ tagsRemoved: plannedTags.length, manifestsRemoved: plannedManifests.length, keptOnRecheck: 0, skipped: [] });

    // What went is what the plan said, event by event, each naming its rule.
    const events = await t.reg.db.selectFrom("audit_events").selectAll().where("event", "like", "retention.%.deleted").execute();
    expect(events.filter((e) => e.event === "retention.tag.deleted").map((e) => `${e.repository}:${e.tag}`).sort()).toEqual(plannedTags);
    expect(events.filter((e) => e.event === "retention.manifest.deleted").map((e) => `${e.repository}@${e.digest}`).sort()).toEqual(plannedManifests);
    for (const e of events) expect(JSON.parse(e.detail!).rules.length).toBeGreaterThan(0);

    // Exactly the expected tags remain.
    const builds = Array.from({ length: 18 }, (_, i) => `build-${32 + i}`);
    expect(await tags("ci/app")).toEqual([...builds, "release-15", "release-25", "release-35", "release-45", "release-5"].sort());
    expect(await tags("mirror/alpine")).toEqual(["3.18"]);
    expect(await tags("other/app")).toEqual(["ancient"]);
    expect(plannedManifests.map((m) => m.split("@")[1]).sort()).toEqual([...expectGone].sort());

    // Every manifest kept pulls byte-exact with its blobs; every one removed is gone, and so are blobs only they used.
    const keptBlobs = new Set<string>();
    for (const p of pushed.filter((p) => !expectGone.has(p.digest))) {
      const res = await t.request("GET", `/v2/${p.repo}/manifests/${p.digest}`, { headers: { accept: `${MANIFEST}, ${INDEX}` } });
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(p.bytes))).toBe(true);
      for (const blob of p.blobs) {
        keptBlobs.add(blob);
        const b = await t.request("GET", `/v2/${p.repo}/blobs/${blob}`);
        expect(b.status).toBe(200);
        expect(sha256Digest(new Uint8Array(await b.arrayBuffer()))).toBe(blob);
      }
    }
    for (const p of pushed.filter((p) => expectGone.has(p.digest))) {
      expect((await t.request("GET", `/v2/${p.repo}/manifests/${p.digest}`, { headers: { accept: `${MANIFEST}, ${INDEX}` } })).status).toBe(404);
      for (const blob of p.blobs.filter((b) => !keptBlobs.has(b))) expect((await t.request("HEAD", `/v2/${p.repo}/blobs/${blob}`)).status).toBe(404);
    }
    expect(report.blobsRemoved).toBeGreaterThan(30);

    // The kept image's signature is still its referrer; the removed image's went with it.
    const [kept, removed] = referrers;
    const listed = (await (await t.request("GET", `/v2/ci/app/referrers/${kept!.subject}`)).json()) as { manifests: { digest: string }[] };
    expect(listed.manifests.map((m) => m.digest)).toEqual([kept!.signature]);
    const orphaned = (await (await t.request("GET", `/v2/ci/app/referrers/${removed!.subject}`)).json()) as { manifests: unknown[] };
    expect(orphaned.manifests).toEqual([]);

    // A second run finds nothing more to do.
    const again = JSON.parse((await runCli(["retention", "run", "--json", "--data", t.dataDir])).stdout);
    expect(again).toMatchObject({ tagsRemoved: 0, manifestsRemoved: 0 });
  });
});
