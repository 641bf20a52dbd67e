/**
 * The task runner: executes one task (a partition of a node of a lineage) and returns its output.
 * Shared by every execution mode: in process, and on the worker threads of worker daemons.
 *
 * Execution is push-based. Each node compiles to `(partition, emit) => Promise<void>`; a chain of
 * elementwise operations (map, filter, flatMap, mapValues, …) is generated as ONE function, so a
 * narrow chain is a single fused loop over the partition with no generator or promise per record.
 * Shuffle output is combined map-side into one bucket per reduce partition, the buckets stored as
 * one map output with an index (map-output.ts); shuffle input, cached
 * blocks, client-hosted data and broadcast values are read through {@link TaskServices}.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { GCProfiler } from 'node:v8';
import { isMainThread } from 'node:worker_threads';
import { decode, encode } from '../protocol/codec.js';
import { InvalidOperationError } from '../protocol/errors.js';
import { BucketWriter, forEachElement, forEachPair } from './bucket.js';
import { Compiler } from './compile.js';
import { readRecords, readTextSplit, readWholeFile, type FileSplit } from './file-input.js';
import type { LibFn } from './functions.js';
import { hashPartition } from './key-hash.js';
import { Combiners, KeyMap } from './key-map.js';
import { packMapOutput, type MapOutput } from './map-output.js';
import { PartitionIterator } from './partition-iterator.js';
import { LIBRARY, StopEmit, toText, type PartitionOp, type Sink } from './library.js';
import {
  blockId,
  type ElementwiseOp,
  type NodeOf,
  type NodeOp,
  type NodeSpec,
  type PartitionerSpec,
  type ShuffleSpec,
  type TaskDesc,
} from './lineage.js';
import { compare } from './ordering.js';
import type { ColumnSection } from '../sql/exec/sections.js';
import type { EngineOperator } from '../sql/exec/profile.js';

/** Where a task reads what it does not compute. Implemented in-process and by the network layer. */
export interface TaskServices {
  /** One slice of client-hosted `parallelize` data (msgpack array). */
  readSlice(dataId: string, slice: number): Promise<Uint8Array>;
  /** The buckets of reduce partition `reducePartition` from every map task of a shuffle, in map order. */
  readShuffle(shuffleId: string, reducePartition: number, numMaps: number): Promise<ShuffleRead>;
  /** A stored block (a persisted partition), or undefined if it is not stored. */
  readBlock(id: string): Promise<Uint8Array | undefined>;
  /** The value of a broadcast variable. */
  broadcastValue(id: string): Promise<unknown>;
}

/**
 * What a reducer read of one shuffle: every map task's bucket, and where the bytes came from
 * (Spark's local and remote shuffle read metrics). A block is a non-empty bucket (an empty one
 * costs no read: its size is in the map output's index or record).
 */
export interface ShuffleRead {
  /** Map m's bucket at index m (empty: zero bytes). */
  readonly buckets: Uint8Array[];
  /** Bytes and blocks read from the reading worker's own store (in process: every one). */
  readonly localBytes: number;
  readonly localBlocks: number;
  /** Bytes and blocks fetched from other peers. */
  readonly remoteBytes: number;
  readonly remoteBlocks: number;
}

/** The column section of one output batch of a SQL node. */
export interface TaskSection {
  readonly node: string;
  readonly partition: number;
  readonly reduce: number;
  readonly section: ColumnSection;
}

/**
 * What a task measured about itself (Spark's TaskMetrics, flat): times in ms, sizes in bytes.
 * Input is what it read from files, checkpoints and stored blocks (as Spark counts it, not
 * `parallelize` data); output is what a save wrote; `sqlRows`/`sqlBytes` the rows and bytes of a SQL stage's output batches.
 */
export interface TaskMetrics {
  /** Wall time of the task's run in its thread (Spark's executorRunTime). */
  readonly executorRunTime: number;
  /** Time its thread spent in garbage collection while it ran (V8's GC profiler). */
  readonly gcTime: number;
  /**
   * CPU time of its thread while it ran, in ns as Spark's executorCpuTime: only where the task
   * had its thread alone (a worker daemon's task thread, on Linux); absent where not measured.
   */
  readonly executorCpuTime?: number;
  /** Time it waited parked (holding no slot) for map outputs before it ran (set by its worker). */
  readonly parkedTime: number;
  readonly inputBytes: number;
  readonly inputRecords: number;
  readonly outputBytes: number;
  readonly outputRecords: number;
  readonly shuffleReadBytes: number;
  readonly shuffleReadRecords: number;
  /** Of the shuffle read, bytes and non-empty buckets read from the task's own worker (Spark's localBytesRead, localBlocksFetched). */
  readonly shuffleLocalBytesRead: number;
  readonly shuffleLocalBlocksFetched: number;
  /** Of the shuffle read, bytes and non-empty buckets fetched from other workers (remoteBytesRead, remoteBlocksFetched). */
  readonly shuffleRemoteBytesRead: number;
  readonly shuffleRemoteBlocksFetched: number;
  /** Time spent waiting for shuffle map outputs to arrive (Spark's fetchWaitTime). */
  readonly shuffleFetchWaitTime: number;
  readonly shuffleWriteBytes: number;
  readonly shuffleWriteRecords: number;
  /** Rows of the SQL batches the task produced (0 for RDD tasks). */
  readonly sqlRows: number;
  /** Bytes of those batches (Parquet). */
  readonly sqlBytes: number;
  /**
   * DuckDB's physical operators of the task's SQL fragments, in the order they ran (each a
   * pre-order list): only with `spark.microspark.sql.operatorMetrics` on. Not a counter.
   */
  readonly sqlOperators?: EngineOperator[];
}

/** A task's counters while it runs (see {@link TaskMetrics}). */
/** Task metrics as counters that add up (a task's, a stage's, an executor's totals). */
export type MetricCounters = { -readonly [K in Exclude<keyof TaskMetrics, 'sqlOperators'>]-?: number };

/** All-zero counters. */
export function zeroMetrics(): MetricCounters {
  return {
    executorRunTime: 0,
    gcTime: 0,
    // A total over the tasks that measured it (a task's own is set only where measured).
    executorCpuTime: 0,
    parkedTime: 0,
    inputBytes: 0,
    inputRecords: 0,
    outputBytes: 0,
    outputRecords: 0,
    shuffleReadBytes: 0,
    shuffleReadRecords: 0,
    shuffleLocalBytesRead: 0,
    shuffleLocalBlocksFetched: 0,
    shuffleRemoteBytesRead: 0,
    shuffleRemoteBlocksFetched: 0,
    shuffleFetchWaitTime: 0,
    shuffleWriteBytes: 0,
    shuffleWriteRecords: 0,
    sqlRows: 0,
    sqlBytes: 0,
  };
}

/** What a task produces. */
export interface TaskResult {
  /** For result tasks: the sink's result. */
  readonly result?: unknown;
  /** For shuffle map tasks: the buckets (bucket.ts, or Parquet for SQL) as one indexed map output. */
  readonly mapOutput?: MapOutput;
  /** Blocks of persisted partitions computed along the way. */
  readonly blocks: ReadonlyArray<readonly [string, Uint8Array]>;
  /** Accumulator updates: [accumulator id, this task's local value]. */
  readonly accumulators: ReadonlyArray<readonly [string, unknown]>;
  /** Column sections of the SQL batches computed: by node, partition and reduce partition. */
  readonly sections?: readonly TaskSection[];
  /** What the task measured (always set by {@link runTask}). */
  readonly metrics?: TaskMetrics;
}

