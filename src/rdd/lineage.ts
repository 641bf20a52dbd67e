/**
 * The wire form of a lineage: plain data that a task carries and the runner interprets.
 * Every RDD is one {@link NodeSpec}, keyed by its content id (a hash of the node and, through the
 * parents' ids, of its whole lineage). A task names the node to compute, the partition, and what
 * to do with the output (return a result, or write shuffle buckets).
 */
import { parseBlockId, rddBlockId } from '../protocol/block-ids.js';
import { createHash } from 'node:crypto';
import { encode } from '../protocol/codec.js';
import type { FragmentTask } from '../sql/exec/fragment.js';
import type { FileSplit } from './file-input.js';
import type { Callable } from './functions.js';

/** How a shuffle assigns keys to reduce partitions. */
export type PartitionerSpec =
  | { readonly kind: 'hash'; readonly n: number }
  | {
      readonly kind: 'range';
      readonly n: number;
      readonly ascending: boolean;
      readonly keyfunc?: Callable;
      /** Upper bounds of partitions 0..n-2, computed by sampling when the action runs. */
      readonly bounds?: readonly unknown[];
    }
  | { readonly kind: 'fn'; readonly n: number; readonly fn: Callable }
  /** The key is the partition number itself (repartition's round-robin keys). */
  | { readonly kind: 'direct'; readonly n: number };

/** Spark's Aggregator: how values of one key become one combined value. */
export interface AggregatorSpec {
  /** value → combiner; absent means identity. */
  readonly create?: Callable;
  /** (combiner, value) → combiner */
  readonly merge: Callable;
  /** (combiner, combiner) → combiner */
  readonly combine: Callable;
}

/** A shuffle dependency: the map side is `parent`, partitioned by `partitioner`. */
export interface ShuffleSpec {
  readonly id: string;
  readonly parent: string;
  readonly numMaps: number;
  readonly partitioner: PartitionerSpec;
  readonly agg?: AggregatorSpec;
  /** Combine values by key on the map side (requires `agg`). */
  readonly mapSideCombine: boolean;
  /**
   * The records are whole elements, not `[key, value]` pairs (sortBy): the partitioner (and the
   * reader's sort) takes the key from the element with its keyfunc, so no key travels.
   */
  readonly elements?: boolean;
}

/** The operations whose nodes are fused into one loop (one element in, zero or more out). */
export type ElementwiseOp =
  'map' | 'filter' | 'flatMap' | 'mapValues' | 'flatMapValues' | 'keyBy' | 'keys' | 'values' | 'identity';

/** The parameters of an elementwise node: its function (none for keys, values, identity). */
export interface ElementwiseParams {
  readonly f?: Callable;
}

/** The parameters each lineage operation carries (`NodeSpec.p`), by operation. */
export interface NodeParams extends Record<ElementwiseOp, ElementwiseParams> {
  readonly empty: Readonly<Record<string, never>>;
  /** Client-hosted data: `inline` holds every partition's msgpack when small, else the slices are fetched by `dataId`. */
  readonly parallelize: { readonly dataId: string; readonly inline?: readonly (Uint8Array | null)[] };
  /** `count` numbers from `start` by `step`, cut evenly into the node's partitions. */
  readonly range: { readonly start: number; readonly step: number; readonly count: number };
  readonly textFile: { readonly splits: readonly FileSplit[] };
  /** Partition i reads the files of `groups[i]` whole (as bytes when `binary`). */
  readonly wholeFiles: { readonly groups: readonly (readonly string[])[]; readonly binary: boolean };
  readonly binaryRecords: { readonly splits: readonly FileSplit[]; readonly recordLength: number };
  /** A reliable checkpoint: partition i is the file `part-0000i` of `dir`. */
  readonly checkpoint: { readonly dir: string };
  /** A partition operation; `withIndex` passes the partition number first. */
  readonly mapPartitions: { readonly f: Callable; readonly withIndex?: boolean };
  /** The partition counts of the parents, in order. */
  readonly union: { readonly counts: readonly number[] };
  /** Partition i reads the parent's partitions `groups[i]`. */
  readonly coalesce: { readonly groups: readonly (readonly number[])[] };
  /** The right parent's partition count. */
  readonly cartesian: { readonly nb: number };
  readonly zip: Readonly<Record<string, never>>;
  /** The reduce side of `shuffles[0]`; sorted by key (or by `keyfunc` of the key) when `sort` is set. */
  readonly shuffled: { readonly sort?: { readonly ascending: boolean; readonly keyfunc?: Callable } };
  /** Each input is a narrow parent's index or a shuffle's index, in the order the groups list them. */
  readonly cogroup: { readonly inputs: readonly CogroupInput[] };
  /** A SQL stage: its fragment, run by the columnar engine. */
  readonly sql: { readonly task: FragmentTask };
}

