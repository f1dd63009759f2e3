/**
 * @module Rule evaluation, one repository state at a time (pure: no
 * database): keep wins, globs, age and count boundaries, counting per
 * repository, indexes and their children, referrers, allow_empty and
 * immutability. Every decision names its rules.
 */
import { describe, expect, test } from "bun:test";
import type { ManifestRow, TagRow } from "../../../lib/db/queries/retention.ts";
import { compileRetention, coveringRules } from "../../../lib/retention/compile.ts";
import { evaluateRepository, type RepositoryContents } from "../../../lib/retention/evaluate.ts";
import { parseRetentionText } from "../../../lib/retention/rules-file.ts";

const DAY = 86_400_000;
const NOW = 1_000 * DAY;
const time = { now: NOW, recentUseSince: NOW - 65_000 };

/** A repository state: tags `name → [manifest id, pushed days ago]` (0: the millisecond before the plan's moment); manifests by id. */
function repo(tags: Record<string, [number, number]>, manifests: Partial<ManifestRow>[] = [], edges: [number, number][] = []): RepositoryContents {
  const ids = new Set([...Object.values(tags).map(([id]) => id), ...manifests.map((m) => m.id!)]);
  const given = new Map(manifests.map((m) => [m.id!, m]));
  return {
    tags: Object.entries(tags).map(([name, [id, ago]]): TagRow => ({ name, manifest_id: id, updated_at: ago === 0 ? NOW - 1 : NOW - ago * DAY })),
    manifests: [...ids].map((id) => ({ id, digest: `sha256:${String(id).padStart(64, "0")}`, subject: null, last_seen_at: NOW - 400 * DAY, pulled_at: null, ...given.get(id) })),
    edges: edges.map(([manifest_id, child_id]) => ({ manifest_id, child_id })),
  };
}

function evaluate(rulesToml: string, contents: RepositoryContents, name = "ci/app", immutable: string[] = []) {
  const rules = compileRetention(parseRetentionText(rulesToml));
  return evaluateRepository(1, name, contents, coveringRules(rules, name), time, immutable);
}

const kept = (plan: ReturnType<typeof evaluate>) => plan.tags.filter((t) => t.keep).map((t) => t.tag).sort();
const removed = (plan: ReturnType<typeof evaluate>) => plan.tags.filter((t) => !t.keep).map((t) => t.tag).sort();
const gone = (plan: ReturnType<typeof evaluate>) => plan.manifests.flat().map((m) => m.id).sort((a, b) => a - b);