type Emit = (x: unknown) => void;
const EMPTY = new Uint8Array(0);
type Compute = ((partition: number, emit: Emit) => Promise<void>) & {
  /** The partition as one array of this task's own, where the node has it whole (persisted nodes). */
  collect?: (partition: number) => Promise<unknown[]>;
  /**
   * The partition's records as key and value, checked to be pairs, where the node can hand them
   * on without an array per record (elementwise chains): for shuffles by key.
   */
  pairs?: (partition: number, emit: PairEmit) => Promise<void>;
};
type Fn = (...args: any[]) => any;

const ELEMENTWISE: ReadonlySet<NodeOp> = new Set<ElementwiseOp>([
  'map',
  'filter',
  'flatMap',
  'mapValues',
  'flatMapValues',
  'keyBy',
  'keys',
  'values',
  'identity',
]);

/** An elementwise node: fused with its elementwise parents into one loop. */
type ElementwiseNode = Extract<NodeSpec, { op: ElementwiseOp }>;

/** Whether `node` is elementwise: it fuses with its elementwise parents into one loop. */
function isElementwise(node: NodeSpec | undefined): node is ElementwiseNode {
  return node !== undefined && ELEMENTWISE.has(node.op);
}

/** What a chain feeding a shuffle by key calls with each record's key and value. */
type PairEmit = (k: unknown, v: unknown) => void;

/**
 * Generates the fused function of an elementwise chain (bottom operation first). With `pairs`,
 * the function emits each record's key and value as two arguments (`emit(k, v)`), checking it is
 * a pair; a last `mapValues`, `keyBy` or `flatMapValues` then builds no array, nor a last `map`
 * whose function is given in its pair form (`lastPairFn`, compile.ts `pairFn`).
 */
function fusedFactory(
  kinds: readonly string[],
  pairs = false,
  lastPairFn = false,
): (fns: readonly (Fn | undefined)[], emit: Fn) => Emit {
  const n = kinds.length;
  let body = pairs ? `const p = v${n};\nif (!isPair(p)) notAPair(p);\nemit(p[0], p[1]);` : `emit(v${n});`;
  let top = n - 1;
  if (pairs && n > 0) {
    const a = `v${top}`;
    const f = `f${top}`;
    let last: string | undefined;
    switch (kinds[top]) {
      case 'map':
        if (lastPairFn) last = `${f}(emit, ${a});`;
        break;
      case 'mapValues':
        last = `emit(${a}[0], ${f}(${a}[1]));`;
        break;
      case 'keyBy':
        last = `emit(${f}(${a}), ${a});`;
        break;
      case 'flatMapValues':
        last = `const k${top} = ${a}[0];\nfor (const w${top} of ${f}(${a}[1])) {\nemit(k${top}, w${top});\n}`;
        break;
    }
    if (last !== undefined) {
      body = last;
      top--;
    }
  }
  for (let i = top; i >= 0; i--) {
    const a = `v${i}`;
    const b = `v${i + 1}`;
    const f = `f${i}`;
    switch (kinds[i]) {
      case 'map':
        body = `const ${b} = ${f}(${a});\n${body}`;
        break;
      case 'filter':
        body = `if (${f}(${a})) {\nconst ${b} = ${a};\n${body}\n}`;
        break;
      case 'flatMap':
        body = `for (const ${b} of ${f}(${a})) {\n${body}\n}`;
        break;
      case 'mapValues':
        body = `const ${b} = [${a}[0], ${f}(${a}[1])];\n${body}`;
        break;
      case 'flatMapValues':
        body = `const k${i} = ${a}[0];\nfor (const w${i} of ${f}(${a}[1])) {\nconst ${b} = [k${i}, w${i}];\n${body}\n}`;
        break;
      case 'keyBy':
        body = `const ${b} = [${f}(${a}), ${a}];\n${body}`;
        break;
      case 'keys':
        body = `const ${b} = ${a}[0];\n${body}`;
        break;
      case 'values':
        body = `const ${b} = ${a}[1];\n${body}`;
        break;
      case 'identity':
        body = `const ${b} = ${a};\n${body}`;
        break;
      default:
        throw new InvalidOperationError(`not an elementwise operation: ${kinds[i]}`);
    }
  }
  const names = kinds.map((_, i) => `f${i}`);
  const src = `const [${names.join(', ')}] = fns;\nreturn function fused(v0) {\n${body}\n};\n//# sourceURL=microspark-fused-chain`;
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the fused loop is generated code by design
  const make = new Function('fns', 'emit', 'isPair', 'notAPair', src) as (
    fns: readonly (Fn | undefined)[],
    emit: Fn,
    isPair: (x: unknown) => boolean,
    notAPair: (x: unknown) => never,
  ) => Emit;
  return (fns, emit) => make(fns, emit, isPair, notAPair);
}

/** Whether `x` is a `[key, value]` pair (an array of two elements). */
function isPair(x: unknown): x is readonly [unknown, unknown] {
  return Array.isArray(x) && x.length === 2;
}

/**
 * The SQL fragment runner, loaded the first time a SQL stage runs in this thread (DuckDB stays
 * unloaded for RDD tasks); the same promise after, as a dynamic import costs a resolution each time.
 */
let fragment: Promise<typeof import('../sql/exec/fragment.js')> | undefined;
function fragmentModule(): Promise<typeof import('../sql/exec/fragment.js')> {
  return (fragment ??= import('../sql/exec/fragment.js'));
}

/** Partitions of a persisted parent a coalesced partition reads at once. */
const COALESCE_READ_AHEAD = 4;
const EMPTY_READ: Promise<unknown[]> = Promise.resolve([]);

/** Elements of a partition an async chain has in flight at once (their results are emitted in order). */
export const ASYNC_CONCURRENCY = 16;

/** The values of what a flatMap function returned: an iterable, or an async iterable (async generator). */
async function eachOf(r: unknown, f: (x: unknown) => Promise<void>): Promise<void> {
  if (r != null && typeof (r as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
    for await (const x of r as AsyncIterable<unknown>) await f(x);
    return;
  }
  if (r == null || typeof (r as Iterable<unknown>)[Symbol.iterator] !== 'function')
    throw new InvalidOperationError(`flatMap: the function must return an iterable, got ${preview(r)}`);
  for (const x of r as Iterable<unknown>) await f(x);
}

/**
 * The per-element function of an elementwise chain holding an async function: each element goes
 * through the whole chain, awaiting what the functions return, and its outputs are pushed to `out`.
 */
function asyncElement(kinds: readonly string[], fns: readonly (Fn | undefined)[]) {
  const n = kinds.length;
  const step = async (v: unknown, i: number, out: unknown[]): Promise<void> => {
    for (; i < n; i++) {
      const f = fns[i]!;
      switch (kinds[i]) {
        case 'map':
          v = await f(v);
          break;
        case 'filter':
          if (!(await f(v))) return;
          break;
        case 'mapValues': {
          const kv = v as unknown[];
          v = [kv[0], await f(kv[1])];
          break;
        }
        case 'keyBy':
          v = [await f(v), v];
          break;
        case 'keys':
          v = (v as unknown[])[0];
          break;
        case 'values':
          v = (v as unknown[])[1];
          break;
        case 'identity':
          break;
        case 'flatMap': {
          const next = i + 1;
          await eachOf(await f(v), (x) => step(x, next, out));
          return;
        }
        case 'flatMapValues': {
          const kv = v as unknown[];
          const next = i + 1;
          await eachOf(await f(kv[1]), (w) => step([kv[0], w], next, out));
          return;
        }
        default:
          throw new InvalidOperationError(`not an elementwise operation: ${kinds[i]}`);
      }
    }
    out.push(v);
  };
  return (v: unknown): Promise<unknown[]> => {
    const out: unknown[] = [];
    return step(v, 0, out).then(() => out);
  };
}

/** What a one-output element function gives for an element a filter dropped. */
const SKIP: unique symbol = Symbol('skip');

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return (
    (typeof x === 'object' || typeof x === 'function') &&
    x !== null &&
    typeof (x as { then?: unknown }).then === 'function'
  );
}