/** One input of a cogroup node: a narrow parent (`parents[narrow]`) or a shuffle (`shuffles[shuffle]`). */
export interface CogroupInput {
  readonly narrow?: number;
  readonly shuffle?: number;
}

/** A lineage operation: selects the runner's implementation and the shape of its parameters. */
export type NodeOp = keyof NodeParams;

/** What every node has, whatever its operation. */
interface NodeBase {
  /** Number of partitions. */
  readonly n: number;
  /** Content ids of the parents reached through narrow dependencies, in order. */
  readonly parents: readonly string[];
  /** Shuffle dependencies (wide), in order. */
  readonly shuffles: readonly ShuffleSpec[];
  /** Store computed partitions as blocks (the RDD is persisted). */
  readonly persist?: boolean;
}

/** A node of operation `K`: `p` holds that operation's parameters. */
export type NodeOf<K extends NodeOp> = NodeBase & { readonly op: K; readonly p: NodeParams[K] };

/**
 * One RDD of a lineage, a union keyed by `op`: switching on `op` gives `p` its operation's type.
 * The wire form is the plain object `{ op, n, parents, shuffles, p, persist? }`.
 */
export type NodeSpec = { [K in NodeOp]: NodeOf<K> }[NodeOp];

/** What a task does with the partition it computes. */
export type TaskOutputSpec =
  | { readonly kind: 'result'; readonly fn: Callable }
  | { readonly kind: 'shuffle'; readonly shuffle: ShuffleSpec };

/** A task: plain data, encoded to msgpack to travel. */
export interface TaskDesc {
  readonly stageId: number;
  readonly attempt: number;
  readonly nodes: Readonly<Record<string, NodeSpec>>;
  /** The node whose partition is computed. */
  readonly root: string;
  readonly partition: number;
  readonly output: TaskOutputSpec;
  /** Where each shuffle's map outputs are (partition server endpoint per map index), when run on a cluster. */
  readonly locations?: Readonly<Record<string, readonly string[]>>;
  /** Where persisted blocks of the lineage are stored (block id → partition server endpoint), on a cluster. */
  readonly blocks?: Readonly<Record<string, string>>;
  /** The client's stage id of each shuffle's map stage (for progress of jobs posted by workers). */
  readonly stageIds?: Readonly<Record<string, number>>;
  /**
   * The first task of its stage granted by its source: it posts the map jobs its stage is missing
   * at once; the stage's other tasks wait for those records (and post them only after a grace).
   */
  readonly poster?: boolean;
}

/**
 * Whether a task computes in JavaScript for all of its life: no node of its lineage is a SQL
 * stage (whose DuckDB fragment also waits for files and peers). The task pool limits how many
 * such tasks run at once (a worker's `cpus`).
 */
export function isCpuBound(desc: TaskDesc): boolean {
  for (const id in desc.nodes) if (desc.nodes[id]!.op === 'sql') return false;
  return true;
}

/** A copy of `v` without the call sites of its function envelopes: where code was written is not content. */
function withoutCallSites(v: unknown): unknown {
  if (typeof v !== 'object' || v === null || ArrayBuffer.isView(v)) return v;
  if (Array.isArray(v)) return v.map(withoutCallSites);
  if (Object.getPrototypeOf(v) !== Object.prototype) return v;
  const o = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o)) {
    if (k === 'at' && o.t === 'fn') continue;
    out[k] = withoutCallSites(o[k]);
  }
  return out;
}

/**
 * Content id: a hash of a canonical msgpack encoding of `parts`. The call sites of function
 * envelopes (`at`) are left out: where code was written is not content.
 */
export function contentId(...parts: unknown[]): string {
  return createHash('sha256')
    .update(encode(withoutCallSites(parts)))
    .digest('base64url')
    .slice(0, 22);
}

/** Spark's name for the text file of partition `part`: `part-00007`. */
export function partFileName(part: number): string {
  return `part-${String(part).padStart(5, '0')}`;
}

/** The record id announcing map output `map` of shuffle `shuffleId` (src/protocol/block-ids.ts). */
export { mapOutputId } from '../protocol/block-ids.js';

/** The shuffle and map index of a map output record id, or undefined for any other block id. */
export function parseMapOutputId(id: string): { shuffleId: string; map: number } | undefined {
  const b = parseBlockId(id);
  return b?.kind === 'map-output' ? { shuffleId: b.shuffleId, map: b.map } : undefined;
}

/** The id under which a partition of a persisted node is stored. */
export function blockId(nodeId: string, partition: number): string {
  return rddBlockId(nodeId, partition);
}
