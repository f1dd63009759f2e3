/**
 * @module Retention on a real registry (SQLite and files, the registry's
 * clock moved by the test): a run does what the plan said, re-checks each
 * decision as it deletes (tags pushed, moved or pulled since the plan
 * stay), records pulls in batches, audits every removal with its rule,
 * and `gc --retention` sweeps the blobs of what it removed.
 */
import { describe, expect, test } from "bun:test";
import { runGc } from "../../../lib/gc/run.ts";
import { getManifest } from "../../../lib/registry/manifests.ts";
import type { Registry } from "../../../lib/registry/registry.ts";
import { planRetention } from "../../../lib/retention/plan.ts";
import { parseRetentionText } from "../../../lib/retention/rules-file.ts";
import { runRetention } from "../../../lib/retention/run.ts";
import { applyRetention } from "../../../lib/retention/store.ts";
import { applyPolicy } from "../../../lib/policy/store.ts";
import { defaultRules } from "../../../lib/policy/defaults.ts";
import { blobState, clockedRegistry, HOUR, manifestDigests, pushImage } from "../../support/gc-fixtures.ts";

const DAY = 24 * HOUR;

async function rules(reg: Registry, toml: string): Promise<void> {
  await applyRetention(reg, parseRetentionText(toml), "test");
}

async function tagNames(reg: Registry, repo: string): Promise<string[]> {
  const rows = await reg.db
    .selectFrom("tags as t")
    .innerJoin("repositories as r", "r.id", "t.repository_id")
    .select("t.name")
    .where("r.name", "=", repo)
    .orderBy("t.name")
    .execute();
  return rows.map((r) => r.name);
}

const removedTags = (plan: Awaited<ReturnType<typeof planRetention>>) =>
  plan.repositories.flatMap((r) => r.tags.filter((t) => !t.keep).map((t) => `${r.repository}:${t.tag}`)).sort();