/** Kinds whose element gives at most one output: their async chains need no output array. */
const SINGLE_OUTPUT: ReadonlySet<string> = new Set([
  'map',
  'filter',
  'mapValues',
  'keyBy',
  'keys',
  'values',
  'identity',
]);

/**
 * The per-element function of an elementwise chain holding an async function, where each
 * operation gives at most one output (no flatMap): it runs the chain synchronously until a
 * function returns a promise (or thenable), and only then continues when that settles. It gives
 * the output, {@link SKIP} for an element a filter dropped, or a promise of one of these; a
 * synchronous throw is the element's failure.
 */
function singleElement(kinds: readonly string[], fns: readonly (Fn | undefined)[]): (v: unknown) => unknown {
  const n = kinds.length;
  const next = (v: unknown, i: number): unknown => {
    for (; i < n; i++) {
      const f = fns[i]!;
      const j = i + 1;
      switch (kinds[i]) {
        case 'map': {
          const r: unknown = f(v);
          // The chain's last function: its promise is the element's (no extra step to settle).
          if (isThenable(r)) return j === n ? r : Promise.resolve(r).then((x) => next(x, j));
          v = r;
          break;
        }
        case 'filter': {
          const r: unknown = f(v);
          const x = v;
          if (isThenable(r)) return Promise.resolve(r).then((keep) => (keep ? next(x, j) : SKIP));
          if (!r) return SKIP;
          break;
        }
        case 'mapValues': {
          const kv = v as unknown[];
          const r: unknown = f(kv[1]);
          if (isThenable(r)) return Promise.resolve(r).then((x) => next([kv[0], x], j));
          v = [kv[0], r];
          break;
        }
        case 'keyBy': {
          const x = v;
          const r: unknown = f(x);
          if (isThenable(r)) return Promise.resolve(r).then((k) => next([k, x], j));
          v = [r, x];
          break;
        }
        case 'keys':
          v = (v as unknown[])[0];
          break;
        case 'values':
          v = (v as unknown[])[1];
          break;
        case 'identity':
          break;
        default:
          throw new InvalidOperationError(`not a one-output elementwise operation: ${kinds[i]}`);
      }
    }
    return v;
  };
  return (v) => next(v, 0);
}

/**
 * Runs `element` over what `base` emits with at most `limit` elements in flight, emitting their
 * outputs in input order. `element` gives (or a promise of) one output or {@link SKIP} (`single`),
 * or an array of outputs; an element that gives no promise is done at once. The first error (of
 * an element, of `base` or of `emit`) rejects.
 */
function windowed(base: Compute, element: (v: unknown) => unknown, single: boolean, limit: number): Compute {
  return (part, emit) =>
    new Promise<void>((resolve, reject) => {
      const input: unknown[] = [];
      let inHead = 0;
      // Started elements not yet emitted, oldest first, in a ring of `limit` slots: `done[i]` is
      // set when slot i's element has its result in `results[i]`.
      const results: unknown[] = new Array<unknown>(limit).fill(undefined);
      const done: boolean[] = new Array<boolean>(limit).fill(false);
      let first = 0; // the oldest slot
      let inFlight = 0;
      let baseDone = false;
      let failed = false;
      let failure: unknown;
      let pumping = false;
      const fail = (e: unknown) => {
        if (failed) return;
        failed = true;
        failure = e;
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- user code may throw non-Errors; runTask's caller wraps them
        reject(e);
      };
      const settle = (slot: number, r: unknown) => {
        results[slot] = r;
        done[slot] = true;
      };
      // One settle-and-pump handler per slot, made once: no closure per element.
      const settled = Array.from({ length: limit }, (_, slot) => (x: unknown) => {
        settle(slot, x);
        pump();
      });
      const pump = () => {
        if (failed || pumping) return;
        pumping = true;
        try {
          for (;;) {
            while (inFlight > 0 && done[first]) {
              const r = results[first];
              results[first] = undefined;
              done[first] = false;
              first = first + 1 === limit ? 0 : first + 1;
              inFlight--;
              if (single) {
                if (r !== SKIP) emit(r);
              } else {
                const out = r as unknown[];
                for (let i = 0; i < out.length; i++) emit(out[i]);
              }
            }
            if (inFlight >= limit || inHead >= input.length) break;
            const v = input[inHead];
            input[inHead++] = undefined;
            if (inHead > 1024 && inHead * 2 > input.length) {
              input.splice(0, inHead);
              inHead = 0;
            }
            let slot = first + inFlight;
            if (slot >= limit) slot -= limit;
            inFlight++;
            const r = element(v);
            if (isThenable(r)) void Promise.resolve(r).then(settled[slot], fail);
            else settle(slot, r);
          }
        } catch (e) {
          fail(e);
          return;
        } finally {
          pumping = false;
        }
        if (baseDone && inFlight === 0 && inHead >= input.length) resolve();
      };
      base(part, (x) => {
        if (failed) throw failure; // stops the source too
        input.push(x);
        if (inFlight < limit) pump();
      }).then(() => {
        baseDone = true;
        pump();
      }, fail);
    });
}

function preview(x: unknown): string {
  const s = toText(x);
  return s.length > 60 ? s.slice(0, 60) + '…' : s;
}

function notAPair(kv: unknown): never {
  throw new InvalidOperationError(
    `this operation shuffles by key and needs [key, value] pairs, but got ${preview(kv)} ` +
      `(${Array.isArray(kv) ? `an array of length ${kv.length}` : typeof kv}). Use map((x) => [key, value]) first.`,
  );
}

function isOrdinaryNumber(x: unknown): x is number {
  return typeof x === 'number' && x === x;
}

/** Up to this many numbers per key, keys of numbers are sorted through a typed column copy. */
const MAX_COLUMNS = 8;

/**
 * The stable sort order of `keys` (indexes, equal keys in input order) by {@link compare}, or its
 * reverse. Keys that are all numbers, or all arrays of the same length of numbers (NaN excluded),
 * are copied into a Float64Array first, so the comparisons read one compact array instead of
 * chasing pointers through the heap; others are compared by {@link compare}.
 */
