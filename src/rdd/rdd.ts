/**
 * The RDD: an immutable, partitioned collection defined by its lineage. Transformations are
 * synchronous and lazy (they build a new RDD); actions are async and run jobs through the
 * context. Names, argument order and semantics follow PySpark's RDD API, in camelCase; a
 * method's `env` (what its functions may use) is its last positional argument.
 */
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import { EmptyRDDError, InvalidOperationError } from '../protocol/errors.js';
import type { Compiler } from './compile.js';
import { KIND, packEnv } from './env.js';
import { lib, shipWithPackedEnv, type Callable, type FnEnvelope, type LibFn } from './functions.js';
import { KeyMap } from './key-map.js';
import {
  contentId,
  partFileName,
  type AggregatorSpec,
  type ElementwiseOp,
  type NodeOp,
  type NodeParams,
  type NodeSpec,
  type ShuffleSpec,
} from './lineage.js';
import { compare, compareDescending } from './ordering.js';
import {
  DirectPartitioner,
  FunctionPartitioner,
  HashPartitioner,
  Partitioner,
  RangePartitioner,
} from './partitioner.js';
import { mulberry32, randomSeed } from './random.js';
import { StatCounter } from './stat-counter.js';
import { StorageLevel } from './storage-level.js';
import { BoundedFloat, estimateSum } from './approx.js';
import { debugString } from './debug-string.js';
import { callSite, userCall } from './call-site.js';
import { HyperLogLog, precisionFor } from './hll.js';
import type { DataFrame } from '../dataframe/dataframe.js';
import type { StructType } from '../sql/types.js';

/** Options of a job run on behalf of an action. */
export interface RunJobOptions {
  readonly signal?: AbortSignal;
  /** Called as each partition's result arrives (approximate actions use it). */
  readonly onPartition?: (index: number, result: unknown) => void;
}

/** What an RDD needs from its context; implemented by `MicroSpark`. */
export interface RDDContext {
  readonly defaultParallelism: number;
  readonly checkpointDir: string | undefined;
  /** A new RDD id (sequential per context, as Spark's `rdd.id`). */
  newRddId(): number;
  /** The context's SQL session, which `rdd.toDF` calls into (absent in contexts without one). */
  readonly session?: {
    createDataFrame(data: RDD<any>, schema?: StructType | string | readonly string[]): Promise<DataFrame>;
  };
  /** Runs `fn` (a result sink) over the given partitions of `rdd`; results in partition order. */
  submitJob(
    rdd: RDD<any>,
    fn: LibFn,
    partitions?: readonly number[],
    opts?: RunJobOptions,
  ): Promise<unknown[]>;
  /**
   * Runs only the map stages of the shuffles `rdd` reads directly (Spark's submitMapStage);
   * resolves with each one's map output bytes, in the order of `rdd`'s shuffle dependencies.
   * The outputs stay for the rest of the action.
   */
  submitMapStages(rdd: RDD<any>, opts?: RunJobOptions): Promise<number[]>;
  /** Groups several jobs into one action (shuffle outputs are kept until the action ends). */
  withAction<R>(body: () => Promise<R>, name?: string): Promise<R>;
  /** Compiles shipped functions on the client, for the final merge of partition results. */
  localCompiler(): Promise<Compiler>;
  /** Drops the stored blocks of an RDD. */
  unpersistRdd(rdd: RDD<any>): void;
  /** Notes that an RDD was marked persisted (for `getPersistentRDDs`). */
  registerPersisted(rdd: RDD<any>): void;
  /** Cached partitions and their size, if any are stored. */
  storageInfo(rdd: RDD<any>): { partitions: number; bytes: number } | undefined;
  /**
   * A DataFrame query's physical plan is about to run: its stages and their RDD nodes (the web
   * UI's SQL page). Optional: contexts without progress listeners ignore it.
   */
  reportSqlPlan?(
    plan: string,
    stages: ReadonlyArray<{ id: number; text: string; node: string; inputs: readonly number[] }>,
  ): void;
}

/** A dependency as `toDebugString` and the planner see it. */
export interface Dependency {
  readonly rdd: RDD<any>;
  readonly shuffle: boolean;
}

interface ShuffleDef {
  readonly rdd: RDD<any>;
  readonly partitioner: Partitioner;
  readonly agg?: AggregatorSpec;
  readonly mapSideCombine: boolean;
  /** Whole elements travel, not pairs (sortBy). */
  readonly elements?: boolean;
}

/** The operation of a node and its parameters (given, or computed after `prepare` when a function). */
export type NodeDefOp = {
  [K in NodeOp]: {
    /** The runner operation. */
    readonly op: K;
    /** Parameters that travel; a function when some are only known after `prepare`. */
    readonly params: NodeParams[K] | (() => NodeParams[K]);
  };
}[NodeOp];

/** How an RDD node is defined; every transformation builds one. */
export type NodeDef = NodeDefOp & {
  /** Spark's class name for `toDebugString`. */
  readonly className: string;
  /** The API method that created it (`map`, `textFile`…), for the call site. */
  readonly method: string;
  readonly numPartitions: number;
  readonly parents?: readonly RDD<any>[];
  readonly shuffles?: readonly ShuffleDef[];
  /** What identifies the content when `params` is deferred or large. */
  readonly identity?: unknown;
  readonly partitioner?: Partitioner;
  /** Computes deferred parameters; runs before the first job that needs this RDD. */
  readonly prepare?: () => Promise<void>;
  /** Dependency order for the debug string, when it differs from parents-then-shuffles. */
  readonly deps?: readonly Dependency[];
  readonly name?: string;
  /** Where the user asked for it (`job.ts:12`), when the caller knows; else found from the stack. */
  readonly site?: string;
};

/** Options for map-like transformations. */
export interface MapOptions {
  /** The function keeps keys in their partitions, so the partitioner is kept (PySpark's flag). */
  readonly preservesPartitioning?: boolean;
}

type PartitionFunc<K, E> = (key: K, env: E) => number;
type Iter<T> = Iterator<T> & Iterable<T>;
/** What flatMap-like functions may return: an iterable, an async iterable, or a promise of an iterable. */
type ManyOf<U> = Iterable<U> | AsyncIterable<U> | PromiseLike<Iterable<U>>;

function assertPositiveInt(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidOperationError(`${what} must be a positive integer, got ${n}`);
}

/** A resilient distributed dataset of elements of type T. */
export class RDD<T> {
  /** Brand checked when env values are packed (an RDD cannot be used inside a function). */
  readonly [KIND] = 'rdd';
  /** Sequential id within the context (Spark's `rdd.id`). */
  readonly id: number;
  /** The partitioner, when the RDD is known to be partitioned by key. */
  readonly partitioner: Partitioner | undefined;
  /** Where the RDD was created: `map at file.ts:12`. */
  readonly creationSite: string;
  private nameValue: string | undefined;
  private level = StorageLevel.NONE;
  private checkpointState:
    | { kind: 'reliable' | 'local'; dir?: string; writing?: boolean; checkpointRdd?: RDD<T>; done?: boolean }
    | undefined;
  private idMemo: string | undefined;
  private prepared = false;

  /** @internal Use the context's sources and the transformations instead. */
  constructor(
    private readonly ctx: RDDContext,
    /** @internal */ readonly def: NodeDef,
  ) {
    this.id = ctx.newRddId();
    this.partitioner = def.partitioner;
    this.nameValue = def.name;
    // Spark's call site: the method the user called (`sortBy`), even where it builds this RDD
    // through others (`keyBy`, `sortByKey`). A checkpoint's RDD is made by whichever action wrote it.
    if (def.site !== undefined) this.creationSite = `${def.method} at ${def.site}`;
    else {
      const call = userCall();
      const method = def.method === 'checkpoint' ? def.method : (call.method ?? def.method);
      this.creationSite = `${method} at ${call.site}`;
    }
  }

  // ---------------------------------------------------------------- identity and lineage

  /** The context that created this RDD. */
  get context(): RDDContext {
    return this.ctx;
  }

  /** Content id: a hash of the whole lineage. Equal pipelines over equal inputs have equal ids. */
  get contentId(): string {
    if (this.idMemo === undefined) {
      const d = this.def;
      this.idMemo = contentId(
        d.op,
        d.numPartitions,
        (d.parents ?? []).map((p) => p.contentId),
        (d.shuffles ?? []).map((s) => this.shuffleId(s)),
        d.identity !== undefined ? d.identity : typeof d.params === 'function' ? null : (d.params ?? null),
      );
    }
    return this.idMemo;
  }

  private shuffleId(s: ShuffleDef): string {
    return s.elements
      ? contentId('shuffle', s.rdd.contentId, s.partitioner.id, null, false, 'elements')
      : contentId('shuffle', s.rdd.contentId, s.partitioner.id, s.agg ?? null, s.mapSideCombine);
  }