describe("tags", () => {
  test("keep_last counts the newest by push time, exactly N; ties broken by name", () => {
    const plan = evaluate(`[[rule]]\nid = "ci"\nrepositories = ["ci/**"]\nkeep_last = 2\n`, repo({ a: [1, 1], b: [2, 2], c: [3, 3], d: [4, 3] }));
    expect(kept(plan)).toEqual(["a", "b"]);
    expect(removed(plan)).toEqual(["c", "d"]);
    const c = plan.tags.find((t) => t.tag === "c")!;
    expect(c.rules).toEqual(["ci"]);
    expect(c.reason).toContain("#3 newest");
    expect(plan.tags.find((t) => t.tag === "b")!.reason).toBe("ci: keep_last 2 (#2)");
  });

  test("keep wins: a tag any covering rule keeps stays; globs match tag names", () => {
    const rules = `[[rule]]\nid = "last"\nrepositories = ["ci/*"]\nkeep_last = 1\n\n[[rule]]\nid = "releases"\nrepositories = ["ci/**"]\nkeep_tags = ["v*", "latest", "release-*"]\n`;
    const plan = evaluate(rules, repo({ "pr-9": [1, 0], "v1.2": [2, 50], latest: [3, 60], "release-7": [4, 70], "pr-8": [5, 1], "xv1": [6, 80] }));
    expect(kept(plan)).toEqual(["latest", "pr-9", "release-7", "v1.2"]);
    expect(removed(plan)).toEqual(["pr-8", "xv1"]);
    expect(plan.tags.find((t) => t.tag === "v1.2")!.rules).toEqual(["releases"]);
    expect(plan.tags.find((t) => t.tag === "pr-8")!.rules).toEqual(["last", "releases"]);
  });

  test("keep_pushed_within: the boundary itself is within", () => {
    const plan = evaluate(`[[rule]]\nid = "r"\nrepositories = ["**"]\nkeep_pushed_within = "30d"\n`, repo({ edge: [1, 30], old: [2, 30.001], fresh: [3, 0] }));
    expect(kept(plan)).toEqual(["edge", "fresh"]);
  });

  test("keep_pulled_within: a recorded pull, or a use since the pull records lag, counts; never pulled does not", () => {
    const plan = evaluate(
      `[[rule]]\nid = "mirror"\nrepositories = ["**"]\nkeep_pulled_within = "30d"\n`,
      repo({ pulled: [1, 90], stale: [2, 90], never: [3, 90], used: [4, 90] }, [
        { id: 1, pulled_at: NOW - 29 * DAY },
        { id: 2, pulled_at: NOW - 31 * DAY },
        { id: 4, last_seen_at: NOW - 10_000 },
      ]),
    );
    expect(kept(plan)).toEqual(["pulled", "used"]);
    expect(plan.tags.find((t) => t.tag === "never")!.reason).toContain("never pulled");
  });

  test("repositories no rule covers get no plan; a rule without keep selectors does not touch tags", () => {
    const rules = compileRetention(parseRetentionText(`[[rule]]\nid = "ci"\nrepositories = ["ci/*"]\nkeep_last = 1\n`));
    expect(coveringRules(rules, "ci/a/b")).toEqual([]);
    expect(coveringRules(rules, "other")).toEqual([]);
    const plan = evaluate(`[[rule]]\nid = "u"\nrepositories = ["**"]\nuntagged_after = "7d"\n`, repo({ a: [1, 100], b: [2, 200] }));
    expect(removed(plan)).toEqual([]);
    expect(gone(plan)).toEqual([]);
  });

  test("a rule set that would remove every tag skips the repository unless a rule says allow_empty", () => {
    const state = repo({ a: [1, 100], b: [2, 200] });
    const skipped = evaluate(`[[rule]]\nid = "r"\nrepositories = ["**"]\nkeep_pushed_within = "7d"\n`, state);
    expect(skipped.skipped?.reason).toContain("would remove every tag (2)");
    expect(skipped.tags).toEqual([]);
    const allowed = evaluate(`[[rule]]\nid = "r"\nrepositories = ["**"]\nkeep_last = 0\nallow_empty = true\n`, state);
    expect(allowed.skipped).toBeNull();
    expect(removed(allowed)).toEqual(["a", "b"]);
    expect(gone(allowed)).toEqual([1, 2]);
  });

  test("an immutable repository is never touched unless a covering rule says override_immutable", () => {
    const state = repo({ a: [1, 0], b: [2, 200] });
    const plan = evaluate(`[[rule]]\nid = "r"\nrepositories = ["**"]\nkeep_last = 1\n`, state, "ci/app", ["immutable-prod"]);
    expect(plan.skipped?.rules).toEqual(["immutable-prod"]);
    const over = evaluate(`[[rule]]\nid = "r"\nrepositories = ["**"]\nkeep_last = 1\noverride_immutable = true\n`, state, "ci/app", ["immutable-prod"]);
    expect(removed(over)).toEqual(["b"]);
  });
});

describe("manifests", () => {
  test("a manifest goes with its last tag, not while another kept tag points at it", () => {
    const plan = evaluate(`[[rule]]\nid = "r"\nrepositories = ["**"]\nkeep_last = 1\n`, repo({ new: [1, 0], "also-new": [1, 5], old: [2, 9] }));
    expect(removed(plan)).toEqual(["also-new", "old"]);
    expect(gone(plan)).toEqual([2]);
    expect(plan.manifests.flat()[0]!.reason).toBe("its last tag went (old)");
  });

  test("a kept index keeps its children; a removed index takes its untagged children, index first", () => {
    // 10 = kept index over 11, 12; 20 = removed index over 21, 22 and 12 (shared).
    const plan = evaluate(
      `[[rule]]\nid = "r"\nrepositories = ["**"]\nkeep_last = 1\n`,
      repo({ keep: [10, 0], drop: [20, 5] }, [{ id: 11 }, { id: 12 }, { id: 21 }, { id: 22 }], [[10, 11], [10, 12], [20, 21], [20, 22], [20, 12]]),
    );
    expect(gone(plan)).toEqual([20, 21, 22]);
    expect(plan.manifests).toHaveLength(1);
    expect(plan.manifests[0]![0]!.id).toBe(20);
    expect(plan.manifests[0]!.find((m) => m.id === 21)!.reason).toContain("listed only by index");
    expect(plan.manifests[0]!.find((m) => m.id === 21)!.rules).toEqual(["r"]);
  });

  test("referrers go with their subject and never keep it; a tagged referrer's tag follows its subject", () => {
    const subject = (id: number) => `sha256:${String(id).padStart(64, "0")}`;
    const plan = evaluate(
      `[[rule]]\nid = "r"\nrepositories = ["**"]\nkeep_last = 1\n`,
      repo({ keep: [1, 0], drop: [2, 5], "sig-drop": [30, 0], "sig-keep": [40, 0] }, [
        { id: 30, subject: subject(2) },
        { id: 31, subject: subject(2) },
        { id: 32, subject: subject(31) },
        { id: 40, subject: subject(1) },
        { id: 41, subject: subject(1) },
      ]),
    );
    // The referrer tags are not counted by keep_last: "keep" is the newest tag.
    expect(kept(plan)).toEqual(["keep", "sig-keep"]);
    expect(removed(plan)).toEqual(["drop", "sig-drop"]);
    expect(gone(plan)).toEqual([2, 30, 31, 32]);
    expect(plan.manifests.flat().find((m) => m.id === 32)!.reason).toContain("referrer of");
  });

  test("untagged_after: untagged manifests unused longer go, the most lenient covering rule decides; children follow their index", () => {
    const rules = `[[rule]]\nid = "short"\nrepositories = ["**"]\nuntagged_after = "7d"\n\n[[rule]]\nid = "long"\nrepositories = ["ci/**"]\nuntagged_after = "30d"\n`;
    const plan = evaluate(
      rules,
      repo({ t: [1, 0] }, [
        { id: 2, last_seen_at: NOW - 31 * DAY },
        { id: 3, last_seen_at: NOW - 10 * DAY },
        { id: 4, last_seen_at: NOW - 40 * DAY, pulled_at: NOW - 1 * DAY },
        { id: 5, last_seen_at: NOW - 40 * DAY },
        { id: 6, last_seen_at: NOW - 40 * DAY },
      ], [[1, 6]]),
    );
    expect(removed(plan)).toEqual([]);
    expect(gone(plan)).toEqual([2, 5]);
    expect(plan.manifests.flat().find((m) => m.id === 2)!.rules).toEqual(["long"]);
  });
});

