/**
 * Non-pair RDD operations, checked against PySpark's documented examples (the docstrings of
 * python/pyspark/rdd.py and context.py, and python/pyspark/tests/test_rdd.py for histogram) plus
 * edge cases. Functions handed to transformations are shipped as source: they only use their
 * arguments and `env`, never a helper of this file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BoundedFloat,
  CapturedVariableError,
  EmptyRDDError,
  InvalidOperationError,
  StatCounter,
  TaskFailedError,
  compare,
  type MicroSpark,
  type RDD,
} from '../../src/index.js';
import { modes } from '../support/modes.js';

// ---------------------------------------------------------------- client-side helpers

/** Shipped as a function value: its source has no free variables. */
const add = (a: number, b: number): number => a + b;

/** Python's range(start, end, step) as an array. */
function pyRange(start: number, end?: number, step = 1): number[] {
  if (end === undefined) [start, end] = [0, start];
  const out: number[] = [];
  if (step > 0) for (let x = start; x < end; x += step) out.push(x);
  else for (let x = start; x > end; x += step) out.push(x);
  return out;
}

/** The documented slicing rule: slice i of n items into k holds [floor(i·n/k), floor((i+1)·n/k)). */
function slices<T>(data: readonly T[], k: number): T[][] {
  const n = data.length;
  return Array.from({ length: k }, (_, i) =>
    data.slice(Math.floor((i * n) / k), Math.floor(((i + 1) * n) / k)),
  );
}

const numeric = (xs: readonly number[]): number[] => [...xs].sort((a, b) => a - b);
const ordered = <T>(xs: readonly T[]): T[] => [...xs].sort(compare);

function populationVariance(xs: readonly number[]): number {
  const m = xs.reduce(add, 0) / xs.length;
  return xs.reduce((s, x) => s + (x - m) * (x - m), 0) / xs.length;
}

