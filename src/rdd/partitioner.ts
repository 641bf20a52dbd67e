/**
 * Partitioners as the client sees them: a spec that travels in the lineage, an identity for
 * content ids and equality (two RDDs with equal partitioners are co-partitioned, so joins and
 * reduceByKey over them need no shuffle), and for range partitioning the sampling that computes
 * bounds when an action runs.
 */
import type { Callable } from './functions.js';
import { hashPartition } from './key-hash.js';
import { contentId, type PartitionerSpec } from './lineage.js';
import { compare } from './ordering.js';

/** Maps keys to partitions in [0, numPartitions). */
export abstract class Partitioner {
  abstract readonly numPartitions: number;
  /** The wire form (for range partitioners, only after {@link prepare}). */
  abstract spec(): PartitionerSpec;
  /** What defines this partitioner, for ids and equality. */
  abstract identity(): unknown;
  private idMemo: string | undefined;

  get id(): string {
    return (this.idMemo ??= contentId('partitioner', this.identity()));
  }

  equals(other: Partitioner | undefined): boolean {
    return other !== undefined && other.id === this.id;
  }

  /** Runs whatever must run before the spec is known (range bounds). */
  prepare(): Promise<void> {
    return Promise.resolve();
  }

  /** The partition of `key` when it can be computed on the client, else undefined. */
  partitionOf(_key: unknown): number | undefined {
    return undefined;
  }
}

/** Partitions by a stable hash of the key (PySpark's portable_hash default). */
export class HashPartitioner extends Partitioner {
  constructor(readonly numPartitions: number) {
    super();
  }
  spec(): PartitionerSpec {
    return { kind: 'hash', n: this.numPartitions };
  }
  identity(): unknown {
    return ['hash', this.numPartitions];
  }
  override partitionOf(key: unknown): number {
    return hashPartition(key, this.numPartitions);
  }
}

/** Partitions by a user function: `partitionFunc(key) mod numPartitions`. */
export class FunctionPartitioner extends Partitioner {
  constructor(
    readonly numPartitions: number,
    readonly fn: Callable,
  ) {
    super();
  }
  spec(): PartitionerSpec {
    return { kind: 'fn', n: this.numPartitions, fn: this.fn };
  }
  identity(): unknown {
    return ['fn', this.numPartitions, this.fn];
  }
}

/** The key is the partition number (used by repartition's round-robin). */
export class DirectPartitioner extends Partitioner {
  constructor(readonly numPartitions: number) {
    super();
  }
  spec(): PartitionerSpec {
    return { kind: 'direct', n: this.numPartitions };
  }
  identity(): unknown {
    return ['direct', this.numPartitions];
  }
}

/** Samples the source: one job returning [count, up to sampleSize/numPartitions sampled keys] per partition. */
export type SampleJob = (sampleSize: number, keyfunc: Callable | undefined) => Promise<unknown[]>;

/**
 * Partitions sortable keys into ranges of about equal size (Spark's RangePartitioner). Bounds come
 * from a weighted sample of the source's keys, taken when the first action runs.
 */
export class RangePartitioner extends Partitioner {
  private bounds: unknown[] | undefined;

  constructor(
    readonly numPartitions: number,
    readonly ascending: boolean,
    readonly keyfunc: Callable | undefined,
    private readonly sourceId: () => string,
    private readonly sample: SampleJob,
  ) {
    super();
  }

  identity(): unknown {
    return ['range', this.numPartitions, this.ascending, this.keyfunc ?? null, this.sourceId()];
  }

  override async prepare(): Promise<void> {
    if (this.bounds !== undefined) return;
    if (this.numPartitions <= 1) {
      this.bounds = [];
      return;
    }
    const sampleSize = Math.min(20 * this.numPartitions, 1e6);
    // Spark oversamples 3x per partition so that skewed partitions still give enough candidates.
    const parts = (await this.sample(sampleSize * 3, this.keyfunc)) as Array<[number, unknown[]]>;
    const candidates: Array<{ k: unknown; w: number }> = [];
    for (const [count, keys] of parts) {
      if (keys.length === 0) continue;
      const w = count / keys.length;
      for (const k of keys) candidates.push({ k, w });
    }
    this.bounds = determineBounds(candidates, this.numPartitions);
  }

  spec(): PartitionerSpec {
    if (this.bounds === undefined) throw new Error('RangePartitioner used before its bounds were sampled');
    return {
      kind: 'range',
      n: this.numPartitions,
      ascending: this.ascending,
      bounds: this.bounds,
      ...(this.keyfunc && { keyfunc: this.keyfunc }),
    };
  }
}

/** Spark's RangePartitioner.determineBounds: weighted quantiles, skipping duplicate bounds. */
export function determineBounds(candidates: Array<{ k: unknown; w: number }>, partitions: number): unknown[] {
  const ordered = candidates.slice().sort((a, b) => compare(a.k, b.k));
  const sum = ordered.reduce((s, c) => s + c.w, 0);
  const step = sum / partitions;
  let cum = 0;
  let target = step;
  const bounds: unknown[] = [];
  let prev: { k: unknown } | undefined;
  for (let i = 0; i < ordered.length && bounds.length < partitions - 1; i++) {
    const { k, w } = ordered[i]!;
    cum += w;
    if (cum >= target && (prev === undefined || compare(k, prev.k) > 0)) {
      bounds.push(k);
      target += step;
      prev = { k };
    }
  }
  return bounds;
}