  /** @internal The dependencies, in Spark's order. */
  dependencies(): readonly Dependency[] {
    const cp = this.checkpointState?.checkpointRdd;
    if (cp) return [{ rdd: cp, shuffle: false }];
    return (
      this.def.deps ?? [
        ...(this.def.parents ?? []).map((rdd) => ({ rdd, shuffle: false })),
        ...(this.def.shuffles ?? []).map((s) => ({ rdd: s.rdd, shuffle: true })),
      ]
    );
  }

  /** @internal Computes deferred parameters (range bounds, zipWithIndex offsets) of this node. */
  async prepareNode(): Promise<void> {
    if (this.prepared) return;
    for (const s of this.def.shuffles ?? []) await s.partitioner.prepare();
    await this.def.prepare?.();
    this.prepared = true;
  }

  /** @internal The node's wire form (after `prepareNode`). */
  nodeSpec(): NodeSpec {
    const persist = !this.level.equals(StorageLevel.NONE);
    if (this.checkpointState?.dir !== undefined) {
      return {
        op: 'checkpoint',
        n: this.def.numPartitions,
        parents: [],
        shuffles: [],
        p: { dir: this.checkpointState.dir },
      };
    }
    const d = this.def;
    const shuffles: ShuffleSpec[] = (d.shuffles ?? []).map((s) => ({
      id: this.shuffleId(s),
      parent: s.rdd.contentId,
      numMaps: s.rdd.getNumPartitions(),
      partitioner: s.partitioner.spec(),
      mapSideCombine: s.mapSideCombine,
      ...(s.agg && { agg: s.agg }),
      ...(s.elements && { elements: true }),
    }));
    // NodeDefOp pairs each op with its parameters; TypeScript cannot follow that pairing through
    // the ternary, so it is re-asserted here (the one place a NodeSpec is built from a def).
    return {
      op: d.op,
      n: d.numPartitions,
      parents: (d.parents ?? []).map((p) => p.contentId),
      shuffles,
      p: typeof d.params === 'function' ? d.params() : d.params,
      ...(persist && { persist }),
    } as NodeSpec;
  }

  /** @internal Parents reached by the planner: narrow parents and shuffle map sides (none once checkpointed). */
  lineageParents(): RDD<any>[] {
    if (this.checkpointState?.dir !== undefined) return [];
    return [...(this.def.parents ?? []), ...(this.def.shuffles ?? []).map((s) => s.rdd)];
  }

  /** @internal Whether a reliable checkpoint was asked for and not yet written. */
  get checkpointPending(): boolean {
    const s = this.checkpointState;
    return s?.kind === 'reliable' && s.dir === undefined && !s.writing;
  }

  /** @internal Writes the reliable checkpoint (runs one job) and truncates the lineage. */
  async writeCheckpoint(dir: string): Promise<void> {
    // The writing job computes this RDD too: it must not try to write the checkpoint again.
    this.checkpointState = { kind: 'reliable', writing: true };
    let parts: Uint8Array[];
    try {
      parts = (await this.ctx.submitJob(this, lib('encodedPartition'))) as Uint8Array[];
    } catch (e) {
      this.checkpointState = { kind: 'reliable' };
      throw e;
    }
    await mkdir(dir, { recursive: true });
    await Promise.all(parts.map((b, i) => writeFile(join(dir, `part-${String(i).padStart(5, '0')}`), b)));
    // As in Spark, the RDD stays and its only parent becomes the checkpoint data.
    const checkpointRdd = this.derive<T>({
      className: 'ReliableCheckpointRDD',
      op: 'checkpoint',
      method: 'checkpoint',
      numPartitions: this.getNumPartitions(),
      params: { dir },
    });
    this.checkpointState = { kind: 'reliable', dir, checkpointRdd };
  }

  /**
   * A DataFrame of this RDD's elements, objects (by field name) or arrays (by position): PySpark's
   * `rdd.toDF(schema)`. Without a schema (or with column names only), the types are inferred
   * from the first 100 elements (a job); the rows are encoded on the workers.
   */
  async toDF(schema?: StructType | string | readonly string[]): Promise<DataFrame> {
    const session = this.ctx.session;
    if (!session) throw new InvalidOperationError('toDF: this context has no SQL session');
    return session.createDataFrame(this, schema);
  }

  /** Number of partitions. */
  getNumPartitions(): number {
    return this.def.numPartitions;
  }

  /** The name given with `setName`, or null (PySpark's None) for an unnamed RDD. */
  name(): string | null {
    return this.nameValue ?? null;
  }

  /** Names the RDD (shown by `toDebugString`). Returns this RDD. */
  setName(name: string): this {
    this.nameValue = name;
    return this;
  }

  toString(): string {
    return `${this.nameValue !== undefined ? this.nameValue + ' ' : ''}${this.def.className}[${this.id}] at ${this.creationSite}`;
  }

  /** The lineage with its shuffle boundaries, as Spark prints it. */
  toDebugString(): string {
    return debugString(this);
  }

  // ---------------------------------------------------------------- persistence

  /** Whether the RDD is persisted (PySpark's `is_cached`). */
  get isCached(): boolean {
    return !this.level.equals(StorageLevel.NONE);
  }

  /** The storage level (NONE when not persisted). */
  getStorageLevel(): StorageLevel {
    return this.level;
  }

  /** Keeps computed partitions for reuse (MEMORY_ONLY). Returns this RDD. */
  cache(): this {
    return this.persist(StorageLevel.MEMORY_ONLY);
  }

  /** Keeps computed partitions at `level`. A level can be set only once (as in Spark). Returns this RDD. */
  persist(level: StorageLevel = StorageLevel.MEMORY_ONLY): this {
    if (!this.level.equals(StorageLevel.NONE) && !this.level.equals(level)) {
      throw new InvalidOperationError(
        `Cannot change storage level of an RDD after it was already assigned a level (${String(this.level)})`,
      );
    }
    this.level = level;
    this.ctx.registerPersisted(this);
    return this;
  }

  /** Drops the stored partitions and marks the RDD as not persisted. Returns this RDD. */
  unpersist(_blocking = false): this {
    this.level = StorageLevel.NONE;
    this.ctx.unpersistRdd(this);
    return this;
  }

  /**
   * Marks the RDD for checkpointing: after the next job that computes it, its partitions are
   * saved under the context's checkpoint directory and its lineage is truncated.
   */
  checkpoint(): void {
    if (this.ctx.checkpointDir === undefined) {
      throw new InvalidOperationError(
        'Checkpoint directory has not been set in the context: call sc.setCheckpointDir(dir)',
      );
    }
    this.checkpointState ??= { kind: 'reliable' };
  }

  /** Marks the RDD for local checkpointing: persisted (MEMORY_AND_DISK) by the engine, truncating reuse cost. */
  localCheckpoint(): void {
    if (this.level.equals(StorageLevel.NONE)) this.level = StorageLevel.MEMORY_AND_DISK;
    this.checkpointState = { kind: 'local' };
  }

  /**
   * Whether the RDD is checkpointed: a reliable checkpoint has been written, or (as in Spark) a
   * local checkpoint has been materialized by a job that stored all its partitions.
   */
  isCheckpointed(): boolean {
    const s = this.checkpointState;
    return s?.dir !== undefined || (s?.kind === 'local' && s.done === true);
  }

  /** @internal Called after a job: a local checkpoint whose partitions are all stored is done. */
  noteLocalCheckpoint(storedPartitions: number | undefined): void {
    const s = this.checkpointState;
    if (s?.kind === 'local' && storedPartitions === this.getNumPartitions()) s.done = true;
  }

  /** Whether the RDD was marked with `localCheckpoint()`. */
  isLocallyCheckpointed(): boolean {
    return this.checkpointState?.kind === 'local';
  }

  /** The checkpoint directory of this RDD once written, else null (PySpark's None; also for local checkpoints). */
  getCheckpointFile(): string | null {
    return this.checkpointState?.dir ?? null;
  }

  // ---------------------------------------------------------------- building blocks

  /** @internal Builds a child RDD in the same context. */
  derive<U>(def: NodeDef): RDD<U> {
    return new RDD<U>(this.ctx, def);
  }

  private ship(where: string, env: unknown, ...fns: unknown[]): Callable[] {
    const packed = env === undefined ? undefined : packEnv(env, where);
    const at = callSite();
    return fns.map((f) => shipWithPackedEnv(f, packed, env, where, at));
  }

