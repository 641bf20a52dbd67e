/**
 * Planning helpers shared by every execution mode: the RDDs of a lineage, the node table a task
 * carries, and the shuffles a stage needs before it can run. Pure: no I/O.
 */
import { blockId, type NodeSpec, type ShuffleSpec } from './lineage.js';
import type { RDD } from './rdd.js';

/** The RDDs of `root`'s lineage, parents before children (iterative: lineages can be deep). */
export function lineageRdds(root: RDD<any>): RDD<any>[] {
  const out: RDD<any>[] = [];
  const seen = new Set<RDD<any>>();
  const stack: Array<{ rdd: RDD<any>; expanded: boolean }> = [{ rdd: root, expanded: false }];
  while (stack.length > 0) {
    const top = stack.pop()!;
    if (top.expanded) {
      out.push(top.rdd);
      continue;
    }
    if (seen.has(top.rdd)) continue;
    seen.add(top.rdd);
    stack.push({ rdd: top.rdd, expanded: true });
    const parents = top.rdd.lineageParents();
    for (let i = parents.length - 1; i >= 0; i--)
      if (!seen.has(parents[i]!)) stack.push({ rdd: parents[i]!, expanded: false });
  }
  return out;
}

/** Computes deferred parameters (range bounds, zipWithIndex offsets) along the lineage, parents first. */
export async function prepareLineage(root: RDD<any>): Promise<void> {
  for (const r of lineageRdds(root)) await r.prepareNode();
}

/** The node table of `root`'s lineage, keyed by content id (a node persisted by any RDD object is persisted). */
export function buildNodes(root: RDD<any>): Record<string, NodeSpec> {
  const nodes: Record<string, NodeSpec> = {};
  for (const r of lineageRdds(root)) {
    const spec = r.nodeSpec();
    const prev = nodes[r.contentId];
    nodes[r.contentId] = prev?.persist && !spec.persist ? { ...spec, persist: true } : spec;
  }
  return nodes;
}

/**
 * The shuffles the stage computing `rootId` reads directly: found through narrow parents,
 * not below a persisted node whose partitions are all stored.
 */
export function stageShuffles(
  nodes: Readonly<Record<string, NodeSpec>>,
  rootId: string,
  fullyStored: (nodeId: string, numPartitions: number) => boolean,
): ShuffleSpec[] {
  const out = new Map<string, ShuffleSpec>();
  const seen = new Set<string>();
  const stack = [rootId];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const node = nodes[id];
    if (!node) continue;
    if (node.persist && fullyStored(id, node.n)) continue;
    for (const s of node.shuffles) out.set(s.id, s);
    stack.push(...node.parents);
  }
  return [...out.values()];
}

/**
 * The stored blocks partition `partition` of the stage computing `rootId` reads: through its
 * narrow parents (a coalesce's groups, a union's offsets, a cartesian product's two sides), the
 * blocks of persisted nodes that `stored` says are there; nothing below them. A hint for where
 * to run the task, so a lineage this does not follow exactly costs only locality.
 */
export function blocksRead(
  nodes: Readonly<Record<string, NodeSpec>>,
  rootId: string,
  partition: number,
  stored: (blockId: string) => boolean,
): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const stack: Array<[string, number]> = [[rootId, partition]];
  while (stack.length > 0) {
    const [id, p] = stack.pop()!;
    const key = `${id}/${p}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const node = nodes[id];
    if (!node) continue;
    const block = blockId(id, p);
    if (node.persist && stored(block)) {
      out.push(block);
      continue;
    }
    const parents = node.parents;
    if (node.op === 'coalesce') {
      for (const pp of node.p.groups[p] ?? []) stack.push([parents[0]!, pp]);
    } else if (node.op === 'union') {
      let local = p;
      for (let i = 0; i < node.p.counts.length; i++) {
        const c = node.p.counts[i]!;
        if (local < c) {
          stack.push([parents[i]!, local]);
          break;
        }
        local -= c;
      }
    } else if (node.op === 'cartesian') {
      stack.push([parents[0]!, Math.floor(p / node.p.nb)], [parents[1]!, p % node.p.nb]);
    } else for (const parent of parents) stack.push([parent, p]);
  }
  return out;
}