describe.each(modes)('RDD core operations ($name)', (mode) => {
  let sc: MicroSpark;
  beforeAll(async () => {
    sc = await mode.create(4);
  });
  afterAll(async () => {
    await sc.stop();
  });

  // ---------------------------------------------------------------- sources

  describe('parallelize', () => {
    it('slices as in the PySpark docstring', async () => {
      expect(await sc.parallelize([0, 2, 3, 4, 6], 5).glom().collect()).toEqual([[0], [2], [3], [4], [6]]);
      expect(
        await sc
          .parallelize(pyRange(0, 6, 2), 5)
          .glom()
          .collect(),
      ).toEqual([[], [0], [], [2], [4]]);
      expect(await sc.parallelize(['a', 'b', 'c'], 2).glom().collect()).toEqual([['a'], ['b', 'c']]);
    });

    it('follows the slicing rule for every size and slice count', async () => {
      for (const n of [0, 1, 2, 5, 7, 10, 13, 100]) {
        const data = pyRange(n);
        for (const k of [1, 2, 3, 4, 5, 7, 8, 16]) {
          const rdd = sc.parallelize(data, k);
          expect(rdd.getNumPartitions()).toBe(k);
          expect(await rdd.glom().collect(), `n=${n} k=${k}`).toEqual(slices(data, k));
        }
      }
    });

    it('leaves leading partitions empty when there are more slices than elements', async () => {
      expect(await sc.parallelize([1, 2], 5).glom().collect()).toEqual([[], [], [1], [], [2]]);
      expect(await sc.parallelize([7], 3).glom().collect()).toEqual([[], [], [7]]);
    });

    it('uses defaultParallelism when numSlices is omitted', async () => {
      const rdd = sc.parallelize(pyRange(10));
      expect(rdd.getNumPartitions()).toBe(4);
      expect(await rdd.glom().collect()).toEqual([
        [0, 1],
        [2, 3, 4],
        [5, 6],
        [7, 8, 9],
      ]);
    });

    it('keeps element order and plain-data values intact', async () => {
      const data = [{ a: 1, b: [2, 3] }, [1, [2, [3]]], 'str', null, true, false, -0.5, 1e300, ''];
      expect(await sc.parallelize(data, 3).collect()).toEqual(data);
      expect(await sc.parallelize(pyRange(100), 7).collect()).toEqual(pyRange(100));
    });

    it('accepts any iterable', async () => {
      expect(await sc.parallelize(new Set([3, 1, 2]), 2).collect()).toEqual([3, 1, 2]);
      function* gen(): Generator<number> {
        yield 10;
        yield 20;
        yield 30;
      }
      expect(await sc.parallelize(gen(), 2).glom().collect()).toEqual([[10], [20, 30]]);
    });

    it('handles data too large to travel inside the task', async () => {
      const data = Array.from({ length: 10_000 }, (_, i) => `item-${i}`);
      const rdd = sc.parallelize(data, 4);
      expect(await rdd.count()).toBe(10_000);
      expect(await rdd.collect()).toEqual(data);
      expect(
        await rdd
          .glom()
          .map((p) => p.length)
          .collect(),
      ).toEqual([2500, 2500, 2500, 2500]);
      expect(await rdd.take(3)).toEqual(['item-0', 'item-1', 'item-2']);
    });

    it('refuses a non-positive or fractional slice count', () => {
      expect(() => sc.parallelize([1], 0)).toThrow(InvalidOperationError);
      expect(() => sc.parallelize([1], -2)).toThrow(InvalidOperationError);
      expect(() => sc.parallelize([1], 1.5)).toThrow(InvalidOperationError);
    });
  });

  describe('range', () => {
    it('matches the PySpark docstring examples', async () => {
      expect(await sc.range(5).collect()).toEqual([0, 1, 2, 3, 4]);
      expect(await sc.range(2, 4).collect()).toEqual([2, 3]);
      expect(await sc.range(1, 7, 2).collect()).toEqual([1, 3, 5]);
      expect(await sc.range(5, 0, -1).collect()).toEqual([5, 4, 3, 2, 1]);
      expect(await sc.range(0, 5, -1).collect()).toEqual([]);
      expect(sc.range(5, undefined, 1, 1).getNumPartitions()).toBe(1);
      expect(sc.range(5, undefined, 1, 10).getNumPartitions()).toBe(10);
    });

    it('supports negative starts and steps that do not divide the span', async () => {
      expect(await sc.range(-3, 3).collect()).toEqual([-3, -2, -1, 0, 1, 2]);
      expect(await sc.range(10, 0, -3).collect()).toEqual([10, 7, 4, 1]);
      expect(await sc.range(0, 10, 3).collect()).toEqual([0, 3, 6, 9]);
      expect(await sc.range(-1, -10, -4).collect()).toEqual([-1, -5, -9]);
      expect(await sc.range(3, 3).collect()).toEqual([]);
    });

    it('range(n) is 0..n-1 and range(0) is empty', async () => {
      expect(await sc.range(0).collect()).toEqual([]);
      expect(await sc.range(0).count()).toBe(0);
      expect(await sc.range(1).collect()).toEqual([0]);
      expect(await sc.range(100_000).count()).toBe(100_000);
      expect(await sc.range(100_000).sum()).toBe(4_999_950_000);
    });

    it('slices like parallelize of the same numbers', async () => {
      expect(await sc.range(0, 6, 2, 5).glom().collect()).toEqual([[], [0], [], [2], [4]]);
      expect(await sc.range(10, undefined, 1, 3).glom().collect()).toEqual([
        [0, 1, 2],
        [3, 4, 5],
        [6, 7, 8, 9],
      ]);
      expect(await sc.range(10, 0, -1, 4).glom().collect()).toEqual(slices(pyRange(10, 0, -1), 4));
      expect(sc.range(7).getNumPartitions()).toBe(4);
    });

    it('refuses a zero step', () => {
      expect(() => sc.range(0, 10, 0)).toThrow(InvalidOperationError);
    });
  });

  describe('emptyRDD', () => {
    it('has no partitions and no elements', async () => {
      const e = sc.emptyRDD<number>();
      expect(e.getNumPartitions()).toBe(0);
      expect(await e.count()).toBe(0);
      expect(await e.collect()).toEqual([]);
      expect(await e.glom().collect()).toEqual([]);
      expect(await e.isEmpty()).toBe(true);
      expect(await e.take(3)).toEqual([]);
      expect(await e.sum()).toBe(0);
      expect(await e.takeOrdered(3)).toEqual([]);
      expect(await e.top(3)).toEqual([]);
      expect((await e.countByValue()).size).toBe(0);
      expect(await e.map((x) => x * 2).collect()).toEqual([]);
    });

    it('rejects reduce, first, max and min with EmptyRDDError', async () => {
      const e = sc.emptyRDD<number>();
      await expect(e.reduce(add)).rejects.toThrow(EmptyRDDError);
      await expect(e.first()).rejects.toThrow(EmptyRDDError);
      await expect(e.max()).rejects.toThrow(EmptyRDDError);
      await expect(e.min()).rejects.toThrow(EmptyRDDError);
    });
  });

  describe('union', () => {
    it('rdd.union keeps duplicates (PySpark docstring)', async () => {
      const rdd = sc.parallelize([1, 1, 2, 3]);
      const u = rdd.union(rdd);
      expect(await u.collect()).toEqual([1, 1, 2, 3, 1, 1, 2, 3]);
      expect(u.getNumPartitions()).toBe(8);
    });

    it('sc.union concatenates partitions in order', async () => {
      const a = sc.parallelize([1, 2], 2);
      const b = sc.emptyRDD<number>();
      const c = sc.parallelize([3], 1);
      const d = sc.range(4, 6, 1, 2);
      const u = sc.union([a, b, c, d]);
      expect(u.getNumPartitions()).toBe(5);
      expect(await u.glom().collect()).toEqual([[1], [2], [3], [4], [5]]);
      expect(await u.collect()).toEqual([1, 2, 3, 4, 5]);
      expect(await u.sum()).toBe(15);
    });

    it('sc.union of text with text (PySpark docstring, without files)', async () => {
      const u = sc.union([sc.parallelize(['Hello']), sc.parallelize(['World!'])]);
      expect(ordered(await u.collect())).toEqual(['Hello', 'World!']);
    });

    it('sc.union of one RDD has its elements; of none it throws', async () => {
      expect(await sc.union([sc.parallelize([4, 5], 2)]).collect()).toEqual([4, 5]);
      expect(() => sc.union([])).toThrow(InvalidOperationError);
    });

    it('unions RDDs of different element types', async () => {
      const nums = sc.parallelize([1, 2], 2);
      const strs = sc.parallelize(['a', 'b'], 1);
      const u: RDD<number | string> = nums.union(strs);
      expect(await u.collect()).toEqual([1, 2, 'a', 'b']);
      expect(await u.map((x) => typeof x).collect()).toEqual(['number', 'number', 'string', 'string']);
      const nested = u.union(sc.parallelize([[true]], 1));
      expect(await nested.collect()).toEqual([1, 2, 'a', 'b', [true]]);
      expect(nested.getNumPartitions()).toBe(4);
    });

    it('can be transformed further and unioned again', async () => {
      const a = sc.parallelize([1, 2, 3], 2).map((x) => x * 10);
      const b = sc.range(3).filter((x) => x > 0);
      const u = a.union(b).map((x) => x + 1);
      expect(await u.collect()).toEqual([11, 21, 31, 2, 3]);
      expect(await u.union(u).count()).toBe(10);
    });
  });

  // ---------------------------------------------------------------- transformations

  describe('map, flatMap, filter', () => {
    it('map (PySpark docstring)', async () => {
      const rdd = sc.parallelize(['b', 'a', 'c']);
      expect(ordered(await rdd.map((x) => [x, 1] as [string, number]).collect())).toEqual([
        ['a', 1],
        ['b', 1],
        ['c', 1],
      ]);
    });

    it('map reads values from env', async () => {
      expect(
        await sc
          .parallelize([1, 2, 3])
          .map((x, env) => x * env.k, { k: 3 })
          .collect(),
      ).toEqual([3, 6, 9]);
      const lookup = await sc
        .parallelize([0, 1, 2, 3])
        .map((x, env) => env.table[x] ?? 'none', { table: ['zero', 'one'] as string[] })
        .collect();
      expect(lookup).toEqual(['zero', 'one', 'none', 'none']);
    });

    it('refuses a function that captures an outer variable', () => {
      const k = 3;
      let err: unknown;
      try {
        sc.parallelize([1]).map((x) => x * k);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CapturedVariableError);
      expect((err as CapturedVariableError).variables).toEqual(['k']);
    });

    it('is lazy: a failing function only fails the action', async () => {
      const rdd = sc.parallelize([1, 2], 2).map((x) => {
        if (x === 2) throw new RangeError('boom');
        return x;
      });
      const err: unknown = await rdd.collect().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TaskFailedError);
      expect((err as Error).message).toContain('boom');
    });

    it('pipelined maps and reduces (PySpark PipelinedRDD docstring)', async () => {
      const rdd = sc.parallelize([1, 2, 3, 4]);
      expect(
        await rdd
          .map((x) => 2 * x)
          .cache()
          .map((x) => 2 * x)
          .collect(),
      ).toEqual([4, 8, 12, 16]);
      expect(
        await rdd
          .map((x) => 2 * x)
          .map((x) => 2 * x)
          .collect(),
      ).toEqual([4, 8, 12, 16]);
      expect(await rdd.map((x) => 2 * x).reduce(add)).toBe(20);
      expect(await rdd.flatMap((x) => [x, x]).reduce(add)).toBe(20);
    });

    it('flatMap (PySpark docstring)', async () => {
      const rdd = sc.parallelize([2, 3, 4]);
      const upTo = await rdd.flatMap((x) => Array.from({ length: x - 1 }, (_, i) => i + 1)).collect();
      expect(numeric(upTo)).toEqual([1, 1, 1, 2, 2, 3]);
      const pairs = await rdd
        .flatMap((x) => [[x, x] as [number, number], [x, x] as [number, number]])
        .collect();
      expect(ordered(pairs)).toEqual([
        [2, 2],
        [2, 2],
        [3, 3],
        [3, 3],
        [4, 4],
        [4, 4],
      ]);
    });

    it('flatMap accepts generators, strings and empty results', async () => {
      const gen = await sc
        .parallelize([1, 2, 3], 2)
        .flatMap(function* (x) {
          yield x;
          yield -x;
        })
        .collect();
      expect(gen).toEqual([1, -1, 2, -2, 3, -3]);
      expect(
        await sc
          .parallelize(['ab', '', 'c'])
          .flatMap((s) => s)
          .collect(),
      ).toEqual(['a', 'b', 'c']);
      expect(
        await sc
          .parallelize([1, 2, 3])
          .flatMap(() => [])
          .collect(),
      ).toEqual([]);
      expect(
        await sc
          .parallelize([1, 2, 3])
          .flatMap((x, env) => Array.from({ length: x }, () => env.v), { v: 'z' })
          .count(),
      ).toBe(6);
    });

    it('filter (PySpark docstring) and truthiness', async () => {
      expect(
        await sc
          .parallelize([1, 2, 3, 4, 5])
          .filter((x) => x % 2 === 0)
          .collect(),
      ).toEqual([2, 4]);
      expect(
        await sc
          .parallelize(pyRange(10), 3)
          .filter((x) => x % 3)
          .collect(),
      ).toEqual([1, 2, 4, 5, 7, 8]);
      expect(
        await sc
          .parallelize([0, '', null, 'a', 1, false, [], {}], 3)
          .filter((x) => x)
          .collect(),
      ).toEqual(['a', 1, [], {}]);
      expect(
        await sc
          .parallelize(pyRange(20), 4)
          .filter((x, env) => x >= env.lo && x < env.hi, { lo: 5, hi: 8 })
          .collect(),
      ).toEqual([5, 6, 7]);
    });

    it('keep the number of partitions', () => {
      const rdd = sc.parallelize(pyRange(10), 3);
      expect(rdd.map((x) => x).getNumPartitions()).toBe(3);
      expect(rdd.flatMap((x) => [x]).getNumPartitions()).toBe(3);
      expect(rdd.filter((x) => x > 100).getNumPartitions()).toBe(3);
      expect(rdd.glom().getNumPartitions()).toBe(3);
      expect(rdd.mapPartitions((it) => it).getNumPartitions()).toBe(3);
      expect(rdd.sample(false, 0.5, 1).getNumPartitions()).toBe(3);
    });
  });

  describe('mapPartitions and mapPartitionsWithIndex', () => {
    it('mapPartitions with a generator (PySpark docstring)', async () => {
      const rdd = sc.parallelize([1, 2, 3, 4], 2);
      const sums = await rdd
        .mapPartitions(function* (it) {
          let s = 0;
          for (const x of it) s += x;
          yield s;
        })
        .collect();
      expect(sums).toEqual([3, 7]);
    });

    it('mapPartitions sees empty partitions and may return arrays', async () => {
      const sizes = await sc
        .parallelize([1], 3)
        .mapPartitions((it) => [[...it].length])
        .collect();
      expect(sizes).toEqual([0, 0, 1]);
      const doubled = await sc
        .parallelize(pyRange(6), 4)
        .mapPartitions((it, env) => [...it].map((x) => x * env.f), { f: 2 })
        .collect();
      expect(doubled).toEqual([0, 2, 4, 6, 8, 10]);
    });

    it('mapPartitions can yield more or fewer elements than it reads', async () => {
      const out = await sc
        .parallelize(pyRange(8), 2)
        .mapPartitions(function* (it) {
          const xs = [...it];
          yield xs.length;
          for (const x of xs) if (x % 2 === 0) yield* [x, x];
        })
        .collect();
      expect(out).toEqual([4, 0, 0, 2, 2, 4, 4, 4, 6, 6]);
    });

    it('mapPartitionsWithIndex (PySpark docstring)', async () => {
      const rdd = sc.parallelize([1, 2, 3, 4], 4);
      const indexes = rdd.mapPartitionsWithIndex(function* (splitIndex) {
        yield splitIndex;
      });
      expect(await indexes.sum()).toBe(6);
      expect(await indexes.collect()).toEqual([0, 1, 2, 3]);
    });

    it('mapPartitionsWithIndex tags elements with their partition', async () => {
      const tagged = await sc
        .parallelize([1, 2, 3, 4, 5], 3)
        .mapPartitionsWithIndex((i, it, env) => [...it].map((x) => [env.tag + i, x]), { tag: 'p' })
        .collect();
      expect(tagged).toEqual([
        ['p0', 1],
        ['p1', 2],
        ['p1', 3],
        ['p2', 4],
        ['p2', 5],
      ]);
    });
  });

  describe('glom', () => {
    it('PySpark docstring', async () => {
      expect(await sc.parallelize([1, 2, 3, 4], 2).glom().collect()).toEqual([
        [1, 2],
        [3, 4],
      ]);
    });

    it('after a filter shows the emptied partitions', async () => {
      expect(
        await sc
          .parallelize(pyRange(9), 3)
          .filter((x) => x % 4 === 0)
          .glom()
          .collect(),
      ).toEqual([[0], [4], [8]]);
      expect(
        await sc
          .parallelize(pyRange(9), 3)
          .filter((x) => x > 5)
          .glom()
          .collect(),
      ).toEqual([[], [], [6, 7, 8]]);
    });
  });

  describe('sample', () => {
    it('count is plausible (PySpark docstring)', async () => {
      const n = await sc.parallelize(pyRange(100), 4).sample(false, 0.1, 81).count();
      expect(n).toBeGreaterThanOrEqual(6);
      expect(n).toBeLessThanOrEqual(14);
    });

    it('is deterministic for a seed, and seeds differ (PySpark test_sample)', async () => {
      const rdd = sc.parallelize(pyRange(100), 4);
      expect(await rdd.sample(false, 0.1, 2).collect()).toEqual(await rdd.sample(false, 0.1, 2).collect());
      expect(await rdd.sample(true, 0.2, 5).collect()).toEqual(await rdd.sample(true, 0.2, 5).collect());
      const s10 = await rdd.sample(false, 0.3, 10).collect();
      const s20 = await rdd.sample(false, 0.3, 20).collect();
      expect(s10).not.toEqual(s20);
      const r11 = await rdd.sample(true, 0.4, 11).collect();
      const r21 = await rdd.sample(true, 0.4, 21).collect();
      expect(r11).not.toEqual(r21);
      // An RDD built the same way elsewhere samples the same elements.
      const again = sc.parallelize(pyRange(100), 4).sample(false, 0.3, 10);
      expect(await again.collect()).toEqual(s10);
      expect(await again.collect()).toEqual(s10);
    });

    it('without replacement is an ordered subset without repeats', async () => {
      const s = await sc.range(10_000, undefined, 1, 8).sample(false, 0.5, 3).collect();
      expect(s.length).toBeGreaterThan(4700);
      expect(s.length).toBeLessThan(5300);
      expect(new Set(s).size).toBe(s.length);
      expect(s).toEqual(numeric(s));
      expect(s.every((x) => Number.isInteger(x) && x >= 0 && x < 10_000)).toBe(true);
    });

    it('with replacement draws elements several times', async () => {
      const s = await sc.range(1000, undefined, 1, 4).sample(true, 2, 7).collect();
      expect(s.length).toBeGreaterThan(1800);
      expect(s.length).toBeLessThan(2200);
      expect(new Set(s).size).toBeLessThan(s.length);
      expect(s.every((x) => Number.isInteger(x) && x >= 0 && x < 1000)).toBe(true);
    });

    it('fraction 0 keeps nothing, fraction 1 without replacement keeps everything', async () => {
      const rdd = sc.parallelize(pyRange(50), 3);
      expect(await rdd.sample(false, 0, 1).collect()).toEqual([]);
      expect(await rdd.sample(true, 0, 1).collect()).toEqual([]);
      expect(await rdd.sample(false, 1, 1).collect()).toEqual(pyRange(50));
    });

    it('refuses a negative fraction', () => {
      expect(() => sc.parallelize([1]).sample(false, -0.1, 1)).toThrow(InvalidOperationError);
    });
  });

  describe('randomSplit', () => {
    it('PySpark docstring', async () => {
      const rdd = sc.parallelize(pyRange(500), 1);
      const [rdd1, rdd2] = rdd.randomSplit([2, 3], 17);
      const c1 = await rdd1!.collect();
      const c2 = await rdd2!.collect();
      expect(c1.length + c2.length).toBe(500);
      expect(await rdd1!.count()).toBeGreaterThan(150);
      expect(await rdd1!.count()).toBeLessThan(250);
      expect(await rdd2!.count()).toBeGreaterThan(250);
      expect(await rdd2!.count()).toBeLessThan(350);
    });

    it('splits are disjoint and their union is the input', async () => {
      const rdd = sc.range(1000, undefined, 1, 4);
      const splits = rdd.randomSplit([1, 1, 2], 42);
      expect(splits).toHaveLength(3);
      const parts = await Promise.all(splits.map((s) => s.collect()));
      const all = parts.flat();
      expect(all).toHaveLength(1000);
      expect(numeric(all)).toEqual(pyRange(1000));
      expect(new Set(all).size).toBe(1000);
      expect(parts[0]!.length).toBeGreaterThan(170);
      expect(parts[0]!.length).toBeLessThan(330);
      expect(parts[1]!.length).toBeGreaterThan(170);
      expect(parts[1]!.length).toBeLessThan(330);
      expect(parts[2]!.length).toBeGreaterThan(420);
      expect(parts[2]!.length).toBeLessThan(580);
      expect(await sc.union(splits).count()).toBe(1000);
    });

    it('the same seed gives the same splits', async () => {
      const build = () => sc.parallelize(pyRange(300), 3).randomSplit([0.3, 0.7], 99);
      const [a1, a2] = build();
      const [b1, b2] = build();
      const first = await a1!.collect();
      expect(await b1!.collect()).toEqual(first);
      expect(await b2!.collect()).toEqual(await a2!.collect());
      expect(await a1!.collect()).toEqual(first);
    });

    it('refuses negative weights and an all-zero weight sum', () => {
      const rdd = sc.parallelize([1, 2, 3]);
      expect(() => rdd.randomSplit([1, -1], 1)).toThrow(InvalidOperationError);
      expect(() => rdd.randomSplit([0, 0], 1)).toThrow(InvalidOperationError);
    });
  });

  // ---------------------------------------------------------------- basic actions

  describe('collect and count', () => {
    it('PySpark docstrings', async () => {
      expect(await sc.range(5).collect()).toEqual([0, 1, 2, 3, 4]);
      expect(await sc.parallelize(['x', 'y', 'z']).collect()).toEqual(['x', 'y', 'z']);
      expect(await sc.parallelize([2, 3, 4]).count()).toBe(3);
    });

    it('count over many partitions, most of them empty', async () => {
      expect(await sc.parallelize([1, 2, 3], 50).count()).toBe(3);
      expect(await sc.parallelize<number>([], 5).count()).toBe(0);
      expect(await sc.parallelize<number>([], 5).collect()).toEqual([]);
    });
  });

  describe('reduce', () => {
    it('PySpark docstring', async () => {
      expect(await sc.parallelize([1, 2, 3, 4, 5]).reduce(add)).toBe(15);
      const ones = sc
        .parallelize(Array.from({ length: 10 }, () => 2))
        .map(() => 1)
        .cache();
      expect(await ones.reduce(add)).toBe(10);
    });

    it('rejects on an empty RDD with EmptyRDDError', async () => {
      await expect(sc.parallelize<number>([]).reduce(add)).rejects.toThrow(EmptyRDDError);
      await expect(sc.parallelize<number>([], 7).reduce(add)).rejects.toThrow(EmptyRDDError);
      await expect(sc.emptyRDD<number>().reduce(add)).rejects.toThrow(EmptyRDDError);
      await expect(
        sc
          .range(10)
          .filter((x) => x > 100)
          .reduce(add),
      ).rejects.toThrow(/empty/);
    });

    it('merges partition results in partition order (PySpark reduce over collected values)', async () => {
      const letters = sc.parallelize(['a', 'b', 'c', 'd', 'e'], 3);
      expect(await letters.reduce((a, b) => a + b)).toBe('abcde');
      expect(await letters.fold('', (a, b) => a + b)).toBe('abcde');
      // partitions ['a'], ['b', 'c'], ['d', 'e']: the zero '>' starts each one and the final merge
      expect(
        await letters.aggregate(
          '>',
          (acc, x) => acc + x,
          (a, b) => a + b,
        ),
      ).toBe('>>a>bc>de');
    });

    it('skips empty partitions and uses env', async () => {
      expect(await sc.parallelize([5], 9).reduce(add)).toBe(5);
      expect(await sc.parallelize([3, 9, 4, 1], 3).reduce((a, b) => Math.max(a, b))).toBe(9);
      expect(await sc.range(1, 11, 1, 3).reduce((a, b, env) => (a * b) % env.m, { m: 1000 })).toBe(
        3628800 % 1000,
      );
    });
  });

  describe('fold', () => {
    it('PySpark docstring', async () => {
      expect(await sc.parallelize([1, 2, 3, 4, 5]).fold(0, add)).toBe(15);
    });

    it('applies the zero per partition and once more at the end', async () => {
      // 3 partitions: 15 + 3 * 1 (one zero per partition) + 1 (the final merge)
      expect(await sc.parallelize([1, 2, 3, 4, 5], 3).fold(1, add)).toBe(19);
      expect(await sc.parallelize([1, 2, 3, 4, 5], 1).fold(1, add)).toBe(17);
      expect(await sc.parallelize([1, 2, 3, 4, 5], 5).fold(10, add)).toBe(15 + 60);
      // the zero is there for partitions with no element too
      expect(await sc.parallelize<number>([], 2).fold(7, add)).toBe(21);
    });

    it('returns the zero on an empty RDD', async () => {
      expect(await sc.emptyRDD<number>().fold(0, add)).toBe(0);
      expect(await sc.emptyRDD<number>().fold(7, add)).toBe(7);
      expect(await sc.parallelize<number>([], 4).fold(0, add)).toBe(0);
    });

    it('gives each partition its own copy of an object zero', async () => {
      const zero: number[] = [];
      const concat = (a: number[], b: number[]): number[] => {
        a.push(...b);
        return a;
      };
      const out = await sc.parallelize([[1], [2], [3, 4]], 3).fold(zero, concat);
      expect(out).toEqual([1, 2, 3, 4]);
      expect(zero).toEqual([]);
    });
  });

  describe('aggregate', () => {
    const seqOp = (x: [number, number], y: number): [number, number] => [x[0] + y, x[1] + 1];
    const combOp = (x: [number, number], y: [number, number]): [number, number] => [x[0] + y[0], x[1] + y[1]];

    it('PySpark docstring', async () => {
      expect(await sc.parallelize([1, 2, 3, 4]).aggregate([0, 0], seqOp, combOp)).toEqual([10, 4]);
      expect(await sc.parallelize<number>([]).aggregate([0, 0], seqOp, combOp)).toEqual([0, 0]);
    });

    it('returns the zero on an empty RDD', async () => {
      expect(await sc.emptyRDD<number>().aggregate([0, 0], seqOp, combOp)).toEqual([0, 0]);
      expect(await sc.emptyRDD<number>().aggregate(5, add, add)).toBe(5);
    });

    it('applies a non-neutral zero per partition and at the end', async () => {
      expect(await sc.parallelize([1, 2, 3], 3).aggregate(10, add, add)).toBe(6 + 3 * 10 + 10);
    });

    it('copies an object zero that seqOp mutates', async () => {
      const out = await sc.range(20, undefined, 1, 5).aggregate(
        { n: 0, xs: [] as number[] },
        (acc, x) => {
          acc.n += 1;
          acc.xs.push(x);
          return acc;
        },
        (a, b) => ({ n: a.n + b.n, xs: a.xs.concat(b.xs) }),
      );
      expect(out.n).toBe(20);
      expect(out.xs).toEqual(pyRange(20));
    });

    it('passes env to both functions', async () => {
      const out = await sc.parallelize([1, 2, 3, 4], 2).aggregate(
        0,
        (acc, x, env) => acc + x * env.w,
        (a, b, env) => a + b + env.bonus,
        { w: 10, bonus: 0 },
      );
      expect(out).toBe(100);
    });
  });

  describe('treeReduce and treeAggregate', () => {
    const data = [-5, -4, -3, -2, -1, 1, 2, 3, 4];

    it('PySpark docstrings', async () => {
      const rdd = sc.parallelize(data, 10);
      expect(await rdd.treeReduce(add)).toBe(-5);
      expect(await rdd.treeAggregate(0, add, add)).toBe(-5);
      for (const depth of [1, 2, 5, 10]) {
        expect(await rdd.treeReduce(add, depth), `treeReduce depth ${depth}`).toBe(-5);
        expect(await rdd.treeAggregate(0, add, add, depth), `treeAggregate depth ${depth}`).toBe(-5);
      }
    });

    it('equal reduce and aggregate for depths 1 to 4', async () => {
      const seqOp = (x: [number, number], y: number): [number, number] => [x[0] + y, x[1] + 1];
      const combOp = (x: [number, number], y: [number, number]): [number, number] => [
        x[0] + y[0],
        x[1] + y[1],
      ];
      for (const parts of [1, 3, 10, 100]) {
        const rdd = sc.range(1000, undefined, 1, parts);
        const reduced = await rdd.reduce(add);
        const aggregated = await rdd.aggregate([0, 0] as [number, number], seqOp, combOp);
        expect(reduced).toBe(499_500);
        expect(aggregated).toEqual([499_500, 1000]);
        for (const depth of [1, 2, 3, 4]) {
          expect(await rdd.treeReduce(add, depth), `parts ${parts} depth ${depth}`).toBe(reduced);
          expect(await rdd.treeAggregate([0, 0] as [number, number], seqOp, combOp, depth)).toEqual(
            aggregated,
          );
          expect(await rdd.treeReduce((a, b) => Math.max(a, b), depth)).toBe(999);
        }
      }
    });

    it('pass env to their functions', async () => {
      const rdd = sc.range(10, undefined, 1, 5);
      expect(await rdd.treeReduce((a, b, env) => a + b + env.z, 2, { z: 0 })).toBe(45);
      expect(await rdd.treeAggregate(0, (acc, x, env) => acc + x * env.k, add, 3, { k: 2 })).toBe(90);
    });

    it('reject a depth below 1', async () => {
      const rdd = sc.parallelize(data, 3);
      await expect(rdd.treeReduce(add, 0)).rejects.toThrow(InvalidOperationError);
      await expect(rdd.treeAggregate(0, add, add, 0)).rejects.toThrow(InvalidOperationError);
    });

    it('treeReduce rejects on an empty RDD; treeAggregate returns the zero', async () => {
      await expect(sc.parallelize<number>([], 5).treeReduce(add)).rejects.toThrow(EmptyRDDError);
      await expect(sc.emptyRDD<number>().treeReduce(add, 3)).rejects.toThrow(EmptyRDDError);
      expect(await sc.parallelize<number>([], 5).treeAggregate(0, add, add)).toBe(0);
      expect(await sc.emptyRDD<number>().treeAggregate(0, add, add, 4)).toBe(0);
      expect(await sc.emptyRDD<number>().treeAggregate(7, add, add)).toBe(7);
    });
  });

  // ---------------------------------------------------------------- numeric actions

  describe('sum, mean, variance, stdev', () => {
    it('PySpark docstrings', async () => {
      expect(await sc.parallelize([1.0, 2.0, 3.0]).sum()).toBe(6);
      expect(await sc.parallelize([1, 2, 3]).mean()).toBe(2);
      expect(await sc.parallelize([1, 2, 3]).variance()).toBeCloseTo(0.6666666666666666, 12);
      expect(await sc.parallelize([1, 2, 3]).stdev()).toBeCloseTo(0.816496580927726, 12);
      expect(await sc.parallelize([1, 2, 3]).sampleStdev()).toBeCloseTo(1.0, 12);
      expect(await sc.parallelize([1, 2, 3]).sampleVariance()).toBeCloseTo(1.0, 12);
    });

    it('do not depend on the partitioning', async () => {
      const data = [4, 8, 15, 16, 23, 42, -7, 0.5];
      const m = data.reduce(add, 0) / data.length;
      const v = populationVariance(data);
      for (const k of [1, 2, 3, 8, 20]) {
        const rdd = sc.parallelize(data, k);
        expect(await rdd.sum()).toBeCloseTo(101.5, 10);
        expect(await rdd.mean()).toBeCloseTo(m, 10);
        expect(await rdd.variance()).toBeCloseTo(v, 10);
        expect(await rdd.stdev()).toBeCloseTo(Math.sqrt(v), 10);
        expect(await rdd.sampleVariance()).toBeCloseTo((v * data.length) / (data.length - 1), 10);
        expect(await rdd.sampleStdev()).toBeCloseTo(Math.sqrt((v * data.length) / (data.length - 1)), 10);
      }
    });

    it('sum of an empty RDD is 0 and its mean is NaN', async () => {
      expect(await sc.parallelize<number>([], 3).sum()).toBe(0);
      expect(await sc.emptyRDD<number>().sum()).toBe(0);
      expect(await sc.emptyRDD<number>().mean()).toBeNaN();
      expect(await sc.parallelize<number>([], 2).variance()).toBeNaN();
    });

    it('sample variance of one element is NaN, population variance is 0', async () => {
      const one = sc.parallelize([7], 4);
      expect(await one.variance()).toBe(0);
      expect(await one.stdev()).toBe(0);
      expect(await one.sampleVariance()).toBeNaN();
      expect(await one.sampleStdev()).toBeNaN();
    });

    it('stays accurate for values with a large offset', async () => {
      const rdd = sc.parallelize([1e9 + 1, 1e9 + 2, 1e9 + 3], 3);
      expect(await rdd.mean()).toBe(1e9 + 2);
      expect(await rdd.variance()).toBeCloseTo(2 / 3, 6);
    });
  });

  describe('max and min', () => {
    it('PySpark docstrings (with key=str)', async () => {
      const rdd = sc.parallelize([1.0, 5.0, 43.0, 10.0]);
      expect(await rdd.max()).toBe(43);
      expect(await rdd.max((x) => String(x))).toBe(5);
      const rdd2 = sc.parallelize([2.0, 5.0, 43.0, 10.0]);
      expect(await rdd2.min()).toBe(2);
      expect(await rdd2.min((x) => String(x))).toBe(10);
    });

    it('order numbers numerically, strings by code point, arrays elementwise', async () => {
      expect(await sc.parallelize([10, 9, 100, 1], 2).max()).toBe(100);
      expect(await sc.parallelize([10, 9, 100, -1], 2).min()).toBe(-1);
      const strs = sc.parallelize(['b', 'B', 'a', 'é', '\u{1F600}', '\uFFFF'], 3);
      expect(await strs.max()).toBe('\u{1F600}');
      expect(await strs.min()).toBe('B');
      const arrs = sc.parallelize(
        [
          [1, 2],
          [1, 10],
          [0, 100],
          [1, 2, 0],
        ],
        2,
      );
      expect(await arrs.max()).toEqual([1, 10]);
      expect(await arrs.min()).toEqual([0, 100]);
    });

    it('keep the first of equal keys, as Python max/min do', async () => {
      const words = sc.parallelize(['pear', 'fig', 'kiwi', 'plum', 'fog'], 2);
      expect(await words.max((w) => w.length)).toBe('pear');
      expect(await words.min((w) => w.length)).toBe('fig');
    });

    it('use a key function with env', async () => {
      const rdd = sc.parallelize([1, 4, 6, 9, 12], 3);
      expect(await rdd.min((x, env) => Math.abs(x - env.c), { c: 7 })).toBe(6);
      expect(await rdd.max((x, env) => Math.abs(x - env.c), { c: 7 })).toBe(1);
      const words = sc.parallelize(['pear', 'fig', 'banana', 'kiwi'], 2);
      expect(await words.max((w) => w.length)).toBe('banana');
      expect(await words.min((w) => w.length)).toBe('fig');
    });

    it('reject on an empty RDD', async () => {
      await expect(sc.parallelize<number>([], 3).max()).rejects.toThrow(EmptyRDDError);
      await expect(sc.parallelize<number>([], 3).min((x) => -x)).rejects.toThrow(EmptyRDDError);
    });
  });

  describe('stats', () => {
    it('returns a StatCounter with every statistic', async () => {
      const st = await sc.parallelize([1, 2, 3, 4, 5], 3).stats();
      expect(st).toBeInstanceOf(StatCounter);
      expect(st.count()).toBe(5);
      expect(st.mean()).toBe(3);
      expect(st.sum()).toBe(15);
      expect(st.min()).toBe(1);
      expect(st.max()).toBe(5);
      expect(st.variance()).toBeCloseTo(2, 12);
      expect(st.sampleVariance()).toBeCloseTo(2.5, 12);
      expect(st.stdev()).toBeCloseTo(Math.SQRT2, 12);
      expect(st.sampleStdev()).toBeCloseTo(Math.sqrt(2.5), 12);
      const d = st.asDict();
      expect(d.count).toBe(5);
      expect(d.mean).toBe(3);
      expect(d.sum).toBe(15);
      expect(d.min).toBe(1);
      expect(d.max).toBe(5);
      expect(d.variance).toBeCloseTo(2, 12);
      expect(st.asDict(true).variance).toBeCloseTo(2.5, 12);
      expect(st.asDict(true).stdev).toBeCloseTo(Math.sqrt(2.5), 12);
    });

    it('counters merge and copy like Spark StatCounter', async () => {
      const st = await sc.parallelize([1, 2, 3], 2).stats();
      const copy = st.copy().merge(10);
      expect(st.count()).toBe(3);
      expect(copy.count()).toBe(4);
      expect(copy.max()).toBe(10);
      expect(copy.mean()).toBe(4);
      const merged = new StatCounter([4, 5]).mergeStats(st);
      expect(merged.count()).toBe(5);
      expect(merged.mean()).toBe(3);
      expect(merged.min()).toBe(1);
      expect(merged.max()).toBe(5);
      expect(merged.variance()).toBeCloseTo(2, 12);
    });

    it('merges partitions of very different sizes exactly', async () => {
      const big = pyRange(1, 101);
      const rdd = sc.parallelize(big, 1).union(sc.parallelize([1000], 1));
      const all = [...big, 1000];
      const st = await rdd.stats();
      expect(st.count()).toBe(101);
      expect(st.sum()).toBe(6050);
      expect(st.mean()).toBeCloseTo(6050 / 101, 10);
      expect(st.variance()).toBeCloseTo(populationVariance(all), 8);
      expect(st.max()).toBe(1000);
      expect(st.min()).toBe(1);
    });

    it('of an empty RDD has count 0, sum 0, NaN mean and infinite bounds', async () => {
      const st = await sc.parallelize<number>([], 3).stats();
      expect(st.count()).toBe(0);
      expect(st.sum()).toBe(0);
      expect(st.mean()).toBeNaN();
      expect(st.variance()).toBeNaN();
      expect(st.max()).toBe(-Infinity);
      expect(st.min()).toBe(Infinity);
    });
  });

  describe('histogram', () => {
    it('PySpark docstring examples', async () => {
      const rdd = sc.parallelize(pyRange(51));
      expect(await rdd.histogram(2)).toEqual([
        [0, 25, 50],
        [25, 26],
      ]);
      expect(await rdd.histogram([0, 5, 25, 50])).toEqual([
        [0, 5, 25, 50],
        [5, 20, 26],
      ]);
      expect(await rdd.histogram([0, 15, 30, 45, 60])).toEqual([
        [0, 15, 30, 45, 60],
        [15, 15, 15, 6],
      ]);
      const strs = sc.parallelize(['ab', 'ac', 'b', 'bd', 'ef']);
      expect(await strs.histogram(['a', 'b', 'c'])).toEqual([
        ['a', 'b', 'c'],
        [2, 2],
      ]);
    });

    it('empty RDD with given buckets counts zeros (PySpark test_histogram)', async () => {
      const rdd = sc.parallelize<number>([]);
      expect((await rdd.histogram([0, 10]))[1]).toEqual([0]);
      expect((await rdd.histogram([0, 4, 10]))[1]).toEqual([0, 0]);
    });

    it('empty RDD with a bucket count rejects', async () => {
      await expect(sc.parallelize<number>([]).histogram(1)).rejects.toThrow(InvalidOperationError);
      await expect(sc.emptyRDD<number>().histogram(2)).rejects.toThrow(/empty/);
    });

    it('given buckets: out of range, in range, uneven, None and NaN (PySpark test_histogram)', async () => {
      const out = sc.parallelize([10.01, -0.01]);
      expect((await out.histogram([0, 10]))[1]).toEqual([0]);
      expect((await out.histogram([0, 4, 10]))[1]).toEqual([0, 0]);
      expect((await out.histogram([0, 5, 10]))[1]).toEqual([0, 0]);

      const oneToFour = sc.parallelize(pyRange(1, 5));
      expect((await oneToFour.histogram([0, 10]))[1]).toEqual([4]);
      expect((await oneToFour.histogram([0, 4, 10]))[1]).toEqual([3, 1]);
      expect((await oneToFour.histogram([1, 4]))[1]).toEqual([4]);

      const five = sc.parallelize([1, 2, 3, 5, 6]);
      expect((await five.histogram([0, 5, 10]))[1]).toEqual([3, 2]);
      expect((await five.histogram([0, 5, 11]))[1]).toEqual([3, 2]);

      const withNulls = sc.parallelize<number | null>([1, 2, 3, 5, 6, null, NaN]);
      expect((await withNulls.histogram([0, 5, 10]))[1]).toEqual([3, 2]);

      const mixed = sc.parallelize([-0.01, 0.0, 1, 2, 3, 5, 6, 11.0, 11.01]);
      expect((await mixed.histogram([0, 5, 11]))[1]).toEqual([4, 3]);

      const four = sc.parallelize([-0.01, 0.0, 1, 2, 3, 5, 6, 11.01, 12.0, 199.0, 200.0, 200.1]);
      expect((await four.histogram([0.0, 5.0, 11.0, 12.0, 200.0]))[1]).toEqual([4, 2, 1, 3]);

      const fourNaN = sc.parallelize<number | null>([
        -0.01,
        0.0,
        1,
        2,
        3,
        5,
        6,
        11.01,
        12.0,
        199.0,
        200.0,
        200.1,
        null,
        NaN,
      ]);
      expect((await fourNaN.histogram([0.0, 5.0, 11.0, 12.0, 200.0]))[1]).toEqual([4, 2, 1, 3]);

      const inf = sc.parallelize([10.01, -0.01, NaN, Infinity]);
      expect((await inf.histogram([-Infinity, 0, Infinity]))[1]).toEqual([1, 2]);
    });

    it('bucket count: integer and fractional bounds (PySpark test_histogram)', async () => {
      expect(await sc.parallelize(pyRange(1, 5)).histogram(1)).toEqual([[1, 4], [4]]);
      expect(await sc.parallelize([1]).histogram(1)).toEqual([[1, 1], [1]]);
      expect(await sc.parallelize([1, 1, 1, 1]).histogram(1)).toEqual([[1, 1], [4]]);
      expect(await sc.parallelize(pyRange(1, 5)).histogram(2)).toEqual([
        [1, 2.5, 4],
        [2, 2],
      ]);
      const buckets = Array.from({ length: 6 }, (_, i) => 1 + 0.2 * i);
      expect(await sc.parallelize([1, 2]).histogram(5)).toEqual([buckets, [1, 0, 0, 0, 1]]);
    });

    it('bucket count ignores null and NaN when computing the range', async () => {
      const rdd = sc.parallelize<number | null>([1, null, NaN, 5, 3], 2);
      expect(await rdd.histogram(2)).toEqual([
        [1, 3, 5],
        [1, 2],
      ]);
    });

    it('the maximum falls into the last, closed bucket; partitions add up', async () => {
      const rdd = sc.range(101, undefined, 1, 7);
      expect(await rdd.histogram([0, 50, 100])).toEqual([
        [0, 50, 100],
        [50, 51],
      ]);
      expect(await rdd.histogram([0, 10, 100])).toEqual([
        [0, 10, 100],
        [10, 91],
      ]);
      expect(await rdd.histogram(4)).toEqual([
        [0, 25, 50, 75, 100],
        [25, 25, 25, 26],
      ]);
    });

    it('string RDD with a bucket count of 1 spans min to max (PySpark test_histogram)', async () => {
      const strs = sc.parallelize(['ab', 'ac', 'b', 'bd', 'ef'], 2) as unknown as RDD<number>;
      expect(await strs.histogram(1)).toEqual([['ab', 'ef'], [5]]);
      await expect(strs.histogram(2)).rejects.toThrow();
    });

    it('rejects invalid buckets', async () => {
      const rdd = sc.parallelize([1, 2, 3]);
      await expect(rdd.histogram([0, 10, 5])).rejects.toThrow(/sorted/);
      await expect(rdd.histogram([0, 5, 5, 10])).rejects.toThrow(/duplicated/);
      await expect(rdd.histogram([])).rejects.toThrow(InvalidOperationError);
      await expect(rdd.histogram([1])).rejects.toThrow(InvalidOperationError);
      await expect(rdd.histogram(0)).rejects.toThrow(InvalidOperationError);
      await expect(rdd.histogram([0, NaN, 10])).rejects.toThrow(InvalidOperationError);
      await expect(rdd.histogram(['b', 'a'])).rejects.toThrow(/sorted/);
    });

    it('rejects a bucket count over infinite or only-NaN data (PySpark test_histogram)', async () => {
      await expect(sc.parallelize([1, Infinity]).histogram(2)).rejects.toThrow(InvalidOperationError);
      await expect(sc.parallelize([NaN]).histogram(2)).rejects.toThrow(InvalidOperationError);
    });
  });

  // ---------------------------------------------------------------- ordering actions

  describe('top and takeOrdered', () => {
    it('top (PySpark docstring)', async () => {
      expect(await sc.parallelize([10, 4, 2, 12, 3]).top(1)).toEqual([12]);
      expect(await sc.parallelize([2, 3, 4, 5, 6], 2).top(2)).toEqual([6, 5]);
      expect(await sc.parallelize([10, 4, 2, 12, 3]).top(3, (x) => String(x))).toEqual([4, 3, 2]);
    });

    it('takeOrdered (PySpark docstring)', async () => {
      expect(await sc.parallelize([10, 1, 2, 9, 3, 4, 5, 6, 7]).takeOrdered(6)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(await sc.parallelize([10, 1, 2, 9, 3, 4, 5, 6, 7], 2).takeOrdered(6, (x) => -x)).toEqual([
        10, 9, 7, 6, 5, 4,
      ]);
      expect(await sc.emptyRDD<number>().takeOrdered(3)).toEqual([]);
    });

    it('order numbers numerically, strings by code point, arrays elementwise', async () => {
      expect(await sc.parallelize([10, 9, 100, 1, 20], 3).top(3)).toEqual([100, 20, 10]);
      expect(await sc.parallelize([10, 9, 100, 1, 20], 3).takeOrdered(3)).toEqual([1, 9, 10]);
      const strs = sc.parallelize(['b', 'B', 'a', 'é', '\u{1F600}', '\uFFFF'], 4);
      expect(await strs.takeOrdered(6)).toEqual(['B', 'a', 'b', 'é', '\uFFFF', '\u{1F600}']);
      expect(await strs.top(2)).toEqual(['\u{1F600}', '\uFFFF']);
      const arrs = sc.parallelize([[1, 10], [1, 2], [0, 5], [1, 2, 0], [1]], 2);
      expect(await arrs.takeOrdered(4)).toEqual([[0, 5], [1], [1, 2], [1, 2, 0]]);
      expect(await arrs.top(2)).toEqual([
        [1, 10],
        [1, 2, 0],
      ]);
    });

    it('keep duplicates, return fewer when num exceeds the count, nothing for 0', async () => {
      const rdd = sc.parallelize([5, 1, 5, 3, 5], 3);
      expect(await rdd.top(2)).toEqual([5, 5]);
      expect(await rdd.top(10)).toEqual([5, 5, 5, 3, 1]);
      expect(await rdd.takeOrdered(10)).toEqual([1, 3, 5, 5, 5]);
      expect(await rdd.top(0)).toEqual([]);
      expect(await rdd.takeOrdered(0)).toEqual([]);
    });

    it('are stable for equal keys, like heapq.nlargest/nsmallest', async () => {
      const rdd = sc.parallelize(['bb', 'a', 'cc', 'd', 'ee'], 2);
      expect(await rdd.top(2, (s) => s.length)).toEqual(['bb', 'cc']);
      expect(await rdd.takeOrdered(2, (s) => s.length)).toEqual(['a', 'd']);
      expect(await rdd.takeOrdered(4, (s) => s.length)).toEqual(['a', 'd', 'bb', 'cc']);
    });

    it('select from many elements per partition', async () => {
      const rdd = sc.range(1000, undefined, 1, 3);
      expect(await rdd.top(5)).toEqual([999, 998, 997, 996, 995]);
      expect(await rdd.takeOrdered(5)).toEqual([0, 1, 2, 3, 4]);
      expect(await rdd.takeOrdered(3, (x) => (x * 7919) % 1000)).toEqual([0, 679, 358]);
      expect(await rdd.top(40)).toEqual(pyRange(999, 959, -1));
    });

    it('use a key function with env', async () => {
      const rdd = sc.parallelize(pyRange(20), 4);
      expect(await rdd.takeOrdered(3, (x, env) => Math.abs(x - env.c), { c: 10 })).toEqual([10, 9, 11]);
      expect(await rdd.top(2, (x, env) => x % env.m, { m: 7 })).toEqual([6, 13]);
    });

    it('takeOrdered rejects a negative num (PySpark: "top N cannot be negative.")', async () => {
      await expect(sc.parallelize([1, 2, 3]).takeOrdered(-1)).rejects.toThrow(InvalidOperationError);
    });
  });

  describe('take, first, isEmpty', () => {
    it('take (PySpark docstring)', async () => {
      expect(await sc.parallelize([2, 3, 4, 5, 6]).cache().take(2)).toEqual([2, 3]);
      expect(await sc.parallelize([2, 3, 4, 5, 6]).take(10)).toEqual([2, 3, 4, 5, 6]);
      expect(
        await sc
          .parallelize(pyRange(100), 100)
          .filter((x) => x > 90)
          .take(3),
      ).toEqual([91, 92, 93]);
    });

    it('gives the same answer whatever the partitioning', async () => {
      const data = pyRange(50);
      for (const num of [0, 1, 10, 60]) {
        const expected = data.slice(0, num);
        for (const k of [1, 2, 7, 100, 1000]) {
          expect(await sc.parallelize(data, k).take(num), `take(${num}) over ${k} partitions`).toEqual(
            expected,
          );
        }
      }
      expect(await sc.parallelize(data, 1).take(10)).toEqual(await sc.parallelize(data, 1000).take(10));
    });

    it('with more partitions than elements', async () => {
      expect(await sc.parallelize([1, 2, 3], 10).take(5)).toEqual([1, 2, 3]);
      expect(await sc.parallelize([1, 2, 3], 10).take(2)).toEqual([1, 2]);
      expect(await sc.parallelize([42], 1000).take(1)).toEqual([42]);
    });

    it('stops early over a large source and is empty for 0 or an empty RDD', async () => {
      expect(await sc.range(1_000_000).take(5)).toEqual([0, 1, 2, 3, 4]);
      expect(await sc.range(10).take(0)).toEqual([]);
      expect(await sc.parallelize<number>([], 4).take(3)).toEqual([]);
    });

    it('does not compute partitions or elements it does not need', async () => {
      const failsInLastPartition = sc.parallelize([1, 2, 3, 4], 4).map((x) => {
        if (x === 4) throw new Error('partition 3 should not run');
        return x;
      });
      expect(await failsInLastPartition.take(2)).toEqual([1, 2]);
      expect(await failsInLastPartition.first()).toBe(1);
      const failsAfterLimit = sc.parallelize([1, 2, 3], 1).map((x) => {
        if (x === 3) throw new Error('element 3 should not be computed');
        return x;
      });
      expect(await failsAfterLimit.take(2)).toEqual([1, 2]);
    });

    it('first (PySpark docstring) and an empty RDD', async () => {
      expect(await sc.parallelize([2, 3, 4]).first()).toBe(2);
      await expect(sc.parallelize<number>([]).first()).rejects.toThrow(EmptyRDDError);
      await expect(sc.parallelize<number>([]).first()).rejects.toThrow('RDD is empty');
    });

    it('first scans past empty partitions', async () => {
      expect(
        await sc
          .parallelize(pyRange(100), 10)
          .filter((x) => x >= 95)
          .first(),
      ).toBe(95);
      expect(await sc.parallelize([42], 1000).first()).toBe(42);
    });

    it('isEmpty (PySpark docstring) and edge cases', async () => {
      expect(await sc.parallelize<number>([]).isEmpty()).toBe(true);
      expect(await sc.parallelize([1]).isEmpty()).toBe(false);
      expect(await sc.emptyRDD().isEmpty()).toBe(true);
      expect(await sc.parallelize([1], 100).isEmpty()).toBe(false);
      expect(
        await sc
          .range(100)
          .filter((x) => x > 100)
          .isEmpty(),
      ).toBe(true);
    });
  });

  // ---------------------------------------------------------------- side effects and counting

  describe('foreach and foreachPartition with accumulators', () => {
    it('accumulator docstring: 9, +1, then foreach over range(5) adds 5', async () => {
      const acc = sc.accumulator(9);
      expect(acc.value).toBe(9);
      acc.add(1);
      expect(acc.value).toBe(10);
      await sc.range(5).foreach((_x, env) => env.acc.add(1), { acc });
      expect(acc.value).toBe(15);
    });

    it('foreach totals are exact, and add up over repeated actions', async () => {
      const sum = sc.accumulator(0);
      const count = sc.accumulator(0);
      const rdd = sc.parallelize(pyRange(100), 7);
      await rdd.foreach(
        (x, env) => {
          env.sum.add(x);
          env.count.add(1);
        },
        { sum, count },
      );
      expect(sum.value).toBe(4950);
      expect(count.value).toBe(100);
      await rdd.foreach((x, env) => env.sum.add(x), { sum });
      expect(sum.value).toBe(9900);
    });

    it('foreachPartition sees each partition once', async () => {
      const elements = sc.accumulator(0);
      const partitions = sc.accumulator(0);
      await sc.parallelize(pyRange(100), 7).foreachPartition(
        (it, env) => {
          let n = 0;
          for (const _ of it) n++;
          env.elements.add(n);
          env.partitions.add(1);
        },
        { elements, partitions },
      );
      expect(elements.value).toBe(100);
      expect(partitions.value).toBe(7);
    });

    it('foreachPartition awaits an async function', async () => {
      const total = sc.accumulator(0);
      await sc.parallelize([1, 2, 3, 4], 2).foreachPartition(
        async (it, env) => {
          const xs = [...it];
          await Promise.resolve();
          env.total.add(xs.reduce((a, b) => a + b, 0));
        },
        { total },
      );
      expect(total.value).toBe(10);
    });

    it('an accumulator with a custom param collects every element', async () => {
      const seen = sc.accumulator<number[]>([], {
        zero: () => [],
        addInPlace: (a, b) => a.concat(b),
      });
      await sc.parallelize(pyRange(20), 3).foreach((x, env) => env.seen.add([x]), { seen });
      expect(numeric(seen.value)).toEqual(pyRange(20));
    });
  });

  describe('countByValue', () => {
    it('PySpark docstring', async () => {
      const counts = await sc.parallelize([1, 2, 1, 2, 2], 2).countByValue();
      expect(counts).toBeInstanceOf(Map);
      expect(ordered([...counts.entries()])).toEqual([
        [1, 2],
        [2, 3],
      ]);
    });

    it('uses value equality for arrays', async () => {
      const counts = await sc
        .parallelize(
          [
            [1, 2],
            [1, 2],
            [2, 1],
            [1, 2],
          ],
          3,
        )
        .countByValue();
      expect(counts.size).toBe(2);
      expect(ordered([...counts.entries()])).toEqual([
        [[1, 2], 3],
        [[2, 1], 1],
      ]);
    });

    it('keeps numbers and strings apart and merges across partitions', async () => {
      const counts = await sc
        .parallelize<number | string>([1, '1', 1, 'a', 'a', 'a', null as never], 4)
        .countByValue();
      expect(counts.size).toBe(4);
      expect(counts.get(1)).toBe(2);
      expect(counts.get('1')).toBe(1);
      expect(counts.get('a')).toBe(3);
      expect(counts.get(null as never)).toBe(1);
      const many = await sc
        .range(1000, undefined, 1, 9)
        .map((x) => x % 3)
        .countByValue();
      expect(ordered([...many.entries()])).toEqual([
        [0, 334],
        [1, 333],
        [2, 333],
      ]);
    });

    it('of an empty RDD is an empty Map', async () => {
      const counts = await sc.parallelize<string>([], 3).countByValue();
      expect(counts).toBeInstanceOf(Map);
      expect(counts.size).toBe(0);
    });
  });

  describe('takeSample', () => {
    it('sizes (PySpark docstring)', async () => {
      const rdd = sc.parallelize(pyRange(10));
      expect(await rdd.takeSample(true, 20, 1)).toHaveLength(20);
      expect(await rdd.takeSample(false, 5, 2)).toHaveLength(5);
      expect(await rdd.takeSample(false, 15, 3)).toHaveLength(10);
    });

    it('without replacement: distinct elements of the input', async () => {
      const rdd = sc.range(1000, undefined, 1, 6);
      for (const num of [1, 10, 100, 999]) {
        const s = await rdd.takeSample(false, num, num);
        expect(s).toHaveLength(num);
        expect(new Set(s).size).toBe(num);
        expect(s.every((x) => Number.isInteger(x) && x >= 0 && x < 1000)).toBe(true);
      }
    });

    it('with replacement: exact size, elements of the input', async () => {
      const s = await sc.parallelize([1, 2, 3], 2).takeSample(true, 50, 11);
      expect(s).toHaveLength(50);
      expect(s.every((x) => x === 1 || x === 2 || x === 3)).toBe(true);
      expect(new Set(s).size).toBe(3);
    });

    it('num at or above the count without replacement returns every element', async () => {
      const rdd = sc.parallelize(pyRange(10), 3);
      expect(numeric(await rdd.takeSample(false, 15, 3))).toEqual(pyRange(10));
      expect(numeric(await rdd.takeSample(false, 10, 4))).toEqual(pyRange(10));
    });

    it('is deterministic for a seed', async () => {
      const rdd = sc.range(500, undefined, 1, 4);
      expect(await rdd.takeSample(false, 20, 123)).toEqual(await rdd.takeSample(false, 20, 123));
      expect(await rdd.takeSample(true, 20, 123)).toEqual(await rdd.takeSample(true, 20, 123));
      expect(await rdd.takeSample(false, 500, 9)).toEqual(await rdd.takeSample(false, 500, 9));
      expect(await rdd.takeSample(false, 20, 1)).not.toEqual(await rdd.takeSample(false, 20, 2));
    });

    it('is empty for 0 or an empty RDD; a negative size rejects', async () => {
      expect(await sc.range(10).takeSample(false, 0, 1)).toEqual([]);
      expect(await sc.emptyRDD<number>().takeSample(true, 5, 1)).toEqual([]);
      expect(await sc.parallelize<number>([], 3).takeSample(false, 5, 1)).toEqual([]);
      await expect(sc.range(10).takeSample(false, -1, 1)).rejects.toThrow(InvalidOperationError);
    });
  });

  describe('toLocalIterator', () => {
    it('PySpark docstring', async () => {
      const out: number[] = [];
      for await (const x of sc.parallelize(pyRange(10)).toLocalIterator()) out.push(x);
      expect(out).toEqual(pyRange(10));
    });

    it('yields what collect returns, also after a shuffle', async () => {
      const shuffled = sc.range(20, undefined, 1, 4).repartition(3);
      const out: number[] = [];
      for await (const x of shuffled.toLocalIterator()) out.push(x);
      expect(out).toEqual(await shuffled.collect());
      expect(numeric(out)).toEqual(pyRange(20));
    });

    it('crosses empty partitions, and can stop early', async () => {
      const out: number[] = [];
      for await (const x of sc.parallelize([1, 2, 3], 8).toLocalIterator()) out.push(x);
      expect(out).toEqual([1, 2, 3]);
      const firstThree: number[] = [];
      for await (const x of sc.range(100, undefined, 1, 5).toLocalIterator()) {
        firstThree.push(x);
        if (firstThree.length === 3) break;
      }
      expect(firstThree).toEqual([0, 1, 2]);
      const none: number[] = [];
      for await (const x of sc.emptyRDD<number>().toLocalIterator()) none.push(x);
      expect(none).toEqual([]);
    });
  });

  describe('countApprox, sumApprox, meanApprox', () => {
    const generous = 60_000;

    it('countApprox (PySpark docstring) is exact when the job finishes in time', async () => {
      const rdd = sc.parallelize(pyRange(1000), 10);
      expect(await rdd.countApprox(generous, 1.0)).toBe(1000);
      expect(await rdd.countApprox(generous)).toBe(1000);
      expect(await sc.emptyRDD().countApprox(generous)).toBe(0);
    });

    it('sumApprox returns an exact BoundedFloat usable in arithmetic', async () => {
      const rdd = sc.parallelize(pyRange(1000), 10);
      const r = pyRange(1000).reduce(add, 0);
      const s = await rdd.sumApprox(generous);
      expect(s).toBeInstanceOf(BoundedFloat);
      expect(Math.abs(+s - r) / r).toBeLessThan(0.05);
      expect(s.valueOf()).toBe(499_500);
      expect(Number(s)).toBe(499_500);
      expect(+s + 1).toBe(499_501);
      expect(Number(s) * 2).toBe(999_000);
      expect(s.low).toBe(499_500);
      expect(s.high).toBe(499_500);
      expect(s.confidence).toBe(1);
    });

    it('meanApprox returns the exact mean when the job finishes', async () => {
      const rdd = sc.parallelize(pyRange(1000), 10);
      const m = await rdd.meanApprox(generous, 0.9);
      expect(m).toBeInstanceOf(BoundedFloat);
      expect(+m).toBe(499.5);
      expect(m.low).toBe(499.5);
      expect(m.high).toBe(499.5);
      expect(Math.abs(+m - 499.5) / 499.5).toBeLessThan(0.05);
      expect(await sc.parallelize([2, 4, 9], 3).meanApprox(generous).then(Number)).toBe(5);
    });
  });

  // ---------------------------------------------------------------- context and metadata

  describe('sc.runJob', () => {
    it('PySpark docstring', async () => {
      const myRDD = sc.parallelize(pyRange(6), 3);
      expect(await sc.runJob(myRDD, (part) => [...part].map((x) => x * x))).toEqual([0, 1, 4, 9, 16, 25]);
      expect(await sc.runJob(myRDD, (part) => [...part].map((x) => x * x), [0, 2])).toEqual([0, 1, 16, 25]);
    });

    it('accepts a generator, env and any partition order', async () => {
      const rdd = sc.parallelize(pyRange(6), 3);
      const out = await sc.runJob(
        rdd,
        function* (part, env) {
          for (const x of part) yield x + env.off;
        },
        [2, 0],
        { off: 100 },
      );
      expect(out).toEqual([104, 105, 100, 101]);
      expect(await sc.runJob(rdd, (part) => [[...part].length], [1])).toEqual([2]);
      expect(await sc.runJob(rdd, (part) => part, [])).toEqual([]);
    });

    it('rejects a partition out of range', async () => {
      const rdd = sc.parallelize(pyRange(6), 3);
      await expect(sc.runJob(rdd, (part) => part, [3])).rejects.toThrow(InvalidOperationError);
      await expect(sc.runJob(rdd, (part) => part, [-1])).rejects.toThrow(InvalidOperationError);
    });
  });

  describe('getNumPartitions, setName, name', () => {
    it('getNumPartitions (PySpark docstring) and through transformations', () => {
      expect(sc.parallelize([1, 2, 3, 4], 2).getNumPartitions()).toBe(2);
      expect(sc.parallelize([1, 2, 3, 4]).getNumPartitions()).toBe(4);
      expect(sc.emptyRDD().getNumPartitions()).toBe(0);
      const a = sc.parallelize([1], 3);
      expect(a.union(sc.range(4, undefined, 1, 5)).getNumPartitions()).toBe(8);
      expect(sc.union([a, a, a]).getNumPartitions()).toBe(9);
    });

    it('name is undefined until set; setName returns the same RDD (PySpark docstrings)', async () => {
      expect(sc.range(5).name()).toBeNull();
      const rdd = sc.parallelize([1, 2]);
      const named = rdd.setName('I am an RDD');
      expect(named).toBe(rdd);
      expect(named.name()).toBe('I am an RDD');
      expect(String(named).startsWith('I am an RDD ')).toBe(true);
      expect(await named.collect()).toEqual([1, 2]);
      rdd.setName('renamed');
      expect(rdd.name()).toBe('renamed');
      expect(rdd.map((x) => x).name()).toBeNull();
    });
  });
});