  private elementwise<U>(
    op: ElementwiseOp,
    method: string,
    f: Callable | undefined,
    keepPartitioner: boolean,
  ): RDD<U> {
    return this.derive<U>({
      className: 'MapPartitionsRDD',
      op,
      method,
      numPartitions: this.getNumPartitions(),
      parents: [this],
      params: f ? { f } : {},
      ...(keepPartitioner && this.partitioner && { partitioner: this.partitioner }),
    });
  }

  /** @internal A partition-level operation (library or user function). */
  mapPartitionsInternal<U>(
    method: string,
    f: Callable,
    withIndex: boolean,
    keepPartitioner: boolean,
  ): RDD<U> {
    return this.derive<U>({
      className: 'MapPartitionsRDD',
      op: 'mapPartitions',
      method,
      numPartitions: this.getNumPartitions(),
      parents: [this],
      params: { f, withIndex },
      ...(keepPartitioner && this.partitioner && { partitioner: this.partitioner }),
    });
  }

  private partitionerFor(
    method: string,
    numPartitions: number | undefined,
    partitionFunc: unknown,
    env: unknown,
  ): Partitioner {
    const n = numPartitions ?? this.getNumPartitions();
    assertPositiveInt(n, `${method}: numPartitions`);
    if (partitionFunc === undefined || partitionFunc === null) return new HashPartitioner(n);
    const [fn] = this.ship(`rdd.${method} (partitionFunc)`, env, partitionFunc);
    return new FunctionPartitioner(n, fn!);
  }

  /** @internal A shuffle of this pair RDD into `partitioner`, with an optional aggregator and a sort. */
  shuffle<U>(
    method: string,
    partitioner: Partitioner,
    agg: AggregatorSpec | undefined,
    mapSideCombine: boolean,
    sort?: { ascending: boolean; keyfunc?: Callable },
  ): RDD<U> {
    return this.derive<U>({
      className: 'ShuffledRDD',
      op: 'shuffled',
      method,
      numPartitions: partitioner.numPartitions,
      shuffles: [{ rdd: this, partitioner, mapSideCombine, ...(agg && { agg }) }],
      params: sort ? { sort } : {},
      partitioner,
    });
  }

  /** @internal combineByKey with callables: no shuffle when already partitioned by `partitioner`. */
  combineInternal<U>(
    method: string,
    agg: AggregatorSpec,
    partitioner: Partitioner,
    mapSideCombine = true,
  ): RDD<U> {
    if (partitioner.equals(this.partitioner)) {
      return this.mapPartitionsInternal<U>(
        method,
        lib('aggregateLocal', agg.create ?? null, agg.merge),
        false,
        true,
      );
    }
    return this.shuffle<U>(method, partitioner, agg, mapSideCombine);
  }

  // ---------------------------------------------------------------- transformations

  /** Applies `f` to every element. */
  map<U, E = undefined>(f: (x: T, env: E) => U | PromiseLike<U>, env?: E, options?: MapOptions): RDD<U> {
    const [fn] = this.ship('rdd.map', env, f);
    return this.elementwise<U>('map', 'map', fn, options?.preservesPartitioning ?? false);
  }

  /** Applies `f` to every element and flattens the iterables it returns. */
  flatMap<U, E = undefined>(f: (x: T, env: E) => ManyOf<U>, env?: E, options?: MapOptions): RDD<U> {
    const [fn] = this.ship('rdd.flatMap', env, f);
    return this.elementwise<U>('flatMap', 'flatMap', fn, options?.preservesPartitioning ?? false);
  }

  /** Keeps the elements for which `f` returns a truthy value. */
  filter<E = undefined>(f: (x: T, env: E) => unknown, env?: E): RDD<T> {
    const [fn] = this.ship('rdd.filter', env, f);
    return this.elementwise<T>('filter', 'filter', fn, true);
  }

  /** Applies `f` to each partition's iterator; `f` returns an iterable (an array or a generator). */
  mapPartitions<U, E = undefined>(
    f: (it: Iter<T>, env: E) => ManyOf<U>,
    env?: E,
    options?: MapOptions,
  ): RDD<U> {
    const [fn] = this.ship('rdd.mapPartitions', env, f);
    return this.mapPartitionsInternal<U>(
      'mapPartitions',
      fn!,
      false,
      options?.preservesPartitioning ?? false,
    );
  }

  /** Like mapPartitions, with the partition index as first argument. */
  mapPartitionsWithIndex<U, E = undefined>(
    f: (index: number, it: Iter<T>, env: E) => ManyOf<U>,
    env?: E,
    options?: MapOptions,
  ): RDD<U> {
    const [fn] = this.ship('rdd.mapPartitionsWithIndex', env, f);
    return this.mapPartitionsInternal<U>(
      'mapPartitionsWithIndex',
      fn!,
      true,
      options?.preservesPartitioning ?? false,
    );
  }

  /** PySpark's deprecated name of {@link mapPartitionsWithIndex} (the split is the partition index). */
  mapPartitionsWithSplit<U, E = undefined>(
    f: (splitIndex: number, it: Iter<T>, env: E) => ManyOf<U>,
    env?: E,
    options?: MapOptions,
  ): RDD<U> {
    const [fn] = this.ship('rdd.mapPartitionsWithSplit', env, f);
    return this.mapPartitionsInternal<U>(
      'mapPartitionsWithSplit',
      fn!,
      true,
      options?.preservesPartitioning ?? false,
    );
  }

  /** Each partition as one array. */
  glom(): RDD<T[]> {
    return this.mapPartitionsInternal<T[]>('glom', lib('glom'), false, false);
  }

  /** The distinct elements (equality by value). */
  distinct(numPartitions?: number): RDD<T> {
    return this.elementwise<[T, null]>('map', 'distinct', lib('pairWith', null), false)
      .reduceByKeyCallable(
        'distinct',
        lib('keepFirst'),
        this.partitionerFor('distinct', numPartitions, undefined, undefined),
      )
      .keys();
  }

  /** All elements of this RDD and `other` (duplicates kept; partitions concatenated). */
  union<U>(other: RDD<U>): RDD<T | U> {
    return unionOf<T | U>(this.ctx, [this, other], 'union');
  }

  /** The elements present in both RDDs, without duplicates. */
  intersection(other: RDD<T>, numPartitions?: number): RDD<T> {
    const a = this.elementwise<[T, null]>('map', 'intersection', lib('pairWith', null), false);
    const b = other.elementwise<[T, null]>('map', 'intersection', lib('pairWith', null), false);
    return a
      .cogroupWith('intersection', [b], this.defaultPartitioner([this, other], numPartitions))
      .elementwise<[T, unknown]>('filter', 'intersection', lib('bothNonEmpty'), true)
      .keys();
  }

  /** The elements of this RDD not in `other` (duplicates of this RDD kept). */
  subtract(other: RDD<T>, numPartitions?: number): RDD<T> {
    const a = this.elementwise<[T, boolean]>('map', 'subtract', lib('pairWith', true), false);
    const b = other.elementwise<[T, boolean]>('map', 'subtract', lib('pairWith', true), false);
    return a.subtractByKey(b, numPartitions).keys();
  }

  /** The cartesian product: every pair [a, b] with a from this RDD and b from `other`. */
  cartesian<U>(other: RDD<U>): RDD<[T, U]> {
    const nb = other.getNumPartitions();
    return this.derive<[T, U]>({
      className: 'CartesianRDD',
      op: 'cartesian',
      method: 'cartesian',
      numPartitions: this.getNumPartitions() * nb,
      parents: [this, other],
      params: { nb },
    });
  }

  /** Groups elements by `f(x)`: pairs [key, elements]. */
  groupBy<K, E = undefined>(
    f: (x: T, env: E) => K | PromiseLike<K>,
    numPartitions?: number,
    partitionFunc?: PartitionFunc<K, E>,
    env?: E,
  ): RDD<[K, T[]]> {
    return this.keyBy(f, env).groupByKey(numPartitions, partitionFunc, env);
  }

  /** Pairs [f(x), x]. */
  keyBy<K, E = undefined>(f: (x: T, env: E) => K | PromiseLike<K>, env?: E): RDD<[K, T]> {
    const [fn] = this.ship('rdd.keyBy', env, f);
    return this.elementwise<[K, T]>('keyBy', 'keyBy', fn, false);
  }

  /** Keys of a pair RDD. */
  keys<K>(this: RDD<readonly [K, unknown]>): RDD<K> {
    return this.elementwise<K>('keys', 'keys', undefined, false);
  }

  /** Values of a pair RDD. */
  values<V>(this: RDD<readonly [unknown, V]>): RDD<V> {
    return this.elementwise<V>('values', 'values', undefined, false);
  }

  /** Applies `f` to each value of a pair RDD, keeping keys and partitioning. */
  mapValues<K, V, U, E = undefined>(
    this: RDD<[K, V]>,
    f: (v: V, env: E) => U | PromiseLike<U>,
    env?: E,
  ): RDD<[K, U]> {
    const [fn] = this.ship('rdd.mapValues', env, f);
    return this.elementwise<[K, U]>('mapValues', 'mapValues', fn, true);
  }

