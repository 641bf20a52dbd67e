/**
 * Hints for mistakes users make at the console: `counts.fliter(…)` on an RDD says which RDD
 * method was probably meant.
 */
import { RDD } from '../rdd/rdd.js';

/** RDD members that are plumbing between the RDD and its context, not API. */
const RDD_INTERNALS = new Set([
  'approx', 'checkpointPending', 'cogroupWith', 'combineInternal', 'contentId', 'defaultPartitioner',
  'dependencies', 'derive', 'elementwise', 'extreme', 'isCached', 'job', 'joinWith', 'lineageParents',
  'mapPartitionsInternal', 'nodeSpec', 'ordered', 'partitionerFor', 'prepareNode', 'reduceByKeyCallable',
  'ship', 'shuffle', 'shuffleId', 'treeAggregateCallables', 'writeCheckpoint',
]); // prettier-ignore

function ownMethodNames(proto: object): string[] {
  return Object.getOwnPropertyNames(proto).filter((n) => n !== 'constructor' && !n.startsWith('_'));
}

/** The public method names of RDD, sorted. */
export const RDD_METHODS: readonly string[] = ownMethodNames(RDD.prototype)
  .filter((n) => !RDD_INTERNALS.has(n))
  .sort();

/** Context methods that return an RDD. */
const CONTEXT_SOURCES = new Set([
  'parallelize', 'range', 'textFile', 'wholeTextFiles', 'binaryFiles', 'binaryRecords', 'emptyRDD', 'union',
]); // prettier-ignore

/** RDD methods that return something other than an RDD without being async (actions are async). */
const RDD_NON_RDD = new Set([
  'getNumPartitions', 'name', 'toString', 'toDebugString', 'getStorageLevel', 'isCheckpointed',
  'isLocallyCheckpointed', 'getCheckpointFile', 'checkpoint', 'localCheckpoint', 'randomSplit', 'id',
]); // prettier-ignore

/** Whether calling RDD method (or context source) `name` gives an RDD. */
function returnsRdd(name: string): boolean {
  if (CONTEXT_SOURCES.has(name)) return true;
  if (!RDD_METHODS.includes(name) || RDD_NON_RDD.has(name)) return false;
  const f = Object.getOwnPropertyDescriptor(RDD.prototype, name)?.value as unknown;
  return typeof f === 'function' && !/^Async/.test(f.constructor.name);
}

/** Optimal string alignment distance (Levenshtein with adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The RDD method closest to `name` (case-insensitive edit distance within a third of its length, at least 2). */
export function closestRddMethod(name: string): string | undefined {
  const limit = Math.max(2, Math.floor(name.length / 3));
  let best: string | undefined;
  let bestD = Infinity;
  for (const m of RDD_METHODS) {
    const dist = editDistance(name.toLowerCase(), m.toLowerCase());
    if (dist < bestD) {
      best = m;
      bestD = dist;
    }
  }
  return bestD <= limit ? best : undefined;
}

/** The value of a dotted path of identifiers (`counts`, `job.words`) among the globals, or undefined. */
function globalPath(path: string): unknown {
  let v: unknown = globalThis;
  for (const part of path.split('.')) {
    if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return undefined;
    try {
      v = (v as Record<string, unknown>)[part];
    } catch {
      return undefined;
    }
  }
  return v;
}

/**
 * For a `TypeError: x.fliter is not a function` where `x` is an RDD (a global of that name, or
 * an expression whose last call returns one, such as `sc.parallelize(...)`): `Did you mean
 * rdd.filter(…)?`, or undefined when there is nothing to suggest.
 */
export function rddTypoHint(err: Error, lookup: (path: string) => unknown = globalPath): string | undefined {
  if (err.name !== 'TypeError') return undefined;
  const m = /^(.+)\.([A-Za-z_$][\w$]*) is not a function$/.exec(err.message);
  if (!m) return undefined;
  const [, target, member] = m as unknown as [string, string, string];
  if (RDD_METHODS.includes(member)) return undefined;
  let isRdd: boolean;
  if (/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/.test(target)) isRdd = lookup(target) instanceof RDD;
  else {
    const call = /\.?([A-Za-z_$][\w$]*)\(\.\.\.\)$/.exec(target);
    isRdd = call !== null && returnsRdd(call[1]!);
  }
  if (!isRdd) return undefined;
  const best = closestRddMethod(member);
  return best === undefined
    ? `${target} is an RDD, which has no method ${member}.`
    : `${target} is an RDD, which has no method ${member}. Did you mean ${best}?`;
}