export function sortOrder(keys: readonly unknown[], ascending: boolean): Uint32Array {
  const n = keys.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const first = keys[0];
  let width = isOrdinaryNumber(first)
    ? 1
    : Array.isArray(first) && first.length <= MAX_COLUMNS
      ? -first.length
      : 0;
  let cols: Float64Array | undefined;
  if (width !== 0) {
    const arrays = width < 0;
    width = Math.abs(width);
    cols = new Float64Array(n * Math.max(width, 1));
    for (let i = 0; i < n && cols; i++) {
      const k = keys[i];
      if (!arrays) {
        if (isOrdinaryNumber(k)) cols[i] = k;
        else cols = undefined;
        continue;
      }
      if (!Array.isArray(k) || k.length !== width) {
        cols = undefined;
        continue;
      }
      for (let c = 0; c < width; c++) {
        const x: unknown = k[c];
        if (!isOrdinaryNumber(x)) {
          cols = undefined;
          break;
        }
        cols[i * width + c] = x;
      }
    }
  }
  const sign = ascending ? 1 : -1;
  const packed = cols ? packedOrder(cols, width, n, ascending) : undefined;
  if (packed) return packed;
  if (cols && width === 1) {
    const col = cols;
    order.sort((i, j) => {
      const a = col[i]!;
      const b = col[j]!;
      return a < b ? -sign : a > b ? sign : i - j;
    });
  } else if (cols) {
    const col = cols;
    const w = width;
    order.sort((i, j) => {
      for (let c = 0, x = i * w, y = j * w; c < w; c++, x++, y++) {
        const a = col[x]!;
        const b = col[y]!;
        if (a !== b) return a < b ? -sign : sign;
      }
      return i - j;
    });
  } else {
    order.sort((i, j) => sign * compare(keys[i], keys[j]) || i - j);
  }
  return order;
}

/**
 * The stable sort order of `n` keys of `w` numbers each (row after row in `cols`) when they are
 * all integers whose ranges, with the index, fit in 53 bits: each key and its index are packed into
 * one exact integer (columns offset by their minimum, or reversed from their maximum when
 * descending; the index last, so equal keys keep input order) and the packed numbers are sorted
 * natively, with no comparator calls. Undefined when they do not fit.
 */
function packedOrder(cols: Float64Array, w: number, n: number, ascending: boolean): Uint32Array | undefined {
  if (n < 2) return undefined;
  const min = new Float64Array(w).fill(Infinity);
  const max = new Float64Array(w).fill(-Infinity);
  for (let i = 0; i < n * w; i += w) {
    for (let c = 0; c < w; c++) {
      const x = cols[i + c]!;
      if (!Number.isInteger(x)) return undefined;
      if (x < min[c]!) min[c] = x;
      if (x > max[c]!) max[c] = x;
    }
  }
  const bitsFor = (span: number): number => {
    let b = 0;
    while (b < 54 && 2 ** b <= span) b++;
    return b;
  };
  const indexBits = bitsFor(n - 1);
  const scale = new Float64Array(w);
  let bits = indexBits;
  for (let c = 0; c < w; c++) {
    const b = bitsFor(max[c]! - min[c]!);
    scale[c] = 2 ** b;
    bits += b;
  }
  if (bits > 53) return undefined;
  const indexScale = 2 ** indexBits;
  const keys = new Float64Array(n);
  for (let i = 0, r = 0; i < n; i++, r += w) {
    let v = 0;
    for (let c = 0; c < w; c++)
      v = v * scale[c]! + (ascending ? cols[r + c]! - min[c]! : max[c]! - cols[r + c]!);
    keys[i] = v * indexScale + i;
  }
  keys.sort();
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = keys[i]! % indexScale;
  return order;
}

/** One task's execution state: compiled nodes, blocks stored along the way. */
class TaskRun {
  private readonly computes = new Map<string, Compute>();
  readonly blocks: Array<readonly [string, Uint8Array]> = [];
  readonly sections: TaskSection[] = [];
  /** A range partitioner's sampling job over a text file: its splits are read in windows. */
  sampling = false;
  /** The fraction of the split the windows covered (1: the whole split was read). */
  sampledFraction = 1;
  readonly m: MetricCounters = zeroMetrics();
  /** DuckDB's operators of the SQL fragments run (profiled ones only), in order. */
  readonly operators: EngineOperator[] = [];

  constructor(
    private readonly desc: TaskDesc,
    private readonly services: TaskServices,
    readonly compiler: Compiler,
  ) {}

  /** The content id of a node of this task's table. */
  private idOf(node: NodeSpec): string {
    for (const [id, n] of Object.entries(this.desc.nodes)) if (n === node) return id;
    return '';
  }

  private node(id: string): NodeSpec {
    const n = this.desc.nodes[id];
    if (!n) throw new InvalidOperationError(`task lineage has no node ${id}`);
    return n;
  }

  compute(id: string): Compute {
    let c = this.computes.get(id);
    if (!c) {
      const node = this.node(id);
      c = this.build(node);
      if (node.persist) c = this.persisted(id, c);
      this.computes.set(id, c);
    }
    return c;
  }

  private parent(node: NodeSpec, i = 0): Compute {
    const id = node.parents[i];
    if (id === undefined) throw new InvalidOperationError(`${node.op} node lacks parent ${i}`);
    return this.compute(id);
  }

  private persisted(id: string, inner: Compute): Compute {
    const collect = async (p: number): Promise<unknown[]> => {
      const bid = blockId(id, p);
      const stored = await this.services.readBlock(bid);
      if (stored) {
        const data = decode<unknown[]>(stored);
        this.m.inputBytes += stored.byteLength;
        this.m.inputRecords += data.length;
        return data;
      }
      const data: unknown[] = [];
      await inner(p, (x) => data.push(x));
      this.blocks.push([bid, encode(data)]);
      return data;
    };
    const c: Compute = async (p, emit) => {
      const data = await collect(p);
      for (let i = 0; i < data.length; i++) emit(data[i]);
    };
    c.collect = collect;
    return c;
  }