  /** Applies `f` to each value and flattens: one pair per element `f` returns. */
  flatMapValues<K, V, U, E = undefined>(
    this: RDD<[K, V]>,
    f: (v: V, env: E) => ManyOf<U>,
    env?: E,
  ): RDD<[K, U]> {
    const [fn] = this.ship('rdd.flatMapValues', env, f);
    return this.elementwise<[K, U]>('flatMapValues', 'flatMapValues', fn, true);
  }

  /** Groups the values of each key into an array. */
  groupByKey<K, V, E = undefined>(
    this: RDD<[K, V]>,
    numPartitions?: number,
    partitionFunc?: PartitionFunc<K, E>,
    env?: E,
  ): RDD<[K, V[]]> {
    const partitioner = this.partitionerFor('groupByKey', numPartitions, partitionFunc, env);
    // As in Spark, no map-side combine: grouping does not shrink the data.
    return this.combineInternal<[K, V[]]>(
      'groupByKey',
      { create: lib('toList'), merge: lib('appendList'), combine: lib('concatList') },
      partitioner,
      false,
    );
  }

  private reduceByKeyCallable<K, V>(
    this: RDD<[K, V]>,
    method: string,
    f: Callable,
    partitioner: Partitioner,
  ): RDD<[K, V]> {
    return this.combineInternal<[K, V]>(method, { merge: f, combine: f }, partitioner);
  }

  /** Merges the values of each key with an associative, commutative `f` (combining map-side first). */
  reduceByKey<K, V, E = undefined>(
    this: RDD<[K, V]>,
    f: (a: V, b: V, env: E) => V,
    numPartitions?: number,
    partitionFunc?: PartitionFunc<K, E>,
    env?: E,
  ): RDD<[K, V]> {
    const [fn] = this.ship('rdd.reduceByKey', env, f);
    return this.reduceByKeyCallable(
      'reduceByKey',
      fn!,
      this.partitionerFor('reduceByKey', numPartitions, partitionFunc, env),
    );
  }

  /** Merges the values of each key with `f`, starting from a copy of `zeroValue` per key. */
  foldByKey<K, V, E = undefined>(
    this: RDD<[K, V]>,
    zeroValue: V,
    f: (a: V, b: V, env: E) => V,
    numPartitions?: number,
    partitionFunc?: PartitionFunc<K, E>,
    env?: E,
  ): RDD<[K, V]> {
    const [fn] = this.ship('rdd.foldByKey', env, f);
    return this.combineInternal<[K, V]>(
      'foldByKey',
      { create: lib('zeroThen', zeroValue, fn), merge: fn!, combine: fn! },
      this.partitionerFor('foldByKey', numPartitions, partitionFunc, env),
    );
  }

  /** Aggregates the values of each key: `seqFunc` folds values into a copy of `zeroValue`, `combFunc` merges. */
  aggregateByKey<K, V, U, E = undefined>(
    this: RDD<[K, V]>,
    zeroValue: U,
    seqFunc: (acc: U, v: V, env: E) => U,
    combFunc: (a: U, b: U, env: E) => U,
    numPartitions?: number,
    partitionFunc?: PartitionFunc<K, E>,
    env?: E,
  ): RDD<[K, U]> {
    const [seq, comb] = this.ship('rdd.aggregateByKey', env, seqFunc, combFunc);
    return this.combineInternal<[K, U]>(
      'aggregateByKey',
      { create: lib('zeroThen', zeroValue, seq), merge: seq!, combine: comb! },
      this.partitionerFor('aggregateByKey', numPartitions, partitionFunc, env),
    );
  }

  /** The generic per-key aggregation (Spark's combineByKey). */
  combineByKey<K, V, C, E = undefined>(
    this: RDD<[K, V]>,
    createCombiner: (v: V, env: E) => C,
    mergeValue: (c: C, v: V, env: E) => C,
    mergeCombiners: (a: C, b: C, env: E) => C,
    numPartitions?: number,
    partitionFunc?: PartitionFunc<K, E>,
    env?: E,
  ): RDD<[K, C]> {
    const [create, merge, combine] = this.ship(
      'rdd.combineByKey',
      env,
      createCombiner,
      mergeValue,
      mergeCombiners,
    );
    return this.combineInternal<[K, C]>(
      'combineByKey',
      { create: create!, merge: merge!, combine: combine! },
      this.partitionerFor('combineByKey', numPartitions, partitionFunc, env),
    );
  }

  /** Repartitions a pair RDD by key (hash, or `partitionFunc(key) mod numPartitions`). */
  partitionBy<K, V, E = undefined>(
    this: RDD<[K, V]>,
    numPartitions: number,
    partitionFunc?: PartitionFunc<K, E>,
    env?: E,
  ): RDD<[K, V]> {
    const partitioner = this.partitionerFor('partitionBy', numPartitions, partitionFunc, env);
    if (partitioner.equals(this.partitioner)) return this;
    return this.shuffle<[K, V]>('partitionBy', partitioner, undefined, false);
  }

  private defaultPartitioner(rdds: readonly RDD<any>[], numPartitions: number | undefined): Partitioner {
    if (numPartitions !== undefined) {
      assertPositiveInt(numPartitions, 'numPartitions');
      return new HashPartitioner(numPartitions);
    }
    const max = Math.max(...rdds.map((r) => r.getNumPartitions()));
    // Spark's defaultPartitioner: reuse an existing partitioner unless it is an order of magnitude too small.
    const existing = rdds
      .map((r) => r.partitioner)
      .filter((p): p is Partitioner => p !== undefined)
      .sort((a, b) => b.numPartitions - a.numPartitions)[0];
    if (existing && Math.log10(max) - Math.log10(existing.numPartitions) < 1) return existing;
    return new HashPartitioner(Math.max(max, 1));
  }

  private cogroupWith(
    method: string,
    others: readonly RDD<any>[],
    partitioner: Partitioner,
  ): RDD<[unknown, unknown[][]]> {
    const all: RDD<any>[] = [this, ...others];
    const parents: RDD<any>[] = [];
    const shuffles: ShuffleDef[] = [];
    const inputs: Array<{ narrow?: number; shuffle?: number }> = [];
    const deps: Dependency[] = [];
    for (const r of all) {
      if (partitioner.equals(r.partitioner)) {
        inputs.push({ narrow: parents.length });
        parents.push(r);
        deps.push({ rdd: r, shuffle: false });
      } else {
        inputs.push({ shuffle: shuffles.length });
        shuffles.push({ rdd: r, partitioner, mapSideCombine: false });
        deps.push({ rdd: r, shuffle: true });
      }
    }
    return this.derive({
      className: 'CoGroupedRDD',
      op: 'cogroup',
      method,
      numPartitions: partitioner.numPartitions,
      parents,
      shuffles,
      params: { inputs },
      partitioner,
      deps,
    });
  }

  /** For each key in either RDD: [key, [values in this, values in other]]. */
  cogroup<K, V, W>(this: RDD<[K, V]>, other: RDD<[K, W]>, numPartitions?: number): RDD<[K, [V[], W[]]]> {
    return this.cogroupWith(
      'cogroup',
      [other],
      this.defaultPartitioner([this, other], numPartitions),
    ) as unknown as RDD<[K, [V[], W[]]]>;
  }

  /** cogroup over several RDDs: [key, [values in this, values in each other]]. */
  groupWith<K>(this: RDD<[K, unknown]>, ...others: RDD<[K, unknown]>[]): RDD<[K, unknown[][]]> {
    return this.cogroupWith(
      'groupWith',
      others,
      this.defaultPartitioner([this, ...others], undefined),
    ) as RDD<[K, unknown[][]]>;
  }

  private joinWith<R>(
    method: string,
    other: RDD<any>,
    numPartitions: number | undefined,
    kind: string,
  ): RDD<R> {
    return this.cogroupWith(
      method,
      [other],
      this.defaultPartitioner([this, other], numPartitions),
    ).elementwise<R>('flatMapValues', method, lib(kind), true);
  }

  /** Inner join: [k, [v, w]] for every pair of values with equal keys. */
  join<K, V, W>(this: RDD<[K, V]>, other: RDD<[K, W]>, numPartitions?: number): RDD<[K, [V, W]]> {
    return this.joinWith('join', other, numPartitions, 'joinInner');
  }

  /** Left outer join: keys of this RDD, with null where `other` has no value. */
  leftOuterJoin<K, V, W>(
    this: RDD<[K, V]>,
    other: RDD<[K, W]>,
    numPartitions?: number,
  ): RDD<[K, [V, W | null]]> {
    return this.joinWith('leftOuterJoin', other, numPartitions, 'joinLeft');
  }

