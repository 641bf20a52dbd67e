/**
 * The task runner's built-in functions, referenced from lineages by name (`lib('add')`). Three kinds:
 * plain functions (aggregators, joins), partition operations `(input, partition) → iterable`, and
 * result sinks that reduce a partition to the small value an action needs.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encode } from '../protocol/codec.js';
import { InvalidOperationError } from '../protocol/errors.js';
import { structuredCloneIfObject, type Compiler, type LibImpl } from './compile.js';
import type { Callable } from './functions.js';
import { HyperLogLog } from './hll.js';
import { canonicalKey, KeyMap } from './key-map.js';
import { compare, compareDescending } from './ordering.js';
import { partFileName } from './lineage.js';
import { mulberry32, partitionSeed, poisson } from './random.js';
import { StatCounter } from './stat-counter.js';

/** A result sink: receives a partition's elements, then yields the partition's result. */
export interface Sink {
  readonly emit: (x: unknown) => void;
  readonly result: () => unknown;
}

/** A partition operation: the whole partition in, an iterable out (may be async, e.g. `pipe`). */
export type PartitionOp = (
  input: unknown[],
  partition: number,
) => Iterable<unknown> | Promise<Iterable<unknown>>;

/** Thrown by a sink that needs no more elements (take); the runner stops the partition cleanly. */
export class StopEmit extends Error {
  constructor() {
    super('stop');
  }
}
const STOP = new StopEmit();

type Fn = (...args: any[]) => any;

function userFn(c: Compiler, arg: unknown, arity: number): Fn {
  return c.fn(arg as Callable, arity);
}

/** Text form of an element for saveAsTextFile and pipe: strings as they are, other values as JSON. */
export function toText(x: unknown): string {
  switch (typeof x) {
    case 'string':
      return x;
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return String(x);
    default:
      if (x === null) return 'null';
      return JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  }
}

function sortPairs(input: unknown[], ascending: boolean, keyfunc: Fn | undefined): unknown[] {
  const cmp = ascending ? compare : compareDescending;
  if (!keyfunc) return input.sort((a, b) => cmp((a as unknown[])[0], (b as unknown[])[0]));
  const keyed = input.map((kv) => ({ k: keyfunc((kv as unknown[])[0]), kv }));
  keyed.sort((a, b) => cmp(a.k, b.k));
  return keyed.map((e) => e.kv);
}

/** Keeps the `n` smallest elements under `cmp`, in order (amortised: sort when the buffer doubles). */
class BoundedSelect {
  private buf: Array<{ k: unknown; v: unknown }> = [];
  constructor(
    private readonly n: number,
    private readonly cmp: (a: unknown, b: unknown) => number,
  ) {}
  add(k: unknown, v: unknown): void {
    if (this.n <= 0) return;
    this.buf.push({ k, v });
    if (this.buf.length >= 2 * this.n + 16) this.trim();
  }
  private trim(): void {
    this.buf.sort((a, b) => this.cmp(a.k, b.k));
    if (this.buf.length > this.n) this.buf.length = this.n;
  }
  values(): unknown[] {
    this.trim();
    return this.buf.map((e) => e.v);
  }
}

