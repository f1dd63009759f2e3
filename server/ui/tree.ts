/**
 * @module The referrers tree flattened for display: each node with its
 * depth, kind and the path of parents, so nested signatures and
 * attestations show under what they sign; plus counts per kind.
 */
import { referrerKind, type ReferrerKind } from "./format.ts";

/** A referrer as /v1/browse/manifest sends it. */
export interface ReferrerTreeNode {
  digest: string;
  mediaType: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  children: ReferrerTreeNode[];
}

/** One row of the flattened tree. */
export interface ReferrerRow {
  node: ReferrerTreeNode;
  depth: number;
  kind: ReferrerKind;
  /** Whether it is the last child of its parent (for drawing the tree). */
  last: boolean;
}

/** Depth-first rows of the tree, children after their parent, in the given order. A digest seen twice (a cycle) is not descended into again. */
export function flattenReferrers(nodes: readonly ReferrerTreeNode[]): ReferrerRow[] {
  const rows: ReferrerRow[] = [];
  const seen = new Set<string>();
  const walk = (list: readonly ReferrerTreeNode[], depth: number) => {
    list.forEach((node, i) => {
      rows.push({ node, depth, kind: referrerKind(node.artifactType, node.mediaType), last: i === list.length - 1 });
      if (seen.has(node.digest)) return;
      seen.add(node.digest);
      walk(node.children, depth + 1);
    });
  };
  walk(nodes, 0);
  return rows;
}

/** How many referrers of each kind the tree holds, at any depth. */
export function countKinds(nodes: readonly ReferrerTreeNode[]): Record<ReferrerKind, number> {
  const counts: Record<ReferrerKind, number> = { signature: 0, sbom: 0, attestation: 0, artifact: 0 };
  for (const row of flattenReferrers(nodes)) counts[row.kind]++;
  return counts;
}