  /** Right outer join: keys of `other`, with null where this RDD has no value. */
  rightOuterJoin<K, V, W>(
    this: RDD<[K, V]>,
    other: RDD<[K, W]>,
    numPartitions?: number,
  ): RDD<[K, [V | null, W]]> {
    return this.joinWith('rightOuterJoin', other, numPartitions, 'joinRight');
  }

  /** Full outer join: keys of either RDD, with null for a missing side. */
  fullOuterJoin<K, V, W>(
    this: RDD<[K, V]>,
    other: RDD<[K, W]>,
    numPartitions?: number,
  ): RDD<[K, [V | null, W | null]]> {
    return this.joinWith('fullOuterJoin', other, numPartitions, 'joinFull');
  }

  /** Pairs of this RDD whose key is not in `other`. */
  subtractByKey<K, V>(this: RDD<[K, V]>, other: RDD<[K, unknown]>, numPartitions?: number): RDD<[K, V]> {
    return this.joinWith('subtractByKey', other, numPartitions, 'subtractValues');
  }

  /** Sorts a pair RDD by key into range partitions (ordering: see README). */
  sortByKey<K, V, E = undefined>(
    this: RDD<[K, V]>,
    ascending = true,
    numPartitions?: number,
    keyfunc?: (k: K, env: E) => unknown,
    env?: E,
  ): RDD<[K, V]> {
    const n = numPartitions ?? this.getNumPartitions();
    assertPositiveInt(n, 'sortByKey: numPartitions');
    const [kf] = keyfunc ? this.ship('rdd.sortByKey', env, keyfunc) : [undefined];
    if (n === 1) {
      return this.coalesce(1).mapPartitionsInternal<[K, V]>(
        'sortByKey',
        lib('sortPairs', ascending, kf ?? null),
        false,
        true,
      );
    }
    const partitioner = new RangePartitioner(
      n,
      ascending,
      kf,
      () => this.contentId,
      async (sampleSize, keyfn) => {
        const perPartition = Math.ceil(sampleSize / Math.max(this.getNumPartitions(), 1));
        return this.ctx.submitJob(this, lib('sampleKeys', perPartition, keyfn ?? null));
      },
    );
    return this.shuffle<[K, V]>('sortByKey', partitioner, undefined, false, {
      ascending,
      ...(kf && { keyfunc: kf }),
    });
  }

  /** Sorts elements by `keyfunc(x)`. */
  sortBy<E = undefined>(
    keyfunc: (x: T, env: E) => unknown,
    ascending = true,
    numPartitions?: number,
    env?: E,
  ): RDD<T> {
    const n = numPartitions ?? this.getNumPartitions();
    assertPositiveInt(n, 'sortBy: numPartitions');
    const [kf] = this.ship('rdd.keyBy', env, keyfunc); // as before, when sortBy was keyBy + sortByKey
    // One partition, or an async key function (awaited where keyBy runs it): keyBy + sortByKey.
    if (n === 1 || (kf as FnEnvelope).async === true)
      return this.keyBy(keyfunc, env).sortByKey(ascending, n).values();
    // The elements travel alone (not as [key, element]): the range partitioner and the reducer's
    // sort compute each key from its element. The map side is a narrow identity node made here,
    // so the map stage is named `sortBy at …`, as Spark's (keyBy) is; it fuses into the chain.
    const input = this.elementwise<T>('identity', 'sortBy', undefined, false);
    const partitioner = new RangePartitioner(
      n,
      ascending,
      kf,
      () => input.contentId,
      async (sampleSize, keyfn) => {
        const perPartition = Math.ceil(sampleSize / Math.max(this.getNumPartitions(), 1));
        return this.ctx.submitJob(input, lib('sampleKeys', perPartition, keyfn ?? null, true));
      },
    );
    return this.derive<T>({
      className: 'ShuffledRDD',
      op: 'shuffled',
      method: 'sortBy',
      numPartitions: n,
      shuffles: [{ rdd: input, partitioner, mapSideCombine: false, elements: true }],
      params: { sort: { ascending, keyfunc: kf } },
    });
  }

  /** Repartitions by key and sorts each partition by key, in one shuffle. */
  repartitionAndSortWithinPartitions<K, V, E = undefined>(
    this: RDD<[K, V]>,
    numPartitions?: number,
    partitionFunc?: PartitionFunc<K, E>,
    ascending = true,
    keyfunc?: (k: K, env: E) => unknown,
    env?: E,
  ): RDD<[K, V]> {
    const partitioner = this.partitionerFor(
      'repartitionAndSortWithinPartitions',
      numPartitions,
      partitionFunc,
      env,
    );
    const [kf] = keyfunc ? this.ship('rdd.repartitionAndSortWithinPartitions', env, keyfunc) : [undefined];
    return this.shuffle<[K, V]>('repartitionAndSortWithinPartitions', partitioner, undefined, false, {
      ascending,
      ...(kf && { keyfunc: kf }),
    });
  }

  /** Exactly `numPartitions` partitions, with a shuffle that spreads elements evenly. */
  repartition(numPartitions: number): RDD<T> {
    return this.coalesce(numPartitions, true);
  }

  /**
   * Fewer partitions. Without `shuffle`, neighbouring partitions are merged and the count never
   * grows; with `shuffle`, elements are redistributed round-robin into exactly `numPartitions`.
   */
  coalesce(numPartitions: number, shuffle = false): RDD<T> {
    assertPositiveInt(numPartitions, 'coalesce: numPartitions');
    if (shuffle) {
      return this.mapPartitionsInternal<[number, T]>(
        'repartition',
        lib('repartitionKeys', numPartitions),
        true,
        false,
      )
        .shuffle<[number, T]>('repartition', new DirectPartitioner(numPartitions), undefined, false)
        .values();
    }
    const m = this.getNumPartitions();
    const n = Math.min(numPartitions, Math.max(m, 1));
    const groups = Array.from({ length: m === 0 ? 0 : n }, (_, i) => {
      const g: number[] = [];
      for (let j = Math.floor((i * m) / n); j < Math.floor(((i + 1) * m) / n); j++) g.push(j);
      return g;
    });
    return this.derive<T>({
      className: 'CoalescedRDD',
      op: 'coalesce',
      method: 'coalesce',
      numPartitions: groups.length,
      parents: [this],
      params: { groups },
    });
  }

  /** Pairs [a, b] of elements at the same position. Both RDDs need the same partition sizes. */
  zip<U>(other: RDD<U>): RDD<[T, U]> {
    if (other.getNumPartitions() !== this.getNumPartitions()) {
      throw new InvalidOperationError(
        `Can only zip RDDs with same number of partitions (${this.getNumPartitions()} vs ${other.getNumPartitions()})`,
      );
    }
    return this.derive<[T, U]>({
      className: 'ZippedPartitionsRDD2',
      op: 'zip',
      method: 'zip',
      numPartitions: this.getNumPartitions(),
      parents: [this, other],
      params: {},
    });
  }

  /** Pairs [x, index] with indexes 0..n-1 in partition order (counts partitions when an action runs). */
  zipWithIndex(): RDD<[T, number]> {
    const n = this.getNumPartitions();
    let starts: number[] | undefined = n <= 1 ? [0] : undefined;
    return this.derive<[T, number]>({
      className: 'ZippedWithIndexRDD',
      op: 'mapPartitions',
      method: 'zipWithIndex',
      numPartitions: n,
      parents: [this],
      identity: ['zipWithIndex'],
      params: () => ({ f: lib('zipWithIndex', starts), withIndex: true }),
      prepare: async () => {
        if (starts) return;
        const counts = (await this.ctx.submitJob(
          this,
          lib('count'),
          Array.from({ length: n - 1 }, (_, i) => i),
        )) as number[];
        const s = [0];
        for (const c of counts) s.push(s[s.length - 1]! + c);
        starts = s;
      },
    });
  }

  /** Pairs [x, id] with unique ids k, n+k, 2n+k… in partition k of n (no job needed). */
  zipWithUniqueId(): RDD<[T, number]> {
    return this.mapPartitionsInternal(
      'zipWithUniqueId',
      lib('zipWithUniqueId', this.getNumPartitions()),
      true,
      false,
    );
  }

  /** A random sample: each element kept with probability `fraction` (or drawn Poisson(fraction) times with replacement). */
  sample(withReplacement: boolean, fraction: number, seed?: number): RDD<T> {
    if (!(fraction >= 0)) throw new InvalidOperationError(`Negative fraction value: ${fraction}`);
    return this.mapPartitionsInternal(
      'sample',
      lib('sample', withReplacement, fraction, seed ?? randomSeed()),
      true,
      true,
    );
  }