function runPipe(
  command: string,
  envVars: Record<string, string>,
  checkCode: boolean,
  input: unknown[],
): Promise<string[]> {
  return new Promise((resolvePipe, reject) => {
    const child = spawn(command, {
      shell: true,
      env: { ...process.env, ...envVars },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', reject);
    child.stdin.on('error', () => {
      // the command may exit without reading all input (head, grep -m); its exit code decides
    });
    child.on('close', (code) => {
      if (checkCode && code !== 0) {
        reject(new InvalidOperationError(`Pipe function \`${command}' exited with error code ${code}`));
        return;
      }
      const text = Buffer.concat(chunks).toString('utf8');
      const lines = text.split('\n');
      if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
      resolvePipe(lines);
    });
    let out = '';
    for (const x of input) out += toText(x) + '\n';
    child.stdin.end(out);
  });
}

function flatToKeyMap(flat: readonly unknown[]): KeyMap<unknown> {
  const m = new KeyMap<unknown>();
  for (let i = 0; i + 1 < flat.length; i += 2) m.set(flat[i], flat[i + 1]);
  return m;
}

const partitionOps: Record<string, LibImpl> = {
  glom: (): PartitionOp => (input) => [input],
  sortPairs:
    ([ascending, keyfunc], c): PartitionOp =>
    (input) =>
      sortPairs(input, ascending as boolean, c.optFn(keyfunc as Callable | undefined, 1)),
  sample: ([withReplacement, fraction, seed]): PartitionOp => {
    const frac = fraction as number;
    return (input, p) => {
      const rand = mulberry32(partitionSeed(seed as number, p));
      const out: unknown[] = [];
      if (withReplacement) {
        for (const x of input) for (let n = poisson(rand, frac); n > 0; n--) out.push(x);
      } else {
        for (const x of input) if (rand() < frac) out.push(x);
      }
      return out;
    };
  },
  randomSplit:
    ([lb, ub, seed]): PartitionOp =>
    (input, p) => {
      const rand = mulberry32(partitionSeed(seed as number, p));
      const out: unknown[] = [];
      for (const x of input) {
        const r = rand();
        if (r >= (lb as number) && r < (ub as number)) out.push(x);
      }
      return out;
    },
  sampleByKey: ([withReplacement, fractionsFlat, seed]): PartitionOp => {
    const fractions = flatToKeyMap(fractionsFlat as unknown[]);
    return (input, p) => {
      const rand = mulberry32(partitionSeed(seed as number, p));
      const out: unknown[] = [];
      for (const kv of input) {
        const f = fractions.get((kv as unknown[])[0]) as number | undefined;
        if (f === undefined)
          throw new InvalidOperationError(
            `sampleByKey: no fraction given for key ${toText((kv as unknown[])[0])}`,
          );
        if (withReplacement) for (let n = poisson(rand, f); n > 0; n--) out.push(kv);
        else if (rand() < f) out.push(kv);
      }
      return out;
    };
  },
  pipe:
    ([command, envVars, checkCode]): PartitionOp =>
    (input) =>
      runPipe(command as string, (envVars ?? {}) as Record<string, string>, checkCode as boolean, input),
  zipWithIndex:
    ([starts]): PartitionOp =>
    (input, p) => {
      const start = (starts as number[])[p] ?? 0;
      return input.map((x, i) => [x, start + i]);
    },
  /** `df.rdd`: a SQL result's Parquet batches → row objects (`[column, field, type DDL]` per field). */
  sqlRows:
    ([fields]): PartitionOp =>
    async (input) => {
      const { decodeRows } = await import('../sql/exec/rows.js');
      return decodeRows(input as Uint8Array[], fields as Array<[string, string, string]>);
    },
  /** `createDataFrame(rdd)`: rows (objects or arrays) → one Parquet batch (`[field, type DDL]` per field). */
  sqlBatch:
    ([fields]): PartitionOp =>
    async (input) => {
      const { encodeRows } = await import('../sql/exec/rows.js');
      return encodeRows(input, fields as Array<[string, string]>);
    },
  zipWithUniqueId:
    ([n]): PartitionOp =>
    (input, p) =>
      input.map((x, i) => [x, i * (n as number) + p]),
  repartitionKeys:
    ([n]): PartitionOp =>
    (input, p) => {
      const parts = n as number;
      let position = Math.floor(mulberry32(partitionSeed(0x5eed, p))() * parts);
      return input.map((x) => [position++ % parts, x]);
    },
  treeAggregate: ([zero, seqOp], c): PartitionOp => {
    const seq = userFn(c, seqOp, 2);
    return (input) => {
      let acc = structuredCloneIfObject(zero);
      for (const x of input) acc = seq(acc, x);
      return [acc];
    };
  },
  aggregateLocal: ([create, merge], c): PartitionOp => {
    const mk = c.optFn(create as Callable | null, 1);
    const mg = userFn(c, merge, 2);
    return (input) => {
      const m = new KeyMap<unknown>();
      for (const kv of input) {
        const [k, v] = kv as [unknown, unknown];
        const cur = m.get(k);
        m.set(k, cur === undefined && !m.has(k) ? (mk ? mk(v) : v) : mg(cur, v));
      }
      const out: unknown[] = [];
      m.forEach((v, k) => out.push([k, v]));
      return out;
    };
  },
  treeKeys:
    ([n]): PartitionOp =>
    (input, p) =>
      input.map((x) => [p % (n as number), x]),
};

const functions: Record<string, LibImpl> = {
  identity: () => (x: unknown) => x,
  one: () => () => 1,
  comparable: () => (x: unknown) =>
    x !== null && x !== undefined && !(typeof x === 'number' && Number.isNaN(x)),
  treeReduceOp: ([f], c) => {
    const g = userFn(c, f, 2);
    // [value, isEmpty] pairs, so that empty partitions do not need a zero of the element type.
    return (x: [unknown, boolean], y: [unknown, boolean]) => (x[1] ? y : y[1] ? x : [g(x[0], y[0]), false]);
  },
  add: () => (a: any, b: any) => a + b,
  keepFirst: () => (a: unknown) => a,
  toList: () => (v: unknown) => [v],
  appendList: () => (c: unknown[], v: unknown) => {
    c.push(v);
    return c;
  },
  concatList: () => (a: unknown[], b: unknown[]) => {
    for (let i = 0; i < b.length; i++) a.push(b[i]);
    return a;
  },
  zeroThen: ([zero, f], c) => {
    const g = userFn(c, f, 2);
    return (v: unknown) => g(structuredCloneIfObject(zero), v);
  },
  pairWith:
    ([value]) =>
    (x: unknown) => [x, value],
  joinInner: () => (g: [unknown[], unknown[]]) => {
    const out: unknown[] = [];
    for (const v of g[0]) for (const w of g[1]) out.push([v, w]);
    return out;
  },
  joinLeft: () => (g: [unknown[], unknown[]]) => {
    const out: unknown[] = [];
    const ws = g[1].length > 0 ? g[1] : [null];
    for (const v of g[0]) for (const w of ws) out.push([v, w]);
    return out;
  },
  joinRight: () => (g: [unknown[], unknown[]]) => {
    const out: unknown[] = [];
    const vs = g[0].length > 0 ? g[0] : [null];
    for (const v of vs) for (const w of g[1]) out.push([v, w]);
    return out;
  },
  joinFull: () => (g: [unknown[], unknown[]]) => {
    const out: unknown[] = [];
    const vs = g[0].length > 0 ? g[0] : [null];
    const ws = g[1].length > 0 ? g[1] : [null];
    for (const v of vs) for (const w of ws) out.push([v, w]);
    return out;
  },
  bothNonEmpty: () => (kv: [unknown, [unknown[], unknown[]]]) => kv[1][0].length > 0 && kv[1][1].length > 0,
  subtractValues: () => (g: [unknown[], unknown[]]) => (g[1].length === 0 ? g[0] : []),
};

function sink(emit: (x: unknown) => void, result: () => unknown): Sink {
  return { emit, result };
}

const sinks: Record<string, LibImpl> = {
  sampleKeys: sampleKeysSink,
  collect: () => () => {
    const out: unknown[] = [];
    return sink(
      (x) => out.push(x),
      () => out,
    );
  },
  count: () => () => {
    let n = 0;
    return sink(
      () => n++,
      () => n,
    );
  },
  fold: ([zero, f], c) => {
    const op = userFn(c, f, 2);
    return () => {
      let acc = structuredCloneIfObject(zero);
      return sink(
        (x) => (acc = op(acc, x)),
        () => acc,
      );
    };
  },
  reduce: ([f], c) => {
    const op = userFn(c, f, 2);
    return () => {
      let has = false;
      let acc: unknown;
      return sink(
        (x) => {
          if (has) acc = op(acc, x);
          else {
            acc = x;
            has = true;
          }
        },
        () => (has ? [acc] : []),
      );
    };
  },
  take:
    ([n]) =>
    () => {
      const out: unknown[] = [];
      const limit = n as number;
      return sink(
        (x) => {
          if (out.length >= limit) throw STOP;
          out.push(x);
          if (out.length >= limit) throw STOP;
        },
        () => out,
      );
    },
  takeOrdered: ([n, keyfunc, descending], c) => {
    const key = c.optFn(keyfunc as Callable | undefined, 1);
    const cmp = descending ? compareDescending : compare;
    return () => {
      const sel = new BoundedSelect(n as number, cmp);
      return sink(
        (x) => sel.add(key ? key(x) : x, x),
        () => sel.values(),
      );
    };
  },
  extreme: ([sign, keyfunc], c) => {
    const key = c.optFn(keyfunc as Callable | undefined, 1);
    const s = sign as number;
    return () => {
      let has = false;
      let best: unknown;
      let bestKey: unknown;
      return sink(
        (x) => {
          const k = key ? key(x) : x;
          if (!has || s * compare(k, bestKey) > 0) {
            best = x;
            bestKey = k;
            has = true;
          }
        },
        () => (has ? [best] : []),
      );
    };
  },
  minMaxCount: () => () => {
    let n = 0;
    let lo: unknown;
    let hi: unknown;
    return sink(
      (x) => {
        if (n === 0 || compare(x, lo) < 0) lo = x;
        if (n === 0 || compare(x, hi) > 0) hi = x;
        n++;
      },
      () => [n, lo, hi],
    );
  },
  stats: () => () => {
    const st = new StatCounter();
    return sink(
      (x) => st.merge(x as number),
      () => st.toState(),
    );
  },
  hyperLogLog:
    ([p]) =>
    () => {
      const hll = new HyperLogLog(p as number);
      return sink(
        (x) => hll.offer(x),
        () => hll.registers,
      );
    },
  countByValue: () => () => {
    const counts = new KeyMap<number>();
    return sink(
      (x) => counts.set(x, (counts.get(x) ?? 0) + 1),
      () => {
        const flat: unknown[] = [];
        counts.forEach((n, k) => flat.push(k, n));
        return flat;
      },
    );
  },
  histogram: ([bucketsArg, evenly]) => {
    const buckets = bucketsArg as unknown[];
    const last = buckets.length - 1;
    const min = buckets[0];
    const max = buckets[last];
    const inc = evenly ? ((max as number) - (min as number)) / last : 0;
    return () => {
      const counts = new Array<number>(last).fill(0);
      return sink(
        (x) => {
          if (x === null || x === undefined || (typeof x === 'number' && x !== x)) return;
          if (compare(x, min) < 0 || compare(x, max) > 0) return;
          let i: number;
          if (evenly)
            i =
              x === max ? last - 1 : Math.min(Math.floor(((x as number) - (min as number)) / inc), last - 1);
          else {
            // bisect_right(buckets, x) - 1, with the last bucket closed
            let lo = 0;
            let hi = buckets.length;
            while (lo < hi) {
              const mid = (lo + hi) >>> 1;
              if (compare(x, buckets[mid]) < 0) hi = mid;
              else lo = mid + 1;
            }
            i = Math.min(lo - 1, last - 1);
          }
          counts[i]!++;
        },
        () => counts,
      );
    };
  },
  lookup: ([key]) => {
    const compound = typeof key === 'object' && key !== null;
    const ck = compound ? canonicalKey(key) : '';
    return () => {
      const out: unknown[] = [];
      return sink(
        (kv) => {
          const k = (kv as unknown[])[0];
          if (compound ? typeof k === 'object' && k !== null && canonicalKey(k) === ck : k === key)
            out.push((kv as unknown[])[1]);
        },
        () => out,
      );
    };
  },
  foreach: ([f], c) => {
    const g = userFn(c, f, 1);
    return () =>
      sink(
        (x) => void g(x),
        () => null,
      );
  },
  foreachPartition: ([f], c) => {
    const g = userFn(c, f, 1);
    return () => {
      const buf: unknown[] = [];
      return sink(
        (x) => buf.push(x),
        async () => {
          await g(buf[Symbol.iterator]());
          return null;
        },
      );
    };
  },
  encodedPartition: () => () => {
    const out: unknown[] = [];
    return sink(
      (x) => out.push(x),
      () => encode(out),
    );
  },
  /**
   * Writes the partition as `dir/part-NNNNN` on the disk of the process running the task (for
   * shared storage): first under `dir/_temporary`, then renamed, so a part is whole or absent
   * and a duplicate attempt writes the same content. Result: [records, bytes].
   */
  writeTextPart:
    ([dir, gzip]) =>
    (part: number) => {
      const parts: string[] = [];
      return sink(
        (x) => parts.push(toText(x)),
        async () => {
          const text = parts.length > 0 ? parts.join('\n') + '\n' : '';
          const bytes = gzip ? gzipSync(text) : Buffer.from(text, 'utf8');
          const name = `${partFileName(part)}${gzip ? '.gz' : ''}`;
          const tmp = join(dir as string, '_temporary');
          await mkdir(tmp, { recursive: true });
          const staged = join(tmp, `${name}-${randomUUID().slice(0, 8)}`);
          await writeFile(staged, bytes);
          await rename(staged, join(dir as string, name));
          return [parts.length, bytes.byteLength];
        },
      );
    },
  textPart:
    ([gzip]) =>
    () => {
      const parts: string[] = [];
      return sink(
        (x) => parts.push(toText(x)),
        () => {
          const text = parts.length > 0 ? parts.join('\n') + '\n' : '';
          return gzip ? gzipSync(text) : Buffer.from(text, 'utf8');
        },
      );
    },
};

/** Every built-in, by name. */
export const LIBRARY: ReadonlyMap<string, LibImpl> = new Map(
  Object.entries({ ...functions, ...partitionOps, ...sinks }),
);

/**
 * Reservoir sample of keys per partition, for range partitioning: result is [count, keys]. The
 * key of an element is its first part, or (`elements`: sortBy) the element itself, through `keyfunc`.
 */
function sampleKeysSink(args: readonly unknown[], c: Compiler): unknown {
  const [perPartition, keyfunc, elements] = args as [number, Callable | null, boolean | undefined];
  const key = c.optFn(keyfunc, 1);
  return (part: number) => {
    const rand = mulberry32(partitionSeed(42, part));
    const sample: unknown[] = [];
    let n = 0;
    return sink(
      (kv) => {
        const x = elements ? kv : (kv as unknown[])[0];
        const k = key ? key(x) : x;
        if (sample.length < perPartition) sample.push(k);
        else {
          const j = Math.floor(rand() * (n + 1));
          if (j < perPartition) sample[j] = k;
        }
        n++;
      },
      () => [n, sample],
    );
  };
}