  private build(node: NodeSpec): Compute {
    if (isElementwise(node)) return this.chain(node);
    const op: string = node.op;
    switch (node.op) {
      case 'empty':
        return () => Promise.resolve();
      case 'parallelize': {
        const p = node.p;
        return async (part, emit) => {
          const inline = p.inline?.[part];
          const data = decode<unknown[]>(inline ?? (await this.services.readSlice(p.dataId, part)));
          for (let i = 0; i < data.length; i++) emit(data[i]);
        };
      }
      case 'range': {
        const { start, step, count } = node.p;
        return (part, emit) => {
          const lo = Math.floor((part * count) / node.n);
          const hi = Math.floor(((part + 1) * count) / node.n);
          for (let i = lo; i < hi; i++) emit(start + i * step);
          return Promise.resolve();
        };
      }
      case 'textFile': {
        const splits = node.p.splits;
        return async (part, emit) => {
          const split = splits[part]!;
          const windows = this.sampling ? sampleWindows(split) : undefined;
          const m = this.m;
          const counted = (line: string) => {
            m.inputRecords++;
            emit(line);
          };
          for (const w of windows ?? [split]) {
            m.inputBytes += w.gzip ? fileSize(w.path) : Math.max(0, w.end - w.start);
            await readTextSplit(w, counted);
          }
          if (!windows) return;
          this.sampledFraction =
            (windows.length * (windows[0]!.end - windows[0]!.start)) / (split.end - split.start);
        };
      }
      case 'wholeFiles': {
        const { groups, binary } = node.p;
        return (part, emit) => {
          for (const path of groups[part] ?? []) {
            const data = readWholeFile(path);
            this.m.inputBytes += data.byteLength;
            this.m.inputRecords++;
            emit([path, binary ? data : data.toString('utf8')]);
          }
          return Promise.resolve();
        };
      }
      case 'binaryRecords': {
        const { splits, recordLength } = node.p;
        return (part, emit) => {
          const split = splits[part]!;
          this.m.inputBytes += Math.max(0, split.end - split.start);
          readRecords(split, recordLength, (r) => {
            this.m.inputRecords++;
            emit(r);
          });
          return Promise.resolve();
        };
      }
      case 'checkpoint': {
        const dir = node.p.dir;
        return async (part, emit) => {
          const bytes = await readFile(`${dir}/part-${String(part).padStart(5, '0')}`);
          const data = decode<unknown[]>(bytes);
          this.m.inputBytes += bytes.byteLength;
          this.m.inputRecords += data.length;
          for (let i = 0; i < data.length; i++) emit(data[i]);
        };
      }
      case 'mapPartitions':
        return this.mapPartitions(node);
      case 'union': {
        const counts = node.p.counts;
        const parents = node.parents.map((_, i) => this.parent(node, i));
        return (part, emit) => {
          let local = part;
          for (let i = 0; i < counts.length; i++) {
            if (local < counts[i]!) return parents[i]!(local, emit);
            local -= counts[i]!;
          }
          throw new InvalidOperationError(`union has no partition ${part}`);
        };
      }
      case 'coalesce': {
        const groups = node.p.groups;
        const parent = this.parent(node);
        const collect = parent.collect;
        if (collect)
          // A persisted parent: its partitions' blocks are read a few at a time (a remote one is a
          // round trip), and emitted in order.
          return async (part, emit) => {
            const pps = groups[part] ?? [];
            const reads: Array<Promise<unknown[]>> = [];
            for (let i = 0; i < pps.length; i++) {
              for (let j = reads.length; j < Math.min(pps.length, i + COALESCE_READ_AHEAD); j++) {
                const read = collect(pps[j]!);
                read.catch(() => undefined); // handled where it is awaited (or moot after an earlier failure)
                reads.push(read);
              }
              const data = await reads[i]!;
              reads[i] = EMPTY_READ;
              for (let k = 0; k < data.length; k++) emit(data[k]);
            }
          };
        return async (part, emit) => {
          for (const pp of groups[part] ?? []) await parent(pp, emit);
        };
      }
      case 'cartesian': {
        const nb = node.p.nb;
        const left = this.parent(node, 0);
        const right = this.parent(node, 1);
        return async (part, emit) => {
          const ys: unknown[] = [];
          await right(part % nb, (y) => ys.push(y));
          await left(Math.floor(part / nb), (x) => {
            for (let j = 0; j < ys.length; j++) emit([x, ys[j]]);
          });
        };
      }
      case 'zip': {
        const left = this.parent(node, 0);
        const right = this.parent(node, 1);
        return async (part, emit) => {
          const xs: unknown[] = [];
          const ys: unknown[] = [];
          await left(part, (x) => xs.push(x));
          await right(part, (y) => ys.push(y));
          if (xs.length !== ys.length) {
            throw new InvalidOperationError(
              `Can only zip RDDs with same number of elements in each partition (partition ${part}: ${xs.length} vs ${ys.length})`,
            );
          }
          for (let i = 0; i < xs.length; i++) emit([xs[i], ys[i]]);
        };
      }
      case 'shuffled':
        return this.shuffled(node);
      case 'sql':
        return this.sql(node);
      case 'cogroup':
        return this.cogroup(node);
      default:
        throw new InvalidOperationError(`unknown lineage operation '${op}' (peer version mismatch?)`);
    }
  }

  /** A maximal chain of elementwise nodes over a non-elementwise (or persisted) parent, as one fused loop. */
  private chain(top: ElementwiseNode): Compute {
    const ops: ElementwiseNode[] = [top];
    let parentId = top.parents[0]!;
    for (;;) {
      const pn = this.desc.nodes[parentId];
      if (!isElementwise(pn) || pn.persist) break;
      ops.push(pn);
      parentId = pn.parents[0]!;
    }
    ops.reverse();
    const base = this.compute(parentId);
    const fns = ops.map((o) => (o.p.f ? this.compiler.fn(o.p.f, 1) : undefined));
    let lastAsync = -1;
    ops.forEach((o, i) => {
      if (o.p.f?.t === 'fn' && o.p.f.async === true) lastAsync = i;
    });
    // The chain's pair form (for a shuffle by key): its last map in its pair form where it has one.
    // Generated and compiled once, when a shuffle first asks for it (not for every chain).
    const last = ops.length - 1;
    const pairsOf = (from: number): ((emit: PairEmit) => Emit) => {
      let made: ((emit: PairEmit) => Emit) | undefined;
      return (emit) => {
        if (!made) {
          const tail = ops.slice(from);
          const pairFn = tail.at(-1)?.op === 'map' ? this.compiler.pairFn(ops[last]!.p.f!) : undefined;
          const factory = fusedFactory(
            tail.map((o) => o.op),
            true,
            pairFn !== undefined,
          );
          const tailFns = fns.slice(from);
          if (pairFn !== undefined) tailFns[tailFns.length - 1] = pairFn;
          made = (e) => factory(tailFns, e);
        }
        return made(emit);
      };
    };
    let c: Compute;
    if (lastAsync >= 0) {
      // An async function in the chain: the chain up to the last one is awaited per element, a
      // window of elements in flight; what follows it is synchronous and fused, run on each output.
      const kinds = ops.slice(0, lastAsync + 1).map((o) => o.op);
      const single = kinds.every((k) => SINGLE_OUTPUT.has(k));
      const element = (single ? singleElement : asyncElement)(kinds, fns.slice(0, lastAsync + 1));
      const head = windowed(base, element, single, ASYNC_CONCURRENCY);
      if (lastAsync === last) return head;
      const tail = fusedFactory(ops.slice(lastAsync + 1).map((o) => o.op));
      const tailFns = fns.slice(lastAsync + 1);
      c = (part, emit) => head(part, tail(tailFns, emit));
      const tailPairs = pairsOf(lastAsync + 1);
      c.pairs = (part, emit) => head(part, tailPairs(emit));
      return c;
    }
    const factory = fusedFactory(ops.map((o) => o.op));
    c = (part, emit) => base(part, factory(fns, emit));
    const pairs = pairsOf(0);
    c.pairs = (part, emit) => base(part, pairs(emit));
    return c;
  }