  /** Splits randomly by `weights` (normalised); the splits are disjoint and cover the RDD. */
  randomSplit(weights: readonly number[], seed?: number): RDD<T>[] {
    if (weights.some((w) => !(w >= 0))) throw new InvalidOperationError('Weights must be nonnegative');
    const total = weights.reduce((a, b) => a + b, 0);
    if (!(total > 0)) throw new InvalidOperationError('Sum of weights must be positive');
    const s = seed ?? randomSeed();
    let lb = 0;
    return weights.map((w) => {
      const ub = lb + w / total;
      const r = this.mapPartitionsInternal<T>('randomSplit', lib('randomSplit', lb, ub, s), true, true);
      lb = ub;
      return r;
    });
  }

  /** Samples a pair RDD with a fraction per key (`fractions`: a Map or an object). */
  sampleByKey<K, V>(
    this: RDD<[K, V]>,
    withReplacement: boolean,
    fractions: ReadonlyMap<K, number> | Readonly<Record<string, number>>,
    seed?: number,
  ): RDD<[K, V]> {
    const flat: unknown[] = [];
    const entries = fractions instanceof Map ? [...fractions] : Object.entries(fractions);
    for (const [k, f] of entries) {
      if (!((f as number) >= 0)) throw new InvalidOperationError(`Negative fraction value: ${String(f)}`);
      flat.push(k, f);
    }
    return this.mapPartitionsInternal(
      'sampleByKey',
      lib('sampleByKey', withReplacement, flat, seed ?? randomSeed()),
      true,
      true,
    );
  }

  /** Pipes each partition through a shell command (one element per line); output lines are the result. */
  pipe(command: string, env?: Readonly<Record<string, string>>, checkCode = false): RDD<string> {
    return this.derive<string>({
      className: 'PipedRDD',
      op: 'mapPartitions',
      method: 'pipe',
      numPartitions: this.getNumPartitions(),
      parents: [this],
      params: { f: lib('pipe', command, env ?? {}, checkCode), withIndex: false },
    });
  }

  // ---------------------------------------------------------------- actions

  private async job(fn: LibFn, partitions?: readonly number[], opts?: RunJobOptions): Promise<unknown[]> {
    return this.ctx.submitJob(this, fn, partitions, opts);
  }

  /** All elements, in partition order. Only for results that fit in the client's memory. */
  async collect(): Promise<T[]> {
    const parts = (await this.job(lib('collect'))) as T[][];
    // concat, not flat(1): V8's flat is about 20x slower on a million elements.
    if (parts.length <= 10_000) return ([] as T[]).concat(...parts);
    const out: T[] = [];
    for (const p of parts) for (let i = 0; i < p.length; i++) out.push(p[i]!);
    return out;
  }

  /** The pairs as a Map (a later duplicate key wins). */
  async collectAsMap<K, V>(this: RDD<[K, V]>): Promise<Map<K, V>> {
    return new Map(await this.collect());
  }

  /** Number of elements. */
  async count(): Promise<number> {
    const parts = (await this.job(lib('count'))) as number[];
    return parts.reduce((a, b) => a + b, 0);
  }

  /** Count of each key, as a Map. */
  async countByKey<K>(this: RDD<[K, unknown]>): Promise<Map<K, number>> {
    return this.keys().countByValue();
  }

  /** Count of each distinct element, as a Map (keys by value; compound keys are the decoded values). */
  async countByValue(): Promise<Map<T, number>> {
    const parts = (await this.job(lib('countByValue'))) as unknown[][];
    const merged = new KeyMap<number>();
    for (const flat of parts)
      for (let i = 0; i < flat.length; i += 2)
        merged.set(flat[i], (merged.get(flat[i]) ?? 0) + (flat[i + 1] as number));
    const out = new Map<T, number>();
    merged.forEach((n, k) => out.set(k as T, n));
    return out;
  }

  /** Reduces with an associative, commutative `f`. Rejects on an empty RDD. */
  async reduce<E = undefined>(f: (a: T, b: T, env: E) => T, env?: E): Promise<T> {
    const [fn] = this.ship('rdd.reduce', env, f);
    const parts = (await this.job(lib('reduce', fn))) as T[][];
    const op = (await this.ctx.localCompiler()).fn(fn!, 2);
    const vals = parts.filter((p) => p.length > 0).map((p) => p[0] as T);
    if (vals.length === 0) throw new EmptyRDDError('Can not reduce() empty RDD');
    return vals.reduce((a, b) => op(a, b) as T);
  }

  /** Folds each partition from a copy of `zeroValue`, then the partition results (Spark's semantics). */
  async fold<E = undefined>(zeroValue: T, op: (a: T, b: T, env: E) => T, env?: E): Promise<T> {
    const [fn] = this.ship('rdd.fold', env, op);
    const parts = (await this.job(lib('fold', zeroValue, fn))) as T[];
    const f = (await this.ctx.localCompiler()).fn(fn!, 2);
    return parts.reduce((a, b) => f(a, b) as T, structuredCloneIfObject(zeroValue));
  }

  /** Aggregates with `seqOp` per partition from a copy of `zeroValue`, then merges with `combOp`. */
  async aggregate<U, E = undefined>(
    zeroValue: U,
    seqOp: (acc: U, x: T, env: E) => U,
    combOp: (a: U, b: U, env: E) => U,
    env?: E,
  ): Promise<U> {
    const [seq, comb] = this.ship('rdd.aggregate', env, seqOp, combOp);
    const parts = (await this.job(lib('fold', zeroValue, seq))) as U[];
    const f = (await this.ctx.localCompiler()).fn(comb!, 2);
    return parts.reduce((a, b) => f(a, b) as U, structuredCloneIfObject(zeroValue));
  }

  /** aggregate in a multi-level tree of depth `depth` (same result, less load on the client). */
  async treeAggregate<U, E = undefined>(
    zeroValue: U,
    seqOp: (acc: U, x: T, env: E) => U,
    combOp: (a: U, b: U, env: E) => U,
    depth = 2,
    env?: E,
  ): Promise<U> {
    if (depth < 1) throw new InvalidOperationError(`Depth cannot be smaller than 1 but got ${depth}.`);
    const [seq, comb] = this.ship('rdd.treeAggregate', env, seqOp, combOp);
    return this.treeAggregateCallables(zeroValue, seq!, comb!, depth);
  }

  private async treeAggregateCallables<U>(
    zeroValue: U,
    seq: Callable,
    comb: Callable,
    depth: number,
  ): Promise<U> {
    if (this.getNumPartitions() === 0) return structuredCloneIfObject(zeroValue);
    let partial: RDD<any> = this.mapPartitionsInternal<U>(
      'treeAggregate',
      lib('treeAggregate', zeroValue, seq),
      false,
      false,
    );
    let n = partial.getNumPartitions();
    const scale = Math.max(Math.ceil(Math.pow(n, 1 / depth)), 2);
    while (n > scale + n / scale) {
      n /= scale;
      const cur = Math.floor(n);
      partial = partial
        .mapPartitionsInternal<[number, U]>('treeAggregate', lib('treeKeys', cur), true, false)
        .reduceByKeyCallable('treeAggregate', comb, new HashPartitioner(cur))
        .values();
    }
    const parts = (await partial.job(lib('reduce', comb))) as U[][];
    const f = (await this.ctx.localCompiler()).fn(comb, 2);
    const vals = parts.filter((p) => p.length > 0).map((p) => p[0] as U);
    return vals.length === 0 ? structuredCloneIfObject(zeroValue) : vals.reduce((a, b) => f(a, b) as U);
  }

  /** reduce in a multi-level tree. Rejects on an empty RDD. */
  async treeReduce<E = undefined>(f: (a: T, b: T, env: E) => T, depth = 2, env?: E): Promise<T> {
    if (depth < 1) throw new InvalidOperationError(`Depth cannot be smaller than 1 but got ${depth}.`);
    const [fn] = this.ship('rdd.treeReduce', env, f);
    const op = lib('treeReduceOp', fn);
    const [value, empty] = await this.elementwise<[T, boolean]>(
      'map',
      'treeReduce',
      lib('pairWith', false),
      false,
    ).treeAggregateCallables<[T | null, boolean]>([null, true], op, op, depth);
    if (empty) throw new EmptyRDDError('Cannot reduce empty RDD.');
    return value as T;
  }

  /** Sum of the elements (0 when empty). */
  async sum(this: RDD<number>): Promise<number> {
    const parts = (await this.job(lib('fold', 0, lib('add')))) as number[];
    return parts.reduce((a, b) => a + b, 0);
  }

