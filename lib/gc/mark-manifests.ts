/**
 * @module Marking for `--untagged`: which manifests nothing keeps.
 *
 * Roots are tagged manifests and manifests pushed or read within the grace
 * period. From a kept manifest, GC keeps the children of an index, the
 * referrers whose `subject` it is (signatures, SBOMs, attestations), and
 * the subject of a kept referrer (a tagged signature keeps its image).
 * Whatever is not reached goes: so the referrers of a removed manifest go
 * with it, unless something else keeps them.
 *
 * The doomed manifests are split into groups connected by index and
 * subject edges; each group is removed in one transaction, parents first,
 * after re-checking that nothing outside the group has come to keep it.
 */
import { manifestGraph, type ManifestNode } from "../db/queries/gc-manifests.ts";
import type { Kysely } from "kysely";
import type { DB } from "../db/schema.ts";

/** Manifests to remove together, in an order that deletes every index before its children. */
export interface DoomedGroup {
  repositoryId: number;
  ids: number[];
}

/** The groups of manifests nothing keeps, given that manifests seen since `cutoff` are kept; and how many were weighed. */
export async function markUntagged(db: Kysely<DB>, cutoff: number): Promise<{ groups: DoomedGroup[]; weighed: number }> {
  const { nodes, tagged, edges } = await manifestGraph(db);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const key = (repositoryId: number, digest: string) => `${repositoryId} ${digest}`;
  const byDigest = new Map(nodes.map((n) => [key(n.repository_id, n.digest), n.id]));
  const children = groupBy(edges, (e) => e.manifest_id, (e) => e.child_id);
  const referrers = groupBy(
    nodes.filter((n) => n.subject !== null),
    (n) => key(n.repository_id, n.subject!),
    (n) => n.id,
  );
  const subjectOf = (n: ManifestNode) => (n.subject === null ? undefined : byDigest.get(key(n.repository_id, n.subject)));

  const kept = new Set<number>();
  const queue = nodes.filter((n) => tagged.has(n.id) || n.last_seen_at >= cutoff).map((n) => n.id);
  while (queue.length > 0) {
    const id = queue.pop()!;
    if (kept.has(id)) continue;
    kept.add(id);
    const node = byId.get(id)!;
    const next = [...(children.get(id) ?? []), ...(referrers.get(key(node.repository_id, node.digest)) ?? []), subjectOf(node)];
    for (const n of next) if (n !== undefined && !kept.has(n)) queue.push(n);
  }

  const doomed = nodes.filter((n) => !kept.has(n.id)).map((n) => n.id);
  const groups = doomedGroups(doomed, kept, edges, (id) => subjectOf(byId.get(id)!), children).map((ids) => ({ repositoryId: byId.get(ids[0]!)!.repository_id, ids }));
  return { groups, weighed: nodes.length };
}

/**
 * The manifests `doomed` (none of them in `kept`) in the groups that must go
 * together: joined by index edges and by a referrer's subject, each group
 * ordered parents first (see `parentsFirst`), groups in the order of their
 * first member. Used by GC and by retention.
 */
export function doomedGroups(
  doomed: readonly number[],
  kept: ReadonlySet<number>,
  edges: readonly { manifest_id: number; child_id: number }[],
  subjectOf: (id: number) => number | undefined,
  children: Map<number, number[]>,
): number[][] {
  const sets = new UnionFind<number>();
  for (const id of doomed) {
    sets.add(id);
    const subject = subjectOf(id);
    if (subject !== undefined && !kept.has(subject)) sets.union(id, subject);
  }
  for (const e of edges) if (!kept.has(e.manifest_id) && !kept.has(e.child_id)) sets.union(e.manifest_id, e.child_id);
  const members = groupBy(doomed, (id) => sets.find(id), (id) => id);
  return [...members.values()].map((ids) => parentsFirst(ids, children));
}

/** `ids` ordered so that an index comes before the children it lists (Kahn's algorithm). */
function parentsFirst(ids: number[], children: Map<number, number[]>): number[] {
  const inGroup = new Set(ids);
  const parents = new Map(ids.map((id) => [id, 0]));
  for (const id of ids) for (const child of children.get(id) ?? []) if (inGroup.has(child)) parents.set(child, parents.get(child)! + 1);
  const ready = ids.filter((id) => parents.get(id) === 0);
  const order: number[] = [];
  while (ready.length > 0) {
    const id = ready.pop()!;
    order.push(id);
    for (const child of children.get(id) ?? []) {
      if (!inGroup.has(child)) continue;
      parents.set(child, parents.get(child)! - 1);
      if (parents.get(child) === 0) ready.push(child);
    }
  }
  // Index edges follow digests, which cannot form a cycle; should one appear, keep the rest in any order.
  const placed = new Set(order);
  return [...order, ...ids.filter((id) => !placed.has(id))];
}

/** `items` grouped by `keyOf`, each group holding `valueOf` of its items. */
export function groupBy<T, K, V>(items: readonly T[], keyOf: (item: T) => K, valueOf: (item: T) => V): Map<K, V[]> {
  const map = new Map<K, V[]>();
  for (const item of items) {
    const k = keyOf(item);
    const list = map.get(k);
    if (list) list.push(valueOf(item));
    else map.set(k, [valueOf(item)]);
  }
  return map;
}

/** Disjoint sets with path halving. */
class UnionFind<T> {
  private readonly parent = new Map<T, T>();
  add(x: T): void {
    if (!this.parent.has(x)) this.parent.set(x, x);
  }
  find(x: T): T {
    let p = this.parent.get(x)!;
    while (p !== x) {
      const grand = this.parent.get(p)!;
      this.parent.set(x, grand);
      x = p;
      p = grand;
    }
    return x;
  }
  union(a: T, b: T): void {
    this.add(a);
    this.add(b);
    this.parent.set(this.find(a), this.find(b));
  }
}