describe("retention runs", () => {
  test("the run does exactly what the plan said; uncovered repositories are untouched; every removal is audited with its rule", async () => {
    const { reg, advance } = await clockedRegistry();
    for (let i = 0; i < 6; i++) {
      await pushImage(reg, "ci/app", `build-${i}`, [`layer ${i}`]);
      await pushImage(reg, "other", `build-${i}`, [`other ${i}`]);
      advance(DAY);
    }
    await pushImage(reg, "ci/app", "v1.0", ["release layer"]);
    advance(10 * DAY);
    await rules(reg, `[[rule]]\nid = "ci"\nrepositories = ["ci/**"]\nkeep_last = 2\nkeep_tags = ["v*"]\n`);
    const plan = await planRetention(reg);
    expect(plan.repositories.map((r) => r.repository)).toEqual(["ci/app"]);
    expect(removedTags(plan)).toEqual(["ci/app:build-0", "ci/app:build-1", "ci/app:build-2", "ci/app:build-3", "ci/app:build-4"].sort());
    const report = await runRetention(reg, { actor: "local:test" });
    expect(report.removed).toEqual([
      { repository: "ci/app", tags: plan.repositories[0]!.tags.filter((t) => !t.keep).map((t) => t.tag), manifests: plan.repositories[0]!.manifests.flat().map((m) => m.digest) },
    ]);
    expect(report).toMatchObject({ tagsRemoved: 5, manifestsRemoved: 5, keptOnRecheck: 0 });
    expect(await tagNames(reg, "ci/app")).toEqual(["build-5", "v1.0"]);
    expect(await tagNames(reg, "other")).toHaveLength(6);
    expect(await manifestDigests(reg, "ci/app")).toHaveLength(2);
    await reg.audit.flush();
    const events = await reg.db.selectFrom("audit_events").selectAll().where("event", "like", "retention.%").execute();
    expect(events.filter((e) => e.event === "retention.tag.deleted")).toHaveLength(5);
    expect(events.filter((e) => e.event === "retention.manifest.deleted")).toHaveLength(5);
    for (const e of events.filter((e) => e.event.endsWith(".deleted"))) {
      expect(JSON.parse(e.detail!).rules).toEqual(["ci"]);
      expect(e.actor).toBe("local:test");
    }
    const finished = events.filter((e) => e.event === "retention.finished");
    expect(finished).toHaveLength(1);
    expect(JSON.parse(finished[0]!.detail!)).toMatchObject({ tagsRemoved: 5, manifestsRemoved: 5, skipped: 0 });
    await reg.close();
  });

  test("a tag pushed or moved after the plan, or pulled since, is not removed", async () => {
    const { reg, advance } = await clockedRegistry();
    const images = [];
    for (let i = 0; i < 5; i++) {
      images.push(await pushImage(reg, "ci/app", `t${i}`, [`layer ${i}`]));
      advance(DAY);
    }
    advance(40 * DAY);
    await rules(reg, `[[rule]]\nid = "ci"\nrepositories = ["ci/**"]\nkeep_last = 1\nkeep_pulled_within = "30d"\n`);
    const plan = await planRetention(reg);
    expect(removedTags(plan)).toEqual(["ci/app:t0", "ci/app:t1", "ci/app:t2", "ci/app:t3"]);
    // After the plan: t0 moved to another image, t1 pushed again (same image), t2 pulled.
    advance(1000);
    await pushImage(reg, "ci/app", "t0", ["layer 4"]);
    await pushImage(reg, "ci/app", "t1", ["layer 1"]);
    advance(2 * 60_000);
    await getManifest(reg, "ci/app", "t2");
    const report = await runRetention(reg, { actor: "test", plan });
    expect(report.removed[0]!.tags).toEqual(["t3"]);
    expect(report.keptOnRecheck).toBeGreaterThanOrEqual(3);
    expect(await tagNames(reg, "ci/app")).toEqual(["t0", "t1", "t2", "t4"]);
    // t3's manifest went with its tag; every image still tagged pulls.
    expect(await manifestDigests(reg, "ci/app")).not.toContain(images[3]!.digest);
    for (const tag of ["t0", "t1", "t2", "t4"]) expect((await getManifest(reg, "ci/app", tag)).digest).toBeString();
    await reg.close();
  });

  test("a tag pushed or moved after the plan's moment but before the plan read its repository is not removed", async () => {
    const { reg, advance } = await clockedRegistry();
    for (let i = 0; i < 3; i++) {
      await pushImage(reg, "ci/app", `t${i}`, [`layer ${i}`]);
      advance(DAY);
    }
    await rules(reg, `[[rule]]\nid = "ci"\nrepositories = ["ci/**"]\nkeep_last = 1\n`);
    // The plan takes its moment, then reads the repository; meanwhile (10 and 20 ms later) two images are pushed
    // and t0 moved. The clock goes back to the plan's moment to make that interleaving happen every time.
    advance(10);
    await pushImage(reg, "ci/app", "late-1", ["late layer 1"]);
    advance(10);
    await pushImage(reg, "ci/app", "late-2", ["late layer 2"]);
    await pushImage(reg, "ci/app", "t0", ["late layer 2"]);
    advance(-20);
    const plan = await planRetention(reg);
    expect(removedTags(plan)).toEqual(["ci/app:t1"]);
    const report = await runRetention(reg, { actor: "test", plan });
    expect(report.removed[0]!.tags).toEqual(["t1"]);
    expect(await tagNames(reg, "ci/app")).toEqual(["late-1", "late-2", "t0", "t2"]);
    await reg.audit.flush();
    const deleted = await reg.db.selectFrom("audit_events").select("tag").where("event", "=", "retention.tag.deleted").execute();
    expect(deleted.map((e) => e.tag)).toEqual(["t1"]);
    await reg.close();
  });

  test("pulls are recorded in batches, GET and HEAD alike, and keep_pulled_within keeps what was pulled", async () => {
    const { reg, advance } = await clockedRegistry();
    const a = await pushImage(reg, "mirror/alpine", "3.18", ["a"]);
    await pushImage(reg, "mirror/alpine", "3.19", ["b"]);
    advance(60 * DAY);
    await getManifest(reg, "mirror/alpine", a.digest);
    expect(await reg.db.selectFrom("manifest_pulls").selectAll().execute()).toEqual([]);
    await reg.pulls.flush();
    const rows = await reg.db.selectFrom("manifest_pulls").selectAll().execute();
    expect(rows).toHaveLength(1);
    advance(10 * DAY);
    await rules(reg, `[[rule]]\nid = "mirror"\nrepositories = ["mirror/**"]\nkeep_pulled_within = "30d"\n`);
    const report = await runRetention(reg, { actor: "test" });
    expect(report.removed).toEqual([{ repository: "mirror/alpine", tags: ["3.19"], manifests: [expect.stringMatching(/^sha256:/)] }]);
    expect(await tagNames(reg, "mirror/alpine")).toEqual(["3.18"]);
    await reg.close();
  });

  test("an immutable repository keeps everything; a dry run changes nothing", async () => {
    const { reg, advance } = await clockedRegistry();
    await pushImage(reg, "prod/app", "a", ["1"]);
    await pushImage(reg, "prod/app", "b", ["2"]);
    advance(DAY);
    await applyPolicy(reg, [...defaultRules, { id: "frozen", priority: 10, effect: "deny", subjects: ["*"], actions: ["overwrite"], repositories: ["prod/**"], enabled: true, description: "" }], "test");
    await rules(reg, `[[rule]]\nid = "r"\nrepositories = ["**"]\nkeep_last = 1\n`);
    const report = await runRetention(reg, { actor: "test" });
    expect(report.skipped).toEqual([{ repository: "prod/app", reason: expect.stringContaining("frozen") }]);
    expect(await tagNames(reg, "prod/app")).toEqual(["a", "b"]);
    await rules(reg, `[[rule]]\nid = "r"\nrepositories = ["**"]\nkeep_last = 1\noverride_immutable = true\n`);
    const dry = await runRetention(reg, { actor: "test", dryRun: true });
    expect(dry.tagsRemoved).toBe(1);
    expect(await tagNames(reg, "prod/app")).toEqual(["a", "b"]);
    await reg.close();
  });

  test("gc --retention applies the rules, then sweeps the blobs only the removed images used", async () => {
    const { reg, layout, advance } = await clockedRegistry();
    const old = await pushImage(reg, "ci/app", "old", ["shared", "old only"]);
    advance(DAY);
    const fresh = await pushImage(reg, "ci/app", "new", ["shared", "new only"]);
    advance(2 * DAY);
    await rules(reg, `[[rule]]\nid = "ci"\nrepositories = ["ci/**"]\nkeep_last = 1\n`);
    const dry = await runGc(reg, { actor: "test", retention: true, dryRun: true });
    expect(dry.retentionRun).toMatchObject({ tagsRemoved: 1, manifestsRemoved: 1 });
    expect(dry.blobsRemoved).toBe(2);
    const report = await runGc(reg, { actor: "test", retention: true });
    expect(report.retentionRun).toMatchObject({ tagsRemoved: 1, manifestsRemoved: 1, skipped: [] });
    expect(report.blobsRemoved).toBe(2);
    expect((await blobState(reg, layout, old.blobs[2]!)).file).toBe(false);
    for (const digest of fresh.blobs) expect(await blobState(reg, layout, digest)).toMatchObject({ row: true, file: true });
    await reg.close();
  });
});