  /** Count, mean, variance, min, max and sum in one pass. */
  async stats(this: RDD<number>): Promise<StatCounter> {
    const parts = (await this.job(lib('stats'))) as Array<ReturnType<StatCounter['toState']>>;
    const st = new StatCounter();
    for (const s of parts) st.mergeStats(StatCounter.fromState(s));
    return st;
  }

  /** Mean (NaN when empty). */
  async mean(this: RDD<number>): Promise<number> {
    return (await this.stats()).mean();
  }
  /** Population variance. */
  async variance(this: RDD<number>): Promise<number> {
    return (await this.stats()).variance();
  }
  /** Sample variance (divides by n - 1). */
  async sampleVariance(this: RDD<number>): Promise<number> {
    return (await this.stats()).sampleVariance();
  }
  /** Population standard deviation. */
  async stdev(this: RDD<number>): Promise<number> {
    return (await this.stats()).stdev();
  }
  /** Sample standard deviation. */
  async sampleStdev(this: RDD<number>): Promise<number> {
    return (await this.stats()).sampleStdev();
  }

  private async extreme<E>(
    sign: 1 | -1,
    key: ((x: T, env: E) => unknown) | undefined,
    env: E | undefined,
    where: string,
  ): Promise<T> {
    const [kf] = key ? this.ship(where, env, key) : [undefined];
    const parts = (await this.job(lib('extreme', sign, kf ?? null))) as T[][];
    const vals = parts.filter((p) => p.length > 0).map((p) => p[0] as T);
    if (vals.length === 0) throw new EmptyRDDError(`${where.replace('rdd.', '')}() arg is an empty RDD`);
    const k = kf ? (await this.ctx.localCompiler()).fn(kf, 1) : (x: unknown) => x;
    let best = vals[0] as T;
    let bestKey = k(best);
    for (const v of vals.slice(1)) {
      const kv = k(v);
      if (sign * compare(kv, bestKey) > 0) {
        best = v;
        bestKey = kv;
      }
    }
    return best;
  }

  /** The largest element (by `key(x)` if given). Rejects on an empty RDD. */
  async max<E = undefined>(key?: (x: T, env: E) => unknown, env?: E): Promise<T> {
    return this.extreme(1, key, env, 'rdd.max');
  }

  /** The smallest element (by `key(x)` if given). Rejects on an empty RDD. */
  async min<E = undefined>(key?: (x: T, env: E) => unknown, env?: E): Promise<T> {
    return this.extreme(-1, key, env, 'rdd.min');
  }

  /**
   * Histogram: `buckets` is a count of even buckets between min and max, or sorted bucket
   * boundaries (the last bucket is closed). Returns [buckets, counts].
   */
  async histogram(this: RDD<number | null | undefined>, buckets: number): Promise<[number[], number[]]>;
  async histogram<B>(buckets: readonly B[]): Promise<[B[], number[]]>;
  async histogram(buckets: number | readonly unknown[]): Promise<[unknown[], number[]]> {
    return this.ctx.withAction(async () => {
      const usable = this.elementwise<T>('filter', 'histogram', lib('comparable'), true);
      let bounds: unknown[];
      let even: boolean;
      if (typeof buckets === 'number') {
        if (!Number.isInteger(buckets) || buckets < 1)
          throw new InvalidOperationError('number of buckets must be >= 1');
        // min and max under the engine's order (PySpark compares generally, so strings work too)
        const parts = (await usable.job(lib('minMaxCount'))) as Array<[number, unknown, unknown]>;
        let count = 0;
        let minv: unknown;
        let maxv: unknown;
        for (const [c, lo, hi] of parts) {
          if (c === 0) continue;
          if (count === 0 || compare(lo, minv) < 0) minv = lo;
          if (count === 0 || compare(hi, maxv) > 0) maxv = hi;
          count += c;
        }
        if (count === 0) throw new InvalidOperationError('can not generate buckets from empty RDD');
        if (compare(minv, maxv) === 0 || buckets === 1) return [[minv, maxv], [count]];
        if (typeof minv !== 'number' || typeof maxv !== 'number') {
          throw new InvalidOperationError('Can not generate buckets with non-number in RDD');
        }
        let inc = (maxv - minv) / buckets;
        if (!Number.isFinite(inc))
          throw new InvalidOperationError('Can not generate buckets with infinite value');
        // keep them as integers if possible (PySpark)
        const intInc = Math.trunc(inc);
        if (intInc * buckets === maxv - minv) inc = intInc;
        bounds = Array.from({ length: buckets }, (_, i) => i * inc + minv);
        bounds.push(maxv);
        even = true;
      } else {
        if (buckets.length < 2) throw new InvalidOperationError('buckets should have more than one value');
        if (buckets.some((b) => b === null || b === undefined || (typeof b === 'number' && Number.isNaN(b))))
          throw new InvalidOperationError('can not have None or NaN in buckets');
        for (let i = 1; i < buckets.length; i++) {
          const c = compare(buckets[i - 1], buckets[i]);
          if (c > 0) throw new InvalidOperationError('buckets should be sorted');
          if (c === 0) throw new InvalidOperationError('buckets should not contain duplicated values');
        }
        bounds = [...buckets];
        even = false;
        if (bounds.every((b) => typeof b === 'number')) {
          const nums = bounds;
          const steps = nums.slice(1).map((b, i) => b - nums[i]!);
          even = Math.max(...steps) - Math.min(...steps) < 1e-10;
        }
      }
      const parts = (await usable.job(lib('histogram', bounds, even))) as number[][];
      const counts = new Array<number>(bounds.length - 1).fill(0);
      for (const p of parts) for (let i = 0; i < counts.length; i++) counts[i]! += p[i] ?? 0;
      return [bounds, counts];
    });
  }

  /** The `num` largest elements (by `key(x)` if given), largest first. */
  async top<E = undefined>(num: number, key?: (x: T, env: E) => unknown, env?: E): Promise<T[]> {
    return this.ordered(num, key, env, true, 'rdd.top');
  }

  /** The `num` smallest elements (by `key(x)` if given), in ascending order. */
  async takeOrdered<E = undefined>(num: number, key?: (x: T, env: E) => unknown, env?: E): Promise<T[]> {
    return this.ordered(num, key, env, false, 'rdd.takeOrdered');
  }

  private async ordered<E>(
    num: number,
    key: ((x: T, env: E) => unknown) | undefined,
    env: E | undefined,
    descending: boolean,
    where: string,
  ): Promise<T[]> {
    const [kf] = key ? this.ship(where, env, key) : [undefined];
    if (num < 0 && !descending) throw new InvalidOperationError('top N cannot be negative.');
    if (num <= 0) return [];
    const parts = (await this.job(lib('takeOrdered', num, kf ?? null, descending))) as T[][];
    const k = kf ? (await this.ctx.localCompiler()).fn(kf, 1) : (x: unknown) => x;
    const cmp = descending ? compareDescending : compare;
    const all = parts.flat(1).map((x) => ({ k: k(x), x: x }));
    all.sort((a, b) => cmp(a.k, b.k));
    return all.slice(0, num).map((e) => e.x);
  }

  /**
   * The first `num` elements, scanning partitions incrementally (1, then up to 4x more each round,
   * as Spark does), so the answer is the same whatever the partitioning.
   */
  async take(num: number): Promise<T[]> {
    if (!Number.isInteger(num) || num < 0)
      throw new InvalidOperationError(`take: num must be a non-negative integer, got ${num}`);
    return this.ctx.withAction(async () => {
      const buf: T[] = [];
      const total = this.getNumPartitions();
      let scanned = 0;
      while (buf.length < num && scanned < total) {
        let tryParts = 1;
        if (scanned > 0) {
          tryParts =
            buf.length === 0
              ? scanned * 4
              : Math.min(Math.max(Math.floor((1.5 * num * scanned) / buf.length) - scanned, 1), scanned * 4);
        }
        const left = num - buf.length;
        const parts = Array.from(
          { length: Math.min(scanned + tryParts, total) - scanned },
          (_, i) => scanned + i,
        );
        const res = (await this.job(lib('take', left), parts)) as T[][];
        for (const r of res) for (const x of r) if (buf.length < num) buf.push(x);
        scanned += tryParts;
      }
      return buf;
    });
  }

  /** The first element. Rejects on an empty RDD. */
  async first(): Promise<T> {
    const r = await this.take(1);
    if (r.length === 0) throw new EmptyRDDError('RDD is empty');
    return r[0] as T;
  }

  /** Whether the RDD has no elements. */
  async isEmpty(): Promise<boolean> {
    return this.getNumPartitions() === 0 || (await this.take(1)).length === 0;
  }

  /** The values of `key` (only the key's partition is scanned when the partitioner is known). */
  async lookup<K, V>(this: RDD<[K, V]>, key: K): Promise<V[]> {
    const p = this.partitioner?.partitionOf(key);
    const parts = (await this.job(lib('lookup', key), p === undefined ? undefined : [p])) as V[][];
    return parts.flat(1);
  }