  private mapPartitions(node: NodeOf<'mapPartitions'>): Compute {
    const parent = this.parent(node);
    const f = node.p.f;
    let op: PartitionOp;
    if (f.t === 'lib') op = this.compiler.lib(f) as PartitionOp;
    else if (node.p.withIndex) {
      const g = this.compiler.fn(f, 2);
      op = (input, part) => g(part, new PartitionIterator(input));
    } else {
      const g = this.compiler.fn(f, 1);
      op = (input) => g(new PartitionIterator(input));
    }
    return async (part, emit) => {
      let input: unknown[];
      // a persisted parent's partition is already one array (decoded from its block): no copy
      if (parent.collect) input = await parent.collect(part);
      else {
        const buf: unknown[] = [];
        await parent(part, (x) => buf.push(x));
        input = buf;
      }
      const out = await op(input, part);
      if (Array.isArray(out) || out instanceof Float64Array) {
        for (let i = 0; i < out.length; i++) emit(out[i]);
      } else if (
        out != null &&
        typeof (out as unknown as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function'
      ) {
        for await (const x of out as unknown as AsyncIterable<unknown>) emit(x);
      } else if (out != null && typeof out[Symbol.iterator] === 'function') {
        for (const x of out) emit(x);
      } else {
        throw new InvalidOperationError(
          `mapPartitions: the function must return an iterable (an array or a generator), got ${preview(out)}`,
        );
      }
    };
  }

  /** A SQL stage: its inputs' Parquet batches go to the columnar engine, its output batches come out. */
  private sql(node: NodeOf<'sql'>): Compute {
    const task = node.p.task;
    return async (part, emit) => {
      const batches: Uint8Array[][] = [];
      for (const input of task.inputs) {
        const bufs: Uint8Array[] = [];
        if (input.kind === 'batches') {
          if (input.from === 'shuffle') {
            const s = node.shuffles[input.index];
            if (!s) throw new InvalidOperationError(`SQL stage lacks shuffle input ${input.index}`);
            // A broadcast's readers all read reduce partition 0; a whole read, every partition.
            const reduces = input.broadcast
              ? [0]
              : input.whole
                ? Array.from({ length: s.partitioner.n }, (_, r) => r)
                : [part];
            for (const reduce of reduces)
              if (this.node(s.parent).op !== 'sql')
                await this.readPairs(s, reduce, (_k, v) => bufs.push(v as Uint8Array));
              else
                // A SQL map task's bucket is one Parquet file (see writeShuffle), handed over as it is.
                for (const b of await this.fetchShuffle(s, reduce)) {
                  if (b.byteLength === 0) continue;
                  this.m.shuffleReadRecords++;
                  bufs.push(b);
                }
          } else await this.parent(node, input.index)(part, (x) => bufs.push(x as Uint8Array));
        } else if (input.kind === 'files') {
          for (const f of input.splits[part] ?? []) this.m.inputBytes += fileSize(f);
        }
        batches.push(bufs);
      }
      const { runFragment, emitsPairs } = await fragmentModule();
      // Column sections are for kept batches (exchange outputs, cached partitions), not results.
      const out = await runFragment(
        task,
        part,
        batches,
        this.compiler,
        (ops) => this.operators.push(...ops),
        {
          sections: emitsPairs(task.output) || node.persist === true,
        },
      );
      const id = this.idOf(node);
      for (const [reduce, , section, rows] of out) {
        this.m.sqlRows += section?.rows ?? rows ?? 0;
        if (!section) continue; // not asked for, or not a Parquet batch (a sample, a write's report)
        const columns = section.columns.map((c) => {
          const named = task.columns?.[c.name];
          return named ? { ...c, name: named[0], type: named[1] } : c;
        });
        this.sections.push({ node: id, partition: part, reduce, section: { ...section, columns } });
      }
      for (const [, b] of out) this.m.sqlBytes += b.byteLength;
      if (!emitsPairs(task.output)) for (const [, b] of out) emit(b);
      else for (const [p, b] of out) emit([p, b]);
    };
  }

  private async readPairs(
    s: ShuffleSpec,
    part: number,
    each: (k: unknown, v: unknown) => void,
  ): Promise<void> {
    const bufs = await this.fetchShuffle(s, part);
    const m = this.m;
    for (let i = 0; i < bufs.length; i++) {
      const b = bufs[i]!;
      bufs[i] = EMPTY; // decoded: let it go
      if (b.byteLength === 0) continue;
      forEachPair(b, (k, v) => {
        m.shuffleReadRecords++;
        each(k, v);
      });
    }
  }

  /** The buckets of a reduce partition from every map task, timed and counted as shuffle read. */
  private async fetchShuffle(s: ShuffleSpec, part: number): Promise<Uint8Array[]> {
    const t0 = performance.now();
    const read = await this.services.readShuffle(s.id, part, s.numMaps);
    const m = this.m;
    m.shuffleFetchWaitTime += performance.now() - t0;
    for (const b of read.buckets) m.shuffleReadBytes += b.byteLength;
    m.shuffleLocalBytesRead += read.localBytes;
    m.shuffleLocalBlocksFetched += read.localBlocks;
    m.shuffleRemoteBytesRead += read.remoteBytes;
    m.shuffleRemoteBlocksFetched += read.remoteBlocks;
    return read.buckets;
  }

  /** Reads the elements of an elements shuffle (sortBy), map by map. */
  private async readElements(s: ShuffleSpec, part: number, each: (x: unknown) => void): Promise<void> {
    const bufs = await this.fetchShuffle(s, part);
    const m = this.m;
    for (let i = 0; i < bufs.length; i++) {
      const b = bufs[i]!;
      bufs[i] = EMPTY;
      if (b.byteLength === 0) continue;
      forEachElement(b, (x) => {
        m.shuffleReadRecords++;
        each(x);
      });
    }
  }

  private shuffled(node: NodeOf<'shuffled'>): Compute {
    const s = node.shuffles[0]!;
    const sort = node.p.sort;
    const keyfunc = sort ? this.compiler.optFn(sort.keyfunc, 1) : undefined;
    const agg = s.agg;
    if (s.elements) {
      // sortBy: the elements travel alone; their keys are computed here again.
      return async (part, emit) => {
        const xs: unknown[] = [];
        await this.readElements(s, part, (x) => xs.push(x));
        if (!sort) {
          for (let i = 0; i < xs.length; i++) emit(xs[i]);
          return;
        }
        const order = sortOrder(keyfunc ? xs.map((x) => keyfunc(x)) : xs, sort.ascending);
        for (let i = 0; i < order.length; i++) emit(xs[order[i]!]);
      };
    }
    const finish = (keys: unknown[], values: unknown[], emit: Emit) => {
      if (sort) {
        const order = sortOrder(keyfunc ? keys.map((k) => keyfunc(k)) : keys, sort.ascending);
        for (let i = 0; i < order.length; i++) {
          const j = order[i]!;
          emit([keys[j], values[j]]);
        }
        return;
      }
      for (let i = 0; i < keys.length; i++) emit([keys[i], values[i]]);
    };
    if (!agg) {
      return async (part, emit) => {
        if (!sort) return this.readPairs(s, part, (k, v) => emit([k, v]));
        const keys: unknown[] = [];
        const values: unknown[] = [];
        await this.readPairs(s, part, (k, v) => {
          keys.push(k);
          values.push(v);
        });
        finish(keys, values, emit);
      };
    }
    const combine = this.compiler.fn(agg.combine, 2);
    const create = agg.create ? this.compiler.fn(agg.create, 1) : undefined;
    const merge = this.compiler.fn(agg.merge, 2);
    return async (part, emit) => {
      // Map-side combined input holds combiners (merged with `combine`), else values.
      const m = s.mapSideCombine
        ? new Combiners((c) => c, combine)
        : new Combiners(create ?? ((v) => v), merge);
      await this.readPairs(s, part, (k, v) => m.add(k, v));
      if (!sort) {
        m.forEach((c, k) => emit([k, c]));
        return;
      }
      const keys: unknown[] = [];
      const values: unknown[] = [];
      m.forEach((c, k) => {
        keys.push(k);
        values.push(c);
      });
      finish(keys, values, emit);
    };
  }

  private cogroup(node: NodeOf<'cogroup'>): Compute {
    const inputs = node.p.inputs;
    const n = inputs.length;
    return async (part, emit) => {
      const groups = new KeyMap<unknown[][]>();
      const add = (i: number, k: unknown, v: unknown) => {
        let g = groups.get(k);
        if (!g) {
          g = Array.from({ length: n }, () => []);
          groups.set(k, g);
        }
        g[i]!.push(v);
      };
      for (let i = 0; i < n; i++) {
        const input = inputs[i]!;
        if (input.shuffle !== undefined)
          await this.readPairs(node.shuffles[input.shuffle]!, part, (k, v) => add(i, k, v));
        else
          await this.parent(node, input.narrow)(part, (kv) => {
            if (!Array.isArray(kv) || kv.length !== 2) notAPair(kv);
            add(i, kv[0], kv[1]);
          });
      }
      groups.forEach((g, k) => emit([k, g]));
    };
  }

  partitioner(spec: PartitionerSpec): (k: unknown) => number {
    const n = spec.n;
    switch (spec.kind) {
      case 'hash':
        return (k) => hashPartition(k, n);
      case 'direct':
        return (k) => k as number;
      case 'fn': {
        const f = this.compiler.fn(spec.fn, 1);
        return (k) => {
          const r = f(k) as number;
          if (!Number.isInteger(r))
            throw new InvalidOperationError(`partitionFunc must return an integer, got ${preview(r)}`);
          const m = r % n;
          return m < 0 ? m + n : m;
        };
      }
      case 'range': {
        const bounds = spec.bounds ?? [];
        const keyfunc = this.compiler.optFn(spec.keyfunc, 1);
        const asc = spec.ascending;
        return (k) => {
          const key = keyfunc ? keyfunc(k) : k;
          let lo = 0;
          let hi = bounds.length;
          while (lo < hi) {
            const mid = (lo + hi) >>> 1;
            if (compare(bounds[mid], key) < 0) lo = mid + 1;
            else hi = mid;
          }
          return asc ? lo : n - 1 - lo;
        };
      }
    }
  }

  /**
   * Computes partition `part` of `root` and writes it as one map output: a bucket per reduce
   * partition (bucket.ts; for a SQL stage, its Parquet batch of that partition as it is).
   */
  async writeShuffle(s: ShuffleSpec, root: string, part: number): Promise<MapOutput> {
    const n = s.partitioner.n;
    const outside = (r: unknown): never => {
      throw new InvalidOperationError(`partitioner returned ${preview(r)}, outside [0, ${n})`);
    };
    const compute = this.compute(root);
    let records = 0;
    let out: Uint8Array[];
    if (this.node(root).op === 'sql') {
      // runFragment emits one [reduce partition, Parquet] pair per non-empty reduce partition.
      out = Array.from({ length: n }, () => EMPTY);
      await compute(part, (kv) => {
        const [r, batch] = kv as [number, Uint8Array];
        if (out[r] === undefined) outside(r);
        if (out[r]!.byteLength > 0)
          throw new InvalidOperationError(`SQL map task emitted reduce partition ${r} twice`);
        out[r] = batch;
        records++;
      });
    } else
      out = await this.writeBuckets(
        s,
        (emit) => compute(part, emit),
        compute.pairs && ((emit) => compute.pairs!(part, emit)),
        outside,
        (x) => (records += x),
      );
    this.m.shuffleWriteRecords += records;
    for (const b of out) this.m.shuffleWriteBytes += b.byteLength;
    return packMapOutput(out);
  }

  private async writeBuckets(
    s: ShuffleSpec,
    compute: (emit: Emit) => Promise<void>,
    computePairs: ((emit: PairEmit) => Promise<void>) | undefined,
    outside: (r: unknown) => never,
    count: (records: number) => void,
  ): Promise<Uint8Array[]> {
    const partition = this.partitioner(s.partitioner);
    const buckets = Array.from({ length: s.partitioner.n }, () => new BucketWriter(s.elements ? 1 : 2));
    let records = 0;
    if (s.elements) {
      await compute((x) => {
        const r = partition(x);
        (buckets[r] ?? outside(r)).addElement(x);
        records++;
      });
    } else if (s.mapSideCombine && s.agg) {
      const create = s.agg.create ? this.compiler.fn(s.agg.create, 1) : undefined;
      const merge = this.compiler.fn(s.agg.merge, 2);
      const combiners = new Combiners(create ?? ((v) => v), merge);
      if (computePairs) await computePairs((k, v) => combiners.add(k, v));
      else
        await compute((kv) => {
          if (!Array.isArray(kv) || kv.length !== 2) notAPair(kv);
          combiners.add(kv[0], kv[1]);
        });
      records = combiners.size;
      combiners.forEach((c, k) => {
        const r = partition(k);
        (buckets[r] ?? outside(r)).addPair(k, c);
      });
    } else {
      const add = (k: unknown, v: unknown) => {
        const r = partition(k);
        (buckets[r] ?? outside(r)).addPair(k, v);
        records++;
      };
      if (computePairs) await computePairs(add);
      else
        await compute((kv) => {
          if (!Array.isArray(kv) || kv.length !== 2) notAPair(kv);
          add(kv[0], kv[1]);
        });
    }
    count(records);
    return buckets.map((b) => b.finish());
  }

  /** Computes partition `part` of `root` into a result sink. */
  async result(fn: LibFn, root: string, part: number): Promise<unknown> {
    const makeSink = this.compiler.lib(fn) as (part: number) => Sink;
    const sink = makeSink(part);
    // A save's part (saveAsTextFile): its records and bytes are the task's output.
    let records = 0;
    const textPart = fn.name === 'textPart';
    const emit = textPart
      ? (x: unknown) => {
          records++;
          sink.emit(x);
        }
      : sink.emit;
    try {
      await this.compute(root)(part, emit);
    } catch (e) {
      if (!(e instanceof StopEmit)) throw e;
    }
    const result = await sink.result();
    if (textPart) {
      this.m.outputRecords += records;
      this.m.outputBytes += (result as Uint8Array).byteLength;
    } else if (fn.name === 'writeTextPart') {
      // Written on the worker's disk: the sink says what it wrote, [records, bytes].
      const [n, bytes] = result as [number, number];
      this.m.outputRecords += n;
      this.m.outputBytes += bytes;
    }
    return result;
  }
}

/** A file's size in bytes (0 when it cannot be read: the read itself reports that). */
function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/**
 * Measures the garbage collection of this thread while a task runs (V8's GCProfiler, exact and
 * synchronous); `stop` returns the time in ms. A no-op where the profiler is missing.
 */
function gcMeter(): { stop: () => number } {
  if (typeof GCProfiler !== 'function') return { stop: () => 0 };
  const profiler = new GCProfiler();
  profiler.start();
  let ms: number | undefined;
  return {
    stop: () => {
      if (ms === undefined) {
        let us = 0;
        for (const s of profiler.stop()?.statistics ?? []) us += s.cost;
        ms = us / 1000;
      }
      return ms;
    },
  };
}

/** Whether this thread's `/proc/thread-self/schedstat` could not be read (not Linux): not tried again. */
let noSchedstat = false;

/**
 * Measures the CPU time this thread uses while a task runs, in ns (Linux's per-thread scheduler
 * clock); `stop` returns it and closes the file (so a task thread that is replaced leaks nothing).
 * Undefined on the main thread (which also serves the network and the UI while a task awaits) and
 * where the file is missing. Node 20 has no per-thread CPU clock (`process.cpuUsage` is the process's).
 */
function cpuMeter(): { stop: () => number | undefined } {
  const none = { stop: () => undefined };
  if (isMainThread || noSchedstat) return none;
  const buf = Buffer.alloc(64);
  let fd: number | undefined;
  const read = (): number | undefined => {
    try {
      // The fd stays bound to the thread that opened it: both readings are this thread's.
      fd ??= openSync('/proc/thread-self/schedstat', 'r');
      const text = buf.toString('latin1', 0, readSync(fd, buf, 0, buf.length, 0));
      const ns = Number(text.slice(0, text.indexOf(' ')));
      return Number.isSafeInteger(ns) ? ns : undefined;
    } catch {
      noSchedstat = true;
      return undefined;
    }
  };
  const close = () => {
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
  };
  const start = read();
  if (start === undefined) {
    close();
    return none;
  }
  let ns: number | undefined;
  let stopped = false;
  return {
    stop: () => {
      if (!stopped) {
        stopped = true;
        const end = read();
        close();
        ns = end === undefined ? undefined : end - start;
      }
      return ns;
    },
  };
}

/** Windows a sampling job reads of a text split, evenly spaced, and the fraction of it they cover. */
const SAMPLE_WINDOWS = 16;
const SAMPLE_FRACTION = 1 / 64;
const SAMPLE_WINDOW_MIN_BYTES = 32 * 1024;

/**
 * The windows a sampling job reads of a text split: {@link SAMPLE_WINDOWS} evenly spaced byte
 * ranges covering about {@link SAMPLE_FRACTION} of it (each at least 32 KiB), each owning the
 * lines that start in it as a split does; undefined when that would be most of the split anyway
 * (or the file is gzipped, so it cannot be read from the middle).
 */
function sampleWindows(split: FileSplit): FileSplit[] | undefined {
  const len = split.end - split.start;
  const size = Math.max(SAMPLE_WINDOW_MIN_BYTES, Math.ceil((len * SAMPLE_FRACTION) / SAMPLE_WINDOWS));
  if (split.gzip || size * SAMPLE_WINDOWS * 4 > len) return undefined;
  const out: FileSplit[] = [];
  for (let i = 0; i < SAMPLE_WINDOWS; i++) {
    const start = split.start + Math.floor((i * len) / SAMPLE_WINDOWS);
    out.push({ path: split.path, start, end: start + size, gzip: false });
  }
  return out;
}

/**
 * Whether a sampling job over `root` can read windows of its text input instead of all of it:
 * the root is reached from a text file through elementwise operations only, none persisted (a
 * persisted node stores the partition it computes), so each line goes through the chain alone.
 */
function windowedSampling(desc: TaskDesc): boolean {
  const out = desc.output;
  if (out.kind !== 'result' || out.fn.t !== 'lib' || out.fn.name !== 'sampleKeys') return false;
  let node = desc.nodes[desc.root];
  while (isElementwise(node) && !node.persist) node = desc.nodes[node.parents[0] ?? ''];
  return node?.op === 'textFile' && !node.persist;
}

/** Calls `f` with the packed env of every shipped function in `value` (a lineage, a task); stops when `f` returns true. */
function someEnv(
  value: unknown,
  f: (env: { bcs?: string[]; accs?: boolean } | undefined) => boolean,
): boolean {
  const visit = (v: unknown): boolean => {
    if (typeof v !== 'object' || v === null || ArrayBuffer.isView(v)) return false;
    if (Array.isArray(v)) return v.some(visit);
    const o = v as Record<string, unknown>;
    if (o.t === 'fn') return f(o.env as { bcs?: string[]; accs?: boolean } | undefined);
    for (const k in o) if (visit(o[k])) return true;
    return false;
  };
  return visit(value);
}

/** Ids of the broadcast variables the shipped functions in `value` reference. */
export function broadcastIds(value: unknown): string[] {
  const ids = new Set<string>();
  someEnv(value, (env) => {
    for (const id of env?.bcs ?? []) ids.add(id);
    return false;
  });
  return [...ids];
}

/** Whether a lineage (or any value holding shipped functions) references an accumulator. */
export function usesAccumulators(value: unknown): boolean {
  return someEnv(value, (env) => env?.accs === true);
}

/** Runs one task. Throws what user code throws (the caller decides about retries). */
export async function runTask(desc: TaskDesc, services: TaskServices): Promise<TaskResult> {
  const t0 = performance.now();
  const cpu = cpuMeter();
  const gc = gcMeter();
  try {
    return await runMeasured(desc, services, (run) => {
      run.m.executorRunTime = Math.round(performance.now() - t0);
      run.m.gcTime = Math.round(gc.stop());
      run.m.shuffleFetchWaitTime = Math.round(run.m.shuffleFetchWaitTime);
      const cpuNs = cpu.stop();
      const { executorCpuTime: _unset, ...counters } = run.m;
      const m = run.operators.length > 0 ? { ...counters, sqlOperators: run.operators } : counters;
      return cpuNs === undefined ? m : { ...m, executorCpuTime: cpuNs };
    });
  } finally {
    gc.stop();
    cpu.stop();
  }
}

async function runMeasured(
  desc: TaskDesc,
  services: TaskServices,
  measure: (run: TaskRun) => TaskMetrics,
): Promise<TaskResult> {
  const values = new Map<string, unknown>();
  for (const id of broadcastIds([desc.nodes, desc.output])) values.set(id, await services.broadcastValue(id));
  const compiler = new Compiler(LIBRARY, {
    broadcastValue: (id) => {
      if (!values.has(id)) throw new InvalidOperationError(`broadcast ${id} was not fetched for this task`);
      return values.get(id);
    },
  });
  const run = new TaskRun(desc, services, compiler);
  const out = desc.output;
  if (out.kind === 'shuffle') {
    const mapOutput = await run.writeShuffle(out.shuffle, desc.root, desc.partition);
    return {
      mapOutput,
      blocks: run.blocks,
      accumulators: compiler.accumulatorUpdates(),
      ...(run.sections.length > 0 && { sections: run.sections }),
      metrics: measure(run),
    };
  }
  if (out.fn.t !== 'lib') throw new InvalidOperationError('a result function must be a library function');
  run.sampling = windowedSampling(desc);
  let result = await run.result(out.fn, desc.root, desc.partition);
  if (run.sampledFraction < 1) {
    // The sample's weight is the partition's size: the count of what the windows held, scaled.
    const [n, keys] = result as [number, unknown[]];
    result = [Math.round(n / run.sampledFraction), keys];
  }
  return {
    result,
    blocks: run.blocks,
    accumulators: compiler.accumulatorUpdates(),
    ...(run.sections.length > 0 && { sections: run.sections }),
    metrics: measure(run),
  };
}
