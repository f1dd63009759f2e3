/**
 * @module Unit tests of the UI's logic: byte and time formatting, referrer
 * kinds, tag sorting and filtering (lib/registry/tag-order.ts: the server
 * sorts, so only a page is sent), the referrers tree, pull commands and
 * routes.
 */
import { describe, expect, test } from "bun:test";
import { formatAge, formatBytes, formatDate, manifestKind, percent, referrerKind, shortDigest } from "../../server/ui/format.ts";
import { pullCommands } from "../../server/ui/pull.ts";
import { href, parseRoute } from "../../server/ui/route.ts";
import { filterTags, sortTags } from "../../lib/registry/tag-order.ts";
import { countKinds, flattenReferrers, type ReferrerTreeNode } from "../../server/ui/tree.ts";

describe("format", () => {
  test("bytes in binary units, one decimal below 10", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(30 * 1024 * 1024)).toBe("30 MiB");
    expect(formatBytes(5 * 1024 ** 4)).toBe("5.0 TiB");
    expect(formatBytes(-1)).toBe("–");
    expect(formatBytes(Number.NaN)).toBe("–");
  });

  test("ages read naturally and fall back to the date past a month", () => {
    const now = Date.UTC(2026, 11, 6, 12, 0, 0);
    expect(formatAge(null, now)).toBe("never");
    expect(formatAge(now - 10_000, now)).toBe("just now");
    expect(formatAge(now - 5 * 60_000, now)).toBe("5 min ago");
    expect(formatAge(now - 3 * 3_600_000, now)).toBe("3 h ago");
    expect(formatAge(now - 86_400_000, now)).toBe("1 day ago");
    expect(formatAge(now - 40 * 86_400_000, now)).toBe(formatDate(now - 40 * 86_400_000));
    expect(formatDate(now)).toBe("2026-12-06 12:00 UTC");
  });

  test("digests shorten to 12 hex digits; kinds are told apart", () => {
    expect(shortDigest(`sha256:${"ab".repeat(32)}`)).toBe("sha256:abababababab");
    expect(referrerKind("application/vnd.dev.cosign.artifact.sig.v1+json")).toBe("signature");
    expect(referrerKind("application/vnd.cncf.notary.signature")).toBe("signature");
    expect(referrerKind("application/spdx+json")).toBe("sbom");
    expect(referrerKind("application/vnd.cyclonedx+json")).toBe("sbom");
    expect(referrerKind("application/vnd.in-toto+json")).toBe("attestation");
    expect(referrerKind("application/vnd.cncf.helm.config.v1+json")).toBe("artifact");
    expect(referrerKind(undefined, "application/vnd.oci.image.manifest.v1+json")).toBe("artifact");
    expect(manifestKind("application/vnd.oci.image.index.v1+json", null)).toBe("index");
    expect(manifestKind("application/vnd.docker.distribution.manifest.list.v2+json", null)).toBe("index");
    expect(manifestKind("application/vnd.oci.image.manifest.v1+json", null)).toBe("image");
    expect(manifestKind("application/vnd.oci.image.manifest.v1+json", "application/spdx+json")).toBe("artifact");
    expect(percent(1, 4)).toBe(25);
    expect(percent(5, 0)).toBe(0);
    expect(percent(9, 4)).toBe(100);
  });
});

describe("sort", () => {
  const tags = [
    { name: "v10", pushedAt: 3 },
    { name: "v2", pushedAt: 1 },
    { name: "latest", pushedAt: 3 },
    { name: "V1", pushedAt: 2 },
  ];

  test("by push time, newest first, ties by name; by name with numbers in order", () => {
    expect(sortTags(tags, "pushed").map((t) => t.name)).toEqual(["latest", "v10", "V1", "v2"]);
    expect(sortTags(tags, "name").map((t) => t.name)).toEqual(["latest", "V1", "v2", "v10"]);
    expect(tags[0]!.name).toBe("v10");
  });

  test("filter is a case-insensitive substring", () => {
    expect(filterTags(tags, " v1").map((t) => t.name)).toEqual(["v10", "V1"]);
    expect(filterTags(tags, "")).toHaveLength(4);
  });
});

describe("referrers tree", () => {
  const node = (digest: string, artifactType: string, children: ReferrerTreeNode[] = []): ReferrerTreeNode => ({
    digest,
    artifactType,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    size: 1,
    children,
  });

  test("depth-first, children under their parent, last child marked, kinds counted", () => {
    const tree = [node("sha256:a", "application/vnd.dev.cosign.artifact.sig.v1+json", [node("sha256:c", "application/vnd.in-toto+json")]), node("sha256:b", "application/spdx+json")];
    const rows = flattenReferrers(tree);
    expect(rows.map((r) => [r.node.digest, r.depth, r.kind, r.last])).toEqual([
      ["sha256:a", 0, "signature", false],
      ["sha256:c", 1, "attestation", true],
      ["sha256:b", 0, "sbom", true],
    ]);
    expect(countKinds(tree)).toEqual({ signature: 1, sbom: 1, attestation: 1, artifact: 0 });
  });

  test("a digest met twice is not walked again", () => {
    const loop = node("sha256:a", "x");
    loop.children.push(loop);
    expect(flattenReferrers([loop]).map((r) => r.depth)).toEqual([0, 1]);
  });
});

describe("pull commands and routes", () => {
  test("by tag and by digest", () => {
    expect(pullCommands("reg.example:5000", "team/app", "v1", "sha256:abc")).toEqual({
      byTag: "docker pull reg.example:5000/team/app:v1",
      byDigest: "docker pull reg.example:5000/team/app@sha256:abc",
    });
    expect(pullCommands("h", "a", null, "sha256:abc").byTag).toBeNull();
  });

  test("routes round-trip through the fragment, names with slashes included", () => {
    const link = href("repo", { name: "team/app" });
    expect(link).toBe("#/repo?name=team%2Fapp");
    const route = parseRoute(link);
    expect(route.page).toBe("repo");
    expect(route.params.get("name")).toBe("team/app");
    expect(parseRoute("").page).toBe("repos");
    expect(parseRoute("#/").page).toBe("repos");
  });
});