  /** Runs `f` on every element, on the workers. */
  async foreach<E = undefined>(f: (x: T, env: E) => void | PromiseLike<void>, env?: E): Promise<void> {
    const [fn] = this.ship('rdd.foreach', env, f);
    // An async f is awaited like a map's (a window of elements in flight), its results dropped.
    if ((fn as FnEnvelope).async) await this.elementwise('map', 'foreach', fn, false).job(lib('count'));
    else await this.job(lib('foreach', fn));
  }

  /** Runs `f` on each partition's iterator, on the workers. */
  async foreachPartition<E = undefined>(
    f: (it: Iter<T>, env: E) => void | Promise<void>,
    env?: E,
  ): Promise<void> {
    const [fn] = this.ship('rdd.foreachPartition', env, f);
    await this.job(lib('foreachPartition', fn));
  }

  /**
   * Writes each partition as a text file `path/part-NNNNN` (one line per element, `String(x)` or
   * JSON for objects), then `path/_SUCCESS`; rejects if `path` exists. Compression: `'gzip'`
   * (PySpark's codec class name also works). By default the workers send their parts back and
   * this process writes them; with `{ onWorkers: true }` each worker writes its parts to its own
   * disk at the same absolute path (for storage every machine shares, such as NFS).
   */
  async saveAsTextFile(
    path: string,
    options?: string | { readonly compression?: 'gzip'; readonly onWorkers?: boolean },
  ): Promise<void> {
    const codec = typeof options === 'string' ? options : options?.compression;
    const onWorkers = typeof options === 'object' && options.onWorkers === true;
    const gzip = codec !== undefined && /gzip/i.test(codec);
    if (codec !== undefined && !gzip) {
      throw new InvalidOperationError(`unsupported compression codec ${codec}; use 'gzip'`);
    }
    const exists = await stat(path).then(
      () => true,
      () => false,
    );
    if (exists) throw new InvalidOperationError(`Output directory ${path} already exists`);
    if (onWorkers) {
      const dir = resolvePath(path);
      await this.job(lib('writeTextPart', dir, gzip));
      await mkdir(dir, { recursive: true });
      await rm(join(dir, '_temporary'), { recursive: true, force: true });
      await writeFile(join(dir, '_SUCCESS'), '');
      return;
    }
    const parts = (await this.job(lib('textPart', gzip))) as Uint8Array[];
    await mkdir(path, { recursive: true });
    await Promise.all(
      parts.map((b, i) => writeFile(join(path, `${partFileName(i)}${gzip ? '.gz' : ''}`), b)),
    );
    await writeFile(join(path, '_SUCCESS'), '');
  }

  /** A sample of exactly `num` elements (fewer if the RDD is smaller without replacement), shuffled. */
  async takeSample(withReplacement: boolean, num: number, seed?: number): Promise<T[]> {
    if (num < 0) throw new InvalidOperationError('Sample size cannot be negative.');
    return this.ctx.withAction(async () => {
      if (num === 0 || this.getNumPartitions() === 0) return [];
      const total = await this.count();
      if (total === 0) return [];
      const rand = mulberry32(seed ?? randomSeed());
      if (!withReplacement && num >= total) return shuffleInPlace(await this.collect(), rand);
      const fraction = fractionForSampleSize(num, total, withReplacement);
      let samples = await this.sample(withReplacement, fraction, Math.floor(rand() * 2 ** 31)).collect();
      for (let attempt = 0; samples.length < num && attempt < 100; attempt++) {
        samples = await this.sample(withReplacement, fraction, Math.floor(rand() * 2 ** 31)).collect();
      }
      return shuffleInPlace(samples, rand).slice(0, num);
    });
  }

  /** Iterates over the elements, fetching one partition at a time. */
  async *toLocalIterator(): AsyncGenerator<T, void, undefined> {
    for (let p = 0; p < this.getNumPartitions(); p++) {
      const [part] = (await this.job(lib('collect'), [p])) as T[][];
      yield* part ?? [];
    }
  }

  /**
   * The approximate number of distinct elements (HyperLogLog, as Spark's `countApproxDistinct`):
   * precision p = ceil(2·log2(1.054 / relativeSD)), at least 4; elements are hashed by value with a
   * stable 64-bit hash, so equal values count once whatever their partition. `relativeSD` must be
   * greater than 0.000017 (and at least about 0.00026 here, 2^24 registers).
   */
  async countApproxDistinct(relativeSD = 0.05): Promise<number> {
    const p = precisionFor(relativeSD);
    const parts = (await this.job(lib('hyperLogLog', p))) as Uint8Array[];
    const hll = new HyperLogLog(p);
    for (const r of parts) hll.merge(r);
    return hll.cardinality();
  }

  /** Reduces the values of each key with `f` and returns the result to the client as a Map (PySpark's dict). */
  async reduceByKeyLocally<K, V, E = undefined>(
    this: RDD<[K, V]>,
    f: (a: V, b: V, env: E) => V,
    env?: E,
  ): Promise<Map<K, V>> {
    const [fn] = this.ship('rdd.reduceByKeyLocally', env, f);
    const local = this.mapPartitionsInternal<[K, V]>(
      'reduceByKeyLocally',
      lib('aggregateLocal', null, fn),
      false,
      false,
    );
    const parts = (await local.job(lib('collect'))) as Array<Array<[K, V]>>;
    const op = (await this.ctx.localCompiler()).fn(fn!, 2) as (a: V, b: V) => V;
    const merged = new KeyMap<V>();
    for (const part of parts) {
      for (const [k, v] of part) merged.set(k, merged.has(k) ? op(merged.get(k) as V, v) : v);
    }
    const out = new Map<K, V>();
    merged.forEach((v, k) => out.set(k as K, v));
    return out;
  }

  /** Count within `timeoutMs`: exact if the job finishes in time, else an estimate. */
  async countApprox(timeoutMs: number, confidence = 0.95): Promise<number> {
    const r = await this.elementwise<number>('map', 'countApprox', lib('one'), false).sumApprox(
      timeoutMs,
      confidence,
    );
    return Math.round(r.valueOf());
  }

  /** Sum within `timeoutMs`, with a confidence interval (exact, with low = high, if the job finishes). */
  async sumApprox(this: RDD<number>, timeoutMs: number, confidence = 0.95): Promise<BoundedFloat> {
    return this.approx(timeoutMs, confidence, 'sum');
  }

  /** Mean within `timeoutMs`, with a confidence interval. */
  async meanApprox(this: RDD<number>, timeoutMs: number, confidence = 0.95): Promise<BoundedFloat> {
    return this.approx(timeoutMs, confidence, 'mean');
  }

  private async approx(
    this: RDD<number>,
    timeoutMs: number,
    confidence: number,
    what: 'sum' | 'mean',
  ): Promise<BoundedFloat> {
    const done: Array<readonly [number, ReturnType<StatCounter['toState']>]> = [];
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      await this.job(lib('stats'), undefined, {
        signal: abort.signal,
        onPartition: (i, r) => done.push([i, r as never]),
      });
    } catch (e) {
      if (!abort.signal.aborted) throw e;
    } finally {
      clearTimeout(timer);
    }
    // Merged in partition order, not arrival order: the same partitions give the same floats.
    done.sort((a, b) => a[0] - b[0]);
    return estimateSum(
      done.map(([, s]) => StatCounter.fromState(s)),
      this.getNumPartitions(),
      confidence,
      what,
    );
  }
}

function structuredCloneIfObject<V>(v: V): V {
  return typeof v === 'object' && v !== null ? structuredClone(v) : v;
}

function shuffleInPlace<V>(a: V[], rand: () => number): V[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** PySpark's _computeFractionForSampleSize: a fraction that yields at least `num` with high probability. */
function fractionForSampleSize(num: number, total: number, withReplacement: boolean): number {
  const fraction = num / total;
  if (withReplacement) {
    const numStDev = num < 12 ? 9 : 5;
    return fraction + numStDev * Math.sqrt(fraction / total);
  }
  const delta = 0.00005;
  const gamma = -Math.log(delta) / total;
  return Math.min(1, fraction + gamma + Math.sqrt(gamma * gamma + 2 * gamma * fraction));
}

/** The union of several RDDs (partitions concatenated). */
export function unionOf<T>(ctx: RDDContext, rdds: readonly RDD<any>[], method: string): RDD<T> {
  return new RDD<T>(ctx, {
    className: 'UnionRDD',
    op: 'union',
    method,
    numPartitions: rdds.reduce((s, r) => s + r.getNumPartitions(), 0),
    parents: rdds,
    params: { counts: rdds.map((r) => r.getNumPartitions()) },
  });
}