describe("a state read while clients push", () => {
  test("a tag or index edge naming a manifest not read yet is left alone, and the child it lists is not doomed by it", () => {
    const state = repo({ old: [1, 50], keep: [2, 0] }, [{ id: 3, last_seen_at: NOW - 1000 }]);
    state.tags.push({ name: "brand-new", manifest_id: 99, updated_at: NOW });
    state.edges.push({ manifest_id: 98, child_id: 3 });
    const plan = evaluate(`[[rule]]\nid = "r"\nrepositories = ["**"]\nkeep_last = 1\nuntagged_after = "7d"\n`, state);
    expect(plan.tags.map((t) => t.tag).sort()).toEqual(["keep", "old"]);
    expect(removed(plan)).toEqual(["old"]);
    expect(gone(plan)).toEqual([1]);
  });

  test("what was pushed, moved or used at or after the plan's moment (read later) is kept and does not count for keep_last", () => {
    const subject = (id: number) => `sha256:${String(id).padStart(64, "0")}`;
    // As of the plan's moment: a (1 day ago) and b (2) are the newest two, c (3) and d (4) go.
    const state = repo({ a: [1, 1], b: [2, 2], c: [3, 3], d: [4, 4] }, [
      { id: 5, last_seen_at: NOW + 40 },
      { id: 6, last_seen_at: NOW + 50 },
      { id: 7, last_seen_at: NOW + 60, subject: subject(4) },
    ]);
    // Then, before the plan read the repository: three new tags (one in the plan's own millisecond), one old tag
    // moved onto c's image, d's image pushed again by digest, and a referrer of it pushed.
    state.tags.push(
      { name: "new-1", manifest_id: 5, updated_at: NOW },
      { name: "new-2", manifest_id: 5, updated_at: NOW + 20 },
      { name: "new-3", manifest_id: 6, updated_at: NOW + 30 },
    );
    state.tags.find((t) => t.name === "b")!.updated_at = NOW + 10;
    state.tags.find((t) => t.name === "b")!.manifest_id = 3;
    state.manifests.find((m) => m.id === 4)!.last_seen_at = NOW + 70;
    const plan = evaluate(`[[rule]]\nid = "r"\nrepositories = ["**"]\nkeep_last = 2\nuntagged_after = "1d"\n`, state);
    // Ranked without them, a is #1 and c #2 (b is no longer at its place of then): only d goes, and its image stays.
    expect(kept(plan)).toEqual(["a", "b", "c", "new-1", "new-2", "new-3"]);
    expect(removed(plan)).toEqual(["d"]);
    expect(plan.tags.find((t) => t.tag === "new-1")!.reason).toBe("pushed or moved since the plan began");
    expect(plan.tags.find((t) => t.tag === "c")!.reason).toBe("r: keep_last 2 (#2)");
    // 2, untagged by b's move and unused for 400 days, goes as untagged (nothing was pushed to it or used since);
    // 4 (pushed again since) and its new referrer 7 stay.
    expect(gone(plan)).toEqual([2]);
    // A repository the rules would empty as of the plan's moment is still skipped when a tag came since.
    const emptying = repo({ x: [1, 10] });
    emptying.tags.push({ name: "late", manifest_id: 1, updated_at: NOW + 1 });
    const skipped = evaluate(`[[rule]]\nid = "r"\nrepositories = ["**"]\nkeep_tags = ["v*"]\n`, emptying);
    expect(skipped.skipped?.reason).toContain("would remove every tag (1)");
  });
});
