/**
 * Pair and shuffle operations. Expected values come from PySpark's docstring examples
 * (python/pyspark/rdd.py), plus edge cases: duplicate keys, empty partitions, compound keys,
 * mutable zero values, partitioner bookkeeping and the Spark-style debug string.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidOperationError, TaskFailedError, type MicroSpark, type RDD } from '../../src/index.js';
import { modes } from '../support/modes.js';

/** A total order for normalising results whose order Spark leaves unspecified. */
function cmp(a: unknown, b: unknown): number {
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = cmp(a[i], b[i]);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a !== typeof b) return typeof a < typeof b ? -1 : 1;
  const sa = JSON.stringify(a);
  const sb = JSON.stringify(b);
  return sa === sb ? 0 : sa < sb ? -1 : 1;
}

function sorted<T>(xs: readonly T[]): T[] {
  return [...xs].sort(cmp);
}

/** Sorts the groups by key and the values inside each group. */
function sortedGroups<K, V>(xs: ReadonlyArray<readonly [K, readonly V[]]>): Array<[K, V[]]> {
  return sorted(xs.map(([k, vs]) => [k, sorted(vs)] as [K, V[]]));
}

/** Sorts cogroup results: by key, and every value list inside. */
function sortedCogroups<K>(
  xs: ReadonlyArray<readonly [K, ReadonlyArray<readonly unknown[]>]>,
): Array<[K, unknown[][]]> {
  return sorted(xs.map(([k, lists]) => [k, lists.map((l) => sorted(l))] as [K, unknown[][]]));
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the promise to reject');
}

/** Replaces this file's call sites (`at rdd-pairs.test.ts:123`) with `<site>`. */
function normaliseSites(debug: string): string {
  return debug
    .split('\n')
    .map((l) => l.replace(/ at rdd-pairs\.test\.ts:\d+(:\d+)? \[/, ' at <site> ['))
    .join('\n');
}

function shuffleCount(debug: string): number {
  return debug.split('+-').length - 1;
}

describe.each(modes)('pair and shuffle operations ($name)', (mode) => {
  let sc: MicroSpark;
  beforeAll(async () => {
    sc = await mode.create(4);
  });
  afterAll(async () => {
    await sc.stop();
  });

  // ------------------------------------------------------------------ grouping

  describe('groupBy', () => {
    it('groups by f(x) (PySpark example)', async () => {
      const result = await sc
        .parallelize([1, 1, 2, 3, 5, 8])
        .groupBy((x) => x % 2)
        .collect();
      expect(sortedGroups(result)).toEqual([
        [0, [2, 8]],
        [1, [1, 1, 3, 5]],
      ]);
    });

    it('honours numPartitions and a partitionFunc using env', async () => {
      const grouped = sc.parallelize(['apple', 'avocado', 'banana', 'cherry', 'blueberry'], 3).groupBy(
        (w: string) => w[0]!,
        2,
        (k: string, env: { first: string }) => (k === env.first ? 0 : 1),
        {
          first: 'a',
        },
      );
      expect(grouped.getNumPartitions()).toBe(2);
      const parts = await grouped.glom().collect();
      expect(parts).toHaveLength(2);
      expect(sortedGroups(parts[0]!)).toEqual([['a', ['apple', 'avocado']]]);
      expect(sortedGroups(parts[1]!)).toEqual([
        ['b', ['banana', 'blueberry']],
        ['c', ['cherry']],
      ]);
    });

    it('passes env to the key function', async () => {
      const result = await sc
        .parallelize([1, 2, 3, 4, 5, 6, 7])
        .groupBy((x, env: { m: number }) => x % env.m, undefined, undefined, { m: 3 })
        .collect();
      expect(sortedGroups(result)).toEqual([
        [0, [3, 6]],
        [1, [1, 4, 7]],
        [2, [2, 5]],
      ]);
    });
  });

  describe('groupByKey', () => {
    const data: Array<[string, number]> = [
      ['a', 1],
      ['b', 1],
      ['a', 1],
    ];

    it('counts and lists grouped values (PySpark examples)', async () => {
      const rdd = sc.parallelize(data);
      expect(
        sorted(
          await rdd
            .groupByKey()
            .mapValues((vs) => vs.length)
            .collect(),
        ),
      ).toEqual([
        ['a', 2],
        ['b', 1],
      ]);
      expect(sortedGroups(await rdd.groupByKey().collect())).toEqual([
        ['a', [1, 1]],
        ['b', [1]],
      ]);
    });

    it('groups values as plain arrays across many partitions, with numPartitions', async () => {
      const pairs = Array.from({ length: 100 }, (_, i) => [i % 7, i] as [number, number]);
      const grouped = sc.parallelize(pairs, 9).groupByKey(5);
      expect(grouped.getNumPartitions()).toBe(5);
      const result = await grouped.collect();
      expect(result).toHaveLength(7);
      for (const [k, vs] of result) {
        expect(Array.isArray(vs)).toBe(true);
        expect(sorted(vs)).toEqual(pairs.filter(([kk]) => kk === k).map(([, v]) => v));
      }
    });

    it('treats keys by value: arrays are equal by content, 1 and "1" differ', async () => {
      const rdd = sc.parallelize<[unknown, string]>(
        [
          [[1, 2], 'x'],
          [1, 'one'],
          [[1, 2], 'y'],
          ['1', 'string one'],
          [[1, 2], 'z'],
          [null, 'n'],
        ],
        3,
      );
      const result = sortedGroups(await rdd.groupByKey(2).collect());
      expect(result).toHaveLength(4);
      expect(result).toEqual(
        sorted([
          [null, ['n']],
          [1, ['one']],
          ['1', ['string one']],
          [
            [1, 2],
            ['x', 'y', 'z'],
          ],
        ]),
      );
    });

    it('gives an empty result on an empty RDD', async () => {
      expect(await sc.parallelize<[string, number]>([], 3).groupByKey().collect()).toEqual([]);
    });
  });

  // ------------------------------------------------------------------ aggregation by key

  describe('reduceByKey', () => {
    it('merges values per key (PySpark example)', async () => {
      const rdd = sc.parallelize<[string, number]>([
        ['a', 1],
        ['b', 1],
        ['a', 1],
      ]);
      expect(sorted(await rdd.reduceByKey((a, b) => a + b).collect())).toEqual([
        ['a', 2],
        ['b', 1],
      ]);
    });

    it('uses env after numPartitions and partitionFunc', async () => {
      const rdd = sc.parallelize<[string, number]>(
        [
          ['a', 1],
          ['b', 2],
          ['a', 3],
          ['b', 4],
          ['c', 5],
        ],
        3,
      );
      const reduced = rdd.reduceByKey((a, b, env: { k: number }) => a + b + env.k, undefined, undefined, {
        k: 100,
      });
      expect(sorted(await reduced.collect())).toEqual([
        ['a', 104],
        ['b', 106],
        ['c', 5],
      ]);
    });

    it('returns numPartitions partitions and merges map-side and reduce-side', async () => {
      const pairs = Array.from({ length: 1000 }, (_, i) => [`k${i % 13}`, i] as [string, number]);
      const reduced = sc.parallelize(pairs, 8).reduceByKey((a, b) => a + b, 3);
      expect(reduced.getNumPartitions()).toBe(3);
      const result = await reduced.collectAsMap();
      expect(result.size).toBe(13);
      for (let j = 0; j < 13; j++) {
        const expected = pairs.filter(([k]) => k === `k${j}`).reduce((s, [, v]) => s + v, 0);
        expect(result.get(`k${j}`)).toBe(expected);
      }
    });

    it('merges compound (array) keys by value across partitions', async () => {
      const rdd = sc.parallelize<[[string, number], number]>(
        [
          [['x', 1], 1],
          [['x', 2], 10],
          [['x', 1], 2],
          [['x', 1], 4],
          [['x', 2], 20],
        ],
        5,
      );
      expect(sorted(await rdd.reduceByKey((a, b) => a + b).collect())).toEqual([
        [['x', 1], 7],
        [['x', 2], 30],
      ]);
    });

    it('rejects non-pair elements with a TaskFailedError that explains [key, value] pairs are needed', async () => {
      const notPairs = sc.parallelize([1, 2, 3], 2) as unknown as RDD<[number, number]>;
      const err = await rejection(notPairs.reduceByKey((a, b) => a + b).collect());
      expect(err).toBeInstanceOf(TaskFailedError);
      expect(err.cause).toBeInstanceOf(Error);
      expect((err.cause as Error).message).toContain('[key, value] pairs');

      const strings = sc.parallelize(['ab', 'cd'], 1) as unknown as RDD<[string, string]>;
      const err2 = await rejection(strings.reduceByKey((a, b) => a + b).collect());
      expect(err2).toBeInstanceOf(TaskFailedError);
      expect((err2.cause as Error).message).toContain('[key, value] pairs');
    });

    it('rejects arrays that are not pairs (length 1 or 3), as PySpark fails to unpack them', async () => {
      const triples = sc.parallelize([[1, 2, 3]], 1) as unknown as RDD<[number, number]>;
      const err = await rejection(triples.reduceByKey((a, b) => a + b).collect());
      expect(err).toBeInstanceOf(TaskFailedError);
      expect((err.cause as Error).message).toContain('[key, value] pairs');

      const singles = sc.parallelize([['solo']], 1) as unknown as RDD<[string, string]>;
      const err2 = await rejection(singles.reduceByKey((a, b) => a + b).collect());
      expect(err2).toBeInstanceOf(TaskFailedError);
      expect((err2.cause as Error).message).toContain('[key, value] pairs');
    });

    it('adds no shuffle on an RDD already partitioned by the same HashPartitioner', async () => {
      const pairs = Array.from({ length: 40 }, (_, i) => [i % 6, 1] as [number, number]);
      const partitioned = sc.parallelize(pairs, 3).partitionBy(4);
      expect(shuffleCount(partitioned.toDebugString())).toBe(1);

      const reduced = partitioned.reduceByKey((a, b) => a + b);
      const debug = reduced.toDebugString();
      expect(shuffleCount(debug)).toBe(1);
      expect(reduced.getNumPartitions()).toBe(4);
      expect(reduced.partitioner).toBeDefined();
      expect(reduced.partitioner!.equals(partitioned.partitioner)).toBe(true);
      const expected = [0, 1, 2, 3, 4, 5].map((k) => [k, pairs.filter(([kk]) => kk === k).length]);
      expect(sorted(await reduced.collect())).toEqual(expected);

      // explicitly the same number of partitions: still no shuffle
      expect(shuffleCount(partitioned.reduceByKey((a, b) => a + b, 4).toDebugString())).toBe(1);
      // a different partitioner does shuffle again
      const reshuffled = partitioned.reduceByKey((a, b) => a + b, 2);
      expect(shuffleCount(reshuffled.toDebugString())).toBe(2);
      expect(sorted(await reshuffled.collect())).toEqual(expected);
    });

    it('adds no shuffle after a previous reduceByKey with the same partition count, and keeps results exact', async () => {
      const rdd = sc.parallelize<[string, number]>(
        [
          ['a', 1],
          ['b', 2],
          ['a', 3],
        ],
        2,
      );
      const once = rdd.reduceByKey((a, b) => a + b, 2);
      const twice = once.mapValues((v) => v * 10).reduceByKey((a, b) => a + b);
      expect(shuffleCount(twice.toDebugString())).toBe(1);
      expect(sorted(await twice.collect())).toEqual([
        ['a', 40],
        ['b', 20],
      ]);
    });
  });

  describe('foldByKey', () => {
    it('folds values per key from zero (PySpark example)', async () => {
      const rdd = sc.parallelize<[string, number]>([
        ['a', 1],
        ['b', 1],
        ['a', 1],
      ]);
      expect(sorted(await rdd.foldByKey(0, (a, b) => a + b).collect())).toEqual([
        ['a', 2],
        ['b', 1],
      ]);
    });

    it('copies a mutable zero ([]) per key: keys never share it (one partition)', async () => {
      const rdd = sc.parallelize<[string, number[]]>(
        [
          ['a', [1]],
          ['b', [2]],
          ['a', [3]],
          ['c', [4]],
        ],
        1,
      );
      const folded = rdd.foldByKey([] as number[], (acc, v) => {
        acc.push(...v);
        return acc;
      });
      expect(sortedGroups(await folded.collect())).toEqual([
        ['a', [1, 3]],
        ['b', [2]],
        ['c', [4]],
      ]);
    });

    it('copies a mutable zero per key and per partition across several partitions', async () => {
      const pairs = Array.from({ length: 30 }, (_, i) => [`k${i % 3}`, [i]] as [string, number[]]);
      const folded = sc.parallelize(pairs, 4).foldByKey(
        [] as number[],
        (acc, v) => {
          acc.push(...v);
          return acc;
        },
        2,
      );
      const result = sortedGroups(await folded.collect());
      expect(result).toEqual(
        [0, 1, 2].map((j) => [`k${j}`, pairs.filter(([k]) => k === `k${j}`).map(([, v]) => v[0]!)]),
      );
    });

    it('uses env after numPartitions and partitionFunc', async () => {
      const rdd = sc.parallelize<[string, number]>(
        [
          ['a', 2],
          ['a', 3],
          ['b', 5],
        ],
        2,
      );
      const folded = rdd.foldByKey(1, (a, b, env: { scale: number }) => a * b * env.scale, 1, undefined, {
        scale: 1,
      });
      expect(sorted(await folded.collect())).toEqual([
        ['a', 6],
        ['b', 5],
      ]);
    });
  });

  describe('aggregateByKey', () => {
    it('aggregates [sum, count] per key (PySpark example)', async () => {
      const rdd = sc.parallelize<[string, number]>([
        ['a', 1],
        ['b', 1],
        ['a', 2],
      ]);
      const result = await rdd
        .aggregateByKey(
          [0, 0] as [number, number],
          (x, y) => [x[0] + y, x[1] + 1] as [number, number],
          (x, y) => [x[0] + y[0], x[1] + y[1]] as [number, number],
        )
        .collect();
      expect(sorted(result)).toEqual([
        ['a', [3, 2]],
        ['b', [1, 1]],
      ]);
    });

    it('copies a mutable array zero per key (one partition)', async () => {
      const rdd = sc.parallelize<[string, number]>(
        [
          ['a', 1],
          ['b', 2],
          ['a', 3],
          ['b', 4],
          ['c', 5],
        ],
        1,
      );
      const result = await rdd
        .aggregateByKey(
          [] as number[],
          (acc, v) => {
            acc.push(v);
            return acc;
          },
          (x, y) => {
            x.push(...y);
            return x;
          },
        )
        .collect();
      expect(sortedGroups(result)).toEqual([
        ['a', [1, 3]],
        ['b', [2, 4]],
        ['c', [5]],
      ]);
    });

    it('copies a mutable object zero per key and partition, with env', async () => {
      const pairs = Array.from({ length: 24 }, (_, i) => [i % 4, i] as [number, number]);
      const result = await sc
        .parallelize(pairs, 5)
        .aggregateByKey(
          { sum: 0, items: [] as number[] },
          (acc, v, env: { w: number }) => {
            acc.sum += v * env.w;
            acc.items.push(v);
            return acc;
          },
          (a, b) => {
            a.sum += b.sum;
            a.items.push(...b.items);
            return a;
          },
          3,
          undefined,
          { w: 2 },
        )
        .collect();
      expect(result).toHaveLength(4);
      for (const [k, agg] of result) {
        const vs = pairs.filter(([kk]) => kk === k).map(([, v]) => v);
        expect(sorted(agg.items)).toEqual(vs);
        expect(agg.sum).toBe(2 * vs.reduce((s, v) => s + v, 0));
      }
    });
  });

  describe('combineByKey', () => {
    it('builds lists with createCombiner/mergeValue/mergeCombiners (PySpark example)', async () => {
      const rdd = sc.parallelize<[string, number]>([
        ['a', 1],
        ['b', 1],
        ['a', 2],
      ]);
      const result = await rdd
        .combineByKey(
          (v) => [v],
          (c: number[], v) => {
            c.push(v);
            return c;
          },
          (a: number[], b: number[]) => {
            a.push(...b);
            return a;
          },
        )
        .collect();
      expect(sortedGroups(result)).toEqual([
        ['a', [1, 2]],
        ['b', [1]],
      ]);
    });

    it('computes averages with numPartitions and env', async () => {
      const rdd = sc.parallelize<[string, number]>(
        [
          ['x', 1],
          ['y', 10],
          ['x', 3],
          ['y', 20],
          ['x', 5],
        ],
        3,
      );
      const avg = rdd
        .combineByKey(
          (v, env: { base: number }) => [v + env.base, 1] as [number, number],
          (c, v, env) => [c[0] + v + env.base, c[1] + 1] as [number, number],
          (a, b) => [a[0] + b[0], a[1] + b[1]] as [number, number],
          2,
          undefined,
          { base: 0 },
        )
        .mapValues(([s, n]) => s / n);
      expect(avg.getNumPartitions()).toBe(2);
      expect(sorted(await avg.collect())).toEqual([
        ['x', 3],
        ['y', 15],
      ]);
    });
  });

  // ------------------------------------------------------------------ per-element pair helpers

  describe('mapValues, flatMapValues, keys, values, keyBy', () => {
    it('mapValues maps each value (PySpark example)', async () => {
      const rdd = sc.parallelize<[string, string[]]>([
        ['a', ['apple', 'banana', 'lemon']],
        ['b', ['grapes']],
      ]);
      expect(await rdd.mapValues((x) => x.length).collect()).toEqual([
        ['a', 3],
        ['b', 1],
      ]);
    });

    it('mapValues passes env', async () => {
      const rdd = sc.parallelize<[string, number]>([
        ['a', 1],
        ['b', 2],
      ]);
      expect(await rdd.mapValues((v, env: { k: number }) => v * env.k, { k: 7 }).collect()).toEqual([
        ['a', 7],
        ['b', 14],
      ]);
    });

    it('flatMapValues flattens each value (PySpark example)', async () => {
      const rdd = sc.parallelize<[string, string[]]>([
        ['a', ['x', 'y', 'z']],
        ['b', ['p', 'r']],
      ]);
      expect(await rdd.flatMapValues((x) => x).collect()).toEqual([
        ['a', 'x'],
        ['a', 'y'],
        ['a', 'z'],
        ['b', 'p'],
        ['b', 'r'],
      ]);
    });

    it('flatMapValues drops keys whose iterable is empty and accepts generators', async () => {
      const rdd = sc.parallelize<[string, number]>(
        [
          ['a', 0],
          ['b', 2],
          ['c', 3],
        ],
        2,
      );
      const out = await rdd
        .flatMapValues(function* (n: number) {
          for (let i = 0; i < n; i++) yield i;
        })
        .collect();
      expect(out).toEqual([
        ['b', 0],
        ['b', 1],
        ['c', 0],
        ['c', 1],
        ['c', 2],
      ]);
    });

    it('keys and values (PySpark examples)', async () => {
      const rdd = sc.parallelize<[number, number]>([
        [1, 2],
        [3, 4],
      ]);
      expect(await rdd.keys().collect()).toEqual([1, 3]);
      expect(await rdd.values().collect()).toEqual([2, 4]);
    });

    it('keyBy then cogroup (PySpark example)', async () => {
      const rdd1 = sc.parallelize([0, 1, 2]).keyBy((x) => x * x);
      const rdd2 = sc.parallelize<[number, number]>([0, 1, 2, 3, 4].map((i) => [i, i] as [number, number]));
      expect(sortedCogroups(await rdd1.cogroup(rdd2).collect())).toEqual([
        [0, [[0], [0]]],
        [1, [[1], [1]]],
        [2, [[], [2]]],
        [3, [[], [3]]],
        [4, [[2], [4]]],
      ]);
    });

    it('keyBy passes env', async () => {
      expect(
        await sc
          .parallelize(['a', 'bb'])
          .keyBy((s, env: { p: string }) => env.p + s, { p: '>' })
          .collect(),
      ).toEqual([
        ['>a', 'a'],
        ['>bb', 'bb'],
      ]);
    });
  });

  // ------------------------------------------------------------------ joins

  describe('joins', () => {
    it('join (PySpark example)', async () => {
      const rdd1 = sc.parallelize<[string, number]>([
        ['a', 1],
        ['b', 4],
      ]);
      const rdd2 = sc.parallelize<[string, number]>([
        ['a', 2],
        ['a', 3],
      ]);
      expect(sorted(await rdd1.join(rdd2).collect())).toEqual([
        ['a', [1, 2]],
        ['a', [1, 3]],
      ]);
    });

    it('leftOuterJoin (PySpark example)', async () => {
      const rdd1 = sc.parallelize<[string, number]>([
        ['a', 1],
        ['b', 4],
      ]);
      const rdd2 = sc.parallelize<[string, number]>([['a', 2]]);
      expect(sorted(await rdd1.leftOuterJoin(rdd2).collect())).toEqual([
        ['a', [1, 2]],
        ['b', [4, null]],
      ]);
    });

    it('rightOuterJoin (PySpark example)', async () => {
      const rdd1 = sc.parallelize<[string, number]>([
        ['a', 1],
        ['b', 4],
      ]);
      const rdd2 = sc.parallelize<[string, number]>([['a', 2]]);
      expect(sorted(await rdd2.rightOuterJoin(rdd1).collect())).toEqual([
        ['a', [2, 1]],
        ['b', [null, 4]],
      ]);
    });

    it('fullOuterJoin (PySpark example)', async () => {
      const rdd1 = sc.parallelize<[string, number]>([
        ['a', 1],
        ['b', 4],
      ]);
      const rdd2 = sc.parallelize<[string, number]>([
        ['a', 2],
        ['c', 8],
      ]);
      expect(sorted(await rdd1.fullOuterJoin(rdd2).collect())).toEqual([
        ['a', [1, 2]],
        ['b', [4, null]],
        ['c', [null, 8]],
      ]);
    });

    describe('with duplicate keys (2 values x 3 values = 6 rows)', () => {
      const left: Array<[string, number]> = [
        ['k', 1],
        ['x', 0],
        ['k', 2],
      ];
      const right: Array<[string, string]> = [
        ['k', 'a'],
        ['y', 'z'],
        ['k', 'b'],
        ['k', 'c'],
      ];
      const product: Array<[string, [number, string]]> = [
        ['k', [1, 'a']],
        ['k', [1, 'b']],
        ['k', [1, 'c']],
        ['k', [2, 'a']],
        ['k', [2, 'b']],
        ['k', [2, 'c']],
      ];

      it('join', async () => {
        const out = await sc.parallelize(left, 2).join(sc.parallelize(right, 3)).collect();
        expect(out).toHaveLength(6);
        expect(sorted(out)).toEqual(product);
      });

      it('leftOuterJoin', async () => {
        const out = await sc.parallelize(left, 2).leftOuterJoin(sc.parallelize(right, 3)).collect();
        expect(out).toHaveLength(7);
        expect(sorted(out)).toEqual([...product, ['x', [0, null]]]);
      });

      it('rightOuterJoin', async () => {
        const out = await sc.parallelize(left, 2).rightOuterJoin(sc.parallelize(right, 3)).collect();
        expect(out).toHaveLength(7);
        expect(sorted(out)).toEqual([...product, ['y', [null, 'z']]]);
      });

      it('fullOuterJoin', async () => {
        const out = await sc.parallelize(left, 2).fullOuterJoin(sc.parallelize(right, 3)).collect();
        expect(out).toHaveLength(8);
        expect(sorted(out)).toEqual([...product, ['x', [0, null]], ['y', [null, 'z']]]);
      });
    });

    it('joins honour numPartitions and set a partitioner', async () => {
      const a = sc.parallelize<[number, string]>(
        [
          [1, 'a'],
          [2, 'b'],
          [3, 'c'],
        ],
        2,
      );
      const b = sc.parallelize<[number, string]>(
        [
          [2, 'B'],
          [3, 'C'],
          [4, 'D'],
        ],
        3,
      );
      for (const joined of [
        a.join(b, 5),
        a.leftOuterJoin(b, 5),
        a.rightOuterJoin(b, 5),
        a.fullOuterJoin(b, 5),
      ]) {
        expect(joined.getNumPartitions()).toBe(5);
        expect(joined.partitioner?.numPartitions).toBe(5);
      }
      expect(a.join(b).getNumPartitions()).toBe(3);
      expect(sorted(await a.join(b, 5).collect())).toEqual([
        [2, ['b', 'B']],
        [3, ['c', 'C']],
      ]);
    });

    it('joining co-partitioned RDDs adds no shuffle', async () => {
      const a = sc
        .parallelize<[number, string]>(
          [
            [1, 'a'],
            [2, 'b'],
          ],
          2,
        )
        .partitionBy(3);
      const b = sc
        .parallelize<[number, string]>(
          [
            [2, 'B'],
            [1, 'A'],
          ],
          2,
        )
        .partitionBy(3);
      const joined = a.join(b);
      // one shuffle each for the two partitionBy calls, none for the join itself
      expect(shuffleCount(joined.toDebugString())).toBe(2);
      expect(sorted(await joined.collect())).toEqual([
        [1, ['a', 'A']],
        [2, ['b', 'B']],
      ]);
    });

    it('keeps null values distinct from a missing side', async () => {
      const a = sc.parallelize<[string, number | null]>([
        ['a', null],
        ['b', 1],
      ]);
      const b = sc.parallelize<[string, number | null]>([['b', null]]);
      expect(sorted(await a.fullOuterJoin(b).collect())).toEqual([
        ['a', [null, null]],
        ['b', [1, null]],
      ]);
      expect(sorted(await a.join(b).collect())).toEqual([['b', [1, null]]]);
    });

    it('joins on compound keys by value', async () => {
      const a = sc.parallelize<[[number, string], number]>(
        [
          [[1, 'x'], 10],
          [[2, 'y'], 20],
        ],
        2,
      );
      const b = sc.parallelize<[[number, string], string]>(
        [
          [[1, 'x'], 'one'],
          [[2, 'z'], 'two'],
        ],
        2,
      );
      expect(await a.join(b).collect()).toEqual([
        [
          [1, 'x'],
          [10, 'one'],
        ],
      ]);
    });

    it('join with an empty side', async () => {
      const a = sc.parallelize<[string, number]>([['a', 1]]);
      const empty = sc.parallelize<[string, number]>([], 2);
      expect(await a.join(empty).collect()).toEqual([]);
      expect(await a.leftOuterJoin(empty).collect()).toEqual([['a', [1, null]]]);
      expect(await empty.rightOuterJoin(a).collect()).toEqual([['a', [null, 1]]]);
    });
  });

  describe('cogroup and groupWith', () => {
    it('cogroup (PySpark example)', async () => {
      const rdd1 = sc.parallelize<[string, number]>([
        ['a', 1],
        ['b', 4],
      ]);
      const rdd2 = sc.parallelize<[string, number]>([['a', 2]]);
      expect(sortedCogroups(await rdd1.cogroup(rdd2).collect())).toEqual([
        ['a', [[1], [2]]],
        ['b', [[4], []]],
      ]);
    });

    it('cogroup gathers duplicate values as plain arrays, with numPartitions', async () => {
      const rdd1 = sc.parallelize<[string, number]>(
        [
          ['a', 1],
          ['a', 2],
          ['b', 3],
        ],
        3,
      );
      const rdd2 = sc.parallelize<[string, string]>(
        [
          ['a', 'x'],
          ['c', 'y'],
          ['a', 'z'],
        ],
        2,
      );
      const grouped = rdd1.cogroup(rdd2, 4);
      expect(grouped.getNumPartitions()).toBe(4);
      const result = await grouped.collect();
      for (const [, lists] of result) {
        expect(Array.isArray(lists[0])).toBe(true);
        expect(Array.isArray(lists[1])).toBe(true);
      }
      expect(sortedCogroups(result)).toEqual([
        [
          'a',
          [
            [1, 2],
            ['x', 'z'],
          ],
        ],
        ['b', [[3], []]],
        ['c', [[], ['y']]],
      ]);
    });

    it('groupWith over 3 RDDs', async () => {
      const rdd1 = sc.parallelize<[string, number]>([
        ['a', 5],
        ['b', 6],
      ]);
      const rdd2 = sc.parallelize<[string, number]>([
        ['a', 1],
        ['b', 4],
        ['c', 9],
      ]);
      const rdd3 = sc.parallelize<[string, number]>([
        ['a', 2],
        ['a', 3],
      ]);
      expect(sortedCogroups(await rdd1.groupWith(rdd2, rdd3).collect())).toEqual([
        ['a', [[5], [1], [2, 3]]],
        ['b', [[6], [4], []]],
        ['c', [[], [9], []]],
      ]);
    });

    it('groupWith over 4 RDDs (PySpark example)', async () => {
      const rdd1 = sc.parallelize<[string, number]>([
        ['a', 5],
        ['b', 6],
      ]);
      const rdd2 = sc.parallelize<[string, number]>([
        ['a', 1],
        ['b', 4],
      ]);
      const rdd3 = sc.parallelize<[string, number]>([['a', 2]]);
      const rdd4 = sc.parallelize<[string, number]>([['b', 42]]);
      expect(sortedCogroups(await rdd1.groupWith(rdd2, rdd3, rdd4).collect())).toEqual([
        ['a', [[5], [1], [2], []]],
        ['b', [[6], [4], [], [42]]],
      ]);
    });
  });

  // ------------------------------------------------------------------ set-like operations

  describe('subtract, subtractByKey, intersection, distinct, cartesian', () => {
    it('subtract (PySpark example)', async () => {
      const rdd1 = sc.parallelize<[string, number]>([
        ['a', 1],
        ['b', 4],
        ['b', 5],
        ['a', 3],
      ]);
      const rdd2 = sc.parallelize<[string, number | null]>([
        ['a', 3],
        ['c', null],
      ]);
      expect(sorted(await rdd1.subtract(rdd2 as RDD<[string, number]>).collect())).toEqual([
        ['a', 1],
        ['b', 4],
        ['b', 5],
      ]);
    });

    it('subtract keeps duplicates of the left side', async () => {
      const left = sc.parallelize([1, 1, 2, 3, 3, 3, 4], 3);
      const right = sc.parallelize([3, 5], 2);
      const out = left.subtract(right, 2);
      expect(out.getNumPartitions()).toBe(2);
      expect(sorted(await out.collect())).toEqual([1, 1, 2, 4]);
    });

    it('subtractByKey (PySpark example)', async () => {
      const rdd1 = sc.parallelize<[string, number]>([
        ['a', 1],
        ['b', 4],
        ['b', 5],
        ['a', 2],
      ]);
      const rdd2 = sc.parallelize<[string, number | null]>([
        ['a', 3],
        ['c', null],
      ]);
      expect(sorted(await rdd1.subtractByKey(rdd2).collect())).toEqual([
        ['b', 4],
        ['b', 5],
      ]);
    });

    it('intersection (PySpark example)', async () => {
      const rdd1 = sc.parallelize([1, 10, 2, 3, 4, 5]);
      const rdd2 = sc.parallelize([1, 6, 2, 3, 7, 8]);
      expect(sorted(await rdd1.intersection(rdd2).collect())).toEqual([1, 2, 3]);
    });

    it('intersection has no duplicates, even when both inputs have them', async () => {
      const rdd1 = sc.parallelize([1, 1, 2, 2, 2, 3, 9], 3);
      const rdd2 = sc.parallelize([2, 1, 1, 2, 4], 2);
      expect(sorted(await rdd1.intersection(rdd2).collect())).toEqual([1, 2]);
      const arrays1 = sc.parallelize([
        ['a', 1],
        ['a', 1],
        ['b', 2],
      ]);
      const arrays2 = sc.parallelize([
        ['a', 1],
        ['c', 3],
        ['a', 1],
      ]);
      expect(await arrays1.intersection(arrays2).collect()).toEqual([['a', 1]]);
    });

    it('distinct (PySpark example)', async () => {
      expect(sorted(await sc.parallelize([1, 1, 2, 3]).distinct().collect())).toEqual([1, 2, 3]);
    });

    it('distinct uses value equality: two ["a", 1] arrays are one element', async () => {
      const rdd = sc.parallelize<unknown>(
        [['a', 1], ['a', 1], ['b', 1], ['a', 2], 1, '1', 1, ['a', [1, 2]], ['a', [1, 2]], null, null],
        4,
      );
      const out = rdd.distinct(3);
      expect(out.getNumPartitions()).toBe(3);
      const result = await out.collect();
      expect(result).toHaveLength(7);
      expect(sorted(result)).toEqual(sorted([['a', 1], ['b', 1], ['a', 2], 1, '1', ['a', [1, 2]], null]));
    });

    it('cartesian (PySpark example) and its partition count', async () => {
      const rdd = sc.parallelize([1, 2]);
      expect(sorted(await rdd.cartesian(rdd).collect())).toEqual([
        [1, 1],
        [1, 2],
        [2, 1],
        [2, 2],
      ]);
      const a = sc.parallelize(['x', 'y', 'z'], 2);
      const b = sc.parallelize([1, 2, 3, 4], 3);
      const prod = a.cartesian(b);
      expect(prod.getNumPartitions()).toBe(6);
      const out = await prod.collect();
      expect(out).toHaveLength(12);
      expect(sorted(out)).toEqual(['x', 'y', 'z'].flatMap((s) => [1, 2, 3, 4].map((n) => [s, n])));
      expect(await a.cartesian(sc.parallelize<number>([], 2)).collect()).toEqual([]);
    });
  });

  // ------------------------------------------------------------------ sorting

  describe('sortByKey and sortBy', () => {
    const tmp: Array<[string, number]> = [
      ['a', 1],
      ['b', 2],
      ['1', 3],
      ['d', 4],
      ['2', 5],
    ];
    const tmpSorted: Array<[string, number]> = [
      ['1', 3],
      ['2', 5],
      ['a', 1],
      ['b', 2],
      ['d', 4],
    ];

    it('sortByKey (PySpark examples: first, 1 and 2 partitions)', async () => {
      expect(await sc.parallelize(tmp).sortByKey().first()).toEqual(['1', 3]);
      expect(await sc.parallelize(tmp).sortByKey(true, 1).collect()).toEqual(tmpSorted);
      expect(await sc.parallelize(tmp).sortByKey(true, 2).collect()).toEqual(tmpSorted);
    });

    it('sortByKey with a keyfunc (PySpark example with tmp2, lowercase)', async () => {
      const tmp2: Array<[string, number]> = [
        ['Mary', 1],
        ['had', 2],
        ['a', 3],
        ['little', 4],
        ['lamb', 5],
        ['whose', 6],
        ['fleece', 7],
        ['was', 8],
        ['white', 9],
      ];
      const expected = [
        ['a', 3],
        ['fleece', 7],
        ['had', 2],
        ['lamb', 5],
        ['little', 4],
        ['Mary', 1],
        ['was', 8],
        ['white', 9],
        ['whose', 6],
      ];
      const out = sc.parallelize(tmp2).sortByKey(true, 3, (k) => k.toLowerCase());
      expect(out.getNumPartitions()).toBe(3);
      expect(await out.collect()).toEqual(expected);
      // without the keyfunc, 'Mary' sorts first (uppercase before lowercase)
      expect((await sc.parallelize(tmp2).sortByKey(true, 3).first())[0]).toBe('Mary');
      // descending with the keyfunc
      expect(
        await sc
          .parallelize(tmp2)
          .sortByKey(false, 2, (k) => k.toLowerCase())
          .collect(),
      ).toEqual([...expected].reverse());
    });

    it('sortByKey keyfunc receives env', async () => {
      const rdd = sc.parallelize<[number, string]>(
        [
          [1, 'a'],
          [2, 'b'],
          [3, 'c'],
          [4, 'd'],
        ],
        2,
      );
      const out = rdd.sortByKey(true, 2, (k, env: { pivot: number }) => Math.abs(k - env.pivot), {
        pivot: 3,
      });
      expect((await out.collect()).map(([k]) => k)).toEqual([3, 2, 4, 1]);
    });

    it('sortByKey descending, across numPartitions, with range partitions in order', async () => {
      const keys = [17, 3, 99, -4, 0, 42, 8, 3.5, 61, 25, 10, 7];
      const rdd = sc.parallelize(
        keys.map((k) => [k, `v${k}`] as [number, string]),
        3,
      );
      const asc = [...keys].sort((a, b) => a - b);
      const ascending = rdd.sortByKey(true, 4);
      expect(ascending.getNumPartitions()).toBe(4);
      expect((await ascending.collect()).map(([k]) => k)).toEqual(asc);
      const parts = (await ascending.glom().collect()).map((p) => p.map(([k]) => k));
      expect(parts.flat()).toEqual(asc);

      const descending = rdd.sortByKey(false, 4);
      expect((await descending.collect()).map(([k]) => k)).toEqual([...asc].reverse());
      expect((await rdd.sortByKey(false).collect()).map(([k]) => k)).toEqual([...asc].reverse());
      expect((await rdd.sortByKey(false, 1).collect()).map(([k]) => k)).toEqual([...asc].reverse());
    });

    it('sorts numbers numerically, not as strings', async () => {
      const rdd = sc.parallelize<[number, null]>(
        [100, 9, -1, 10, 2.5, 0].map((k) => [k, null] as [number, null]),
        2,
      );
      expect((await rdd.sortByKey(true, 3).collect()).map(([k]) => k)).toEqual([-1, 0, 2.5, 9, 10, 100]);
    });

    it('more partitions than elements still sorts right', async () => {
      const rdd = sc.parallelize<[number, string]>(
        [
          [3, 'c'],
          [1, 'a'],
          [2, 'b'],
        ],
        2,
      );
      const out = rdd.sortByKey(true, 10);
      expect(out.getNumPartitions()).toBe(10);
      expect(await out.collect()).toEqual([
        [1, 'a'],
        [2, 'b'],
        [3, 'c'],
      ]);
      expect(await rdd.sortByKey(false, 10).collect()).toEqual([
        [3, 'c'],
        [2, 'b'],
        [1, 'a'],
      ]);
      expect(
        await sc
          .parallelize([5, 1, 4], 1)
          .sortBy((x) => x, true, 7)
          .collect(),
      ).toEqual([1, 4, 5]);
    });

    it('sorting an empty RDD gives an empty result', async () => {
      expect(await sc.parallelize<[number, number]>([], 3).sortByKey(true, 2).collect()).toEqual([]);
      expect(await sc.parallelize<[number, number]>([], 3).sortByKey().collect()).toEqual([]);
      expect(
        await sc
          .parallelize<number>([], 2)
          .sortBy((x) => x)
          .collect(),
      ).toEqual([]);
    });

    it('is stable: equal keys keep their input order, and repeated runs agree', async () => {
      const data: Array<[string, number]> = [
        ['b', 1],
        ['a', 1],
        ['b', 2],
        ['a', 2],
        ['b', 3],
        ['a', 3],
        ['c', 1],
        ['a', 4],
      ];
      const ascending = [
        ['a', 1],
        ['a', 2],
        ['a', 3],
        ['a', 4],
        ['b', 1],
        ['b', 2],
        ['b', 3],
        ['c', 1],
      ];
      const descending = [
        ['c', 1],
        ['b', 1],
        ['b', 2],
        ['b', 3],
        ['a', 1],
        ['a', 2],
        ['a', 3],
        ['a', 4],
      ];
      for (const slices of [1, 3, 8]) {
        const rdd = sc.parallelize(data, slices);
        for (const n of [1, 2, 3]) {
          expect(await rdd.sortByKey(true, n).collect()).toEqual(ascending);
          expect(await rdd.sortByKey(false, n).collect()).toEqual(descending);
        }
      }
      const rdd = sc.parallelize(data, 3);
      expect(await rdd.sortBy((kv) => kv[0], true, 2).collect()).toEqual(ascending);
      const sortedOnce = rdd.sortByKey(true, 3);
      expect(await sortedOnce.collect()).toEqual(await sortedOnce.collect());
    });

    it('orders strings by code point: astral characters sort after U+FFFF', async () => {
      const keys = ['\u{1F600}', 'z', '\u{FFFF}', 'A', '\u{E000}', '\u{10000}', 'é', ''];
      const byCodePoint = ['', 'A', 'z', 'é', '\u{E000}', '\u{FFFF}', '\u{10000}', '\u{1F600}'];
      const rdd = sc.parallelize(
        keys.map((k, i) => [k, i] as [string, number]),
        3,
      );
      for (const n of [1, 2, 4]) {
        expect((await rdd.sortByKey(true, n).collect()).map(([k]) => k)).toEqual(byCodePoint);
        expect((await rdd.sortByKey(false, n).collect()).map(([k]) => k)).toEqual([...byCodePoint].reverse());
      }
      expect(
        await sc
          .parallelize(keys, 2)
          .sortBy((s) => s, true, 3)
          .collect(),
      ).toEqual(byCodePoint);
    });

    it('sorts number arrays elementwise (tuple order), not as strings', async () => {
      const keys = [[1, 10], [1, 2], [0, 100], [1, 2, 0], [-1], [1], [0, 9]];
      const expected = [[-1], [0, 9], [0, 100], [1], [1, 2], [1, 2, 0], [1, 10]];
      const rdd = sc.parallelize(
        keys.map((k) => [k, k.length] as [number[], number]),
        3,
      );
      for (const n of [1, 3]) {
        expect((await rdd.sortByKey(true, n).collect()).map(([k]) => k)).toEqual(expected);
        expect((await rdd.sortByKey(false, n).collect()).map(([k]) => k)).toEqual([...expected].reverse());
      }
      expect(
        await sc
          .parallelize(keys, 2)
          .sortBy((k) => k, true, 2)
          .collect(),
      ).toEqual(expected);
    });

    it('sortBy (PySpark examples)', async () => {
      expect(
        await sc
          .parallelize(tmp)
          .sortBy((x) => x[0])
          .collect(),
      ).toEqual(tmpSorted);
      expect(
        await sc
          .parallelize(tmp)
          .sortBy((x) => x[1])
          .collect(),
      ).toEqual([
        ['a', 1],
        ['b', 2],
        ['1', 3],
        ['d', 4],
        ['2', 5],
      ]);
    });

    it('sortBy descending, with numPartitions and env', async () => {
      const data = [5, 3, 9, 1, 7, 2, 8];
      const out = sc
        .parallelize(data, 3)
        .sortBy((x, env: { sign: number }) => env.sign * x, false, 2, { sign: -1 });
      expect(out.getNumPartitions()).toBe(2);
      expect(await out.collect()).toEqual([1, 2, 3, 5, 7, 8, 9]);
      expect(
        await sc
          .parallelize(data, 3)
          .sortBy((x) => x, false)
          .collect(),
      ).toEqual([9, 8, 7, 5, 3, 2, 1]);
    });
  });

  // ------------------------------------------------------------------ partitioning

  describe('partitionBy', () => {
    it('splits keys into disjoint partitions (PySpark example)', async () => {
      const pairs = sc.parallelize([1, 2, 3, 4, 2, 4, 1]).map((x) => [x, x] as [number, number]);
      const sets = await pairs.partitionBy(2).glom().collect();
      expect(sets).toHaveLength(2);
      const keys0 = new Set(sets[0]!.map(([k]) => k));
      const keys1 = new Set(sets[1]!.map(([k]) => k));
      expect([...keys0].filter((k) => keys1.has(k))).toEqual([]);
      expect(sorted(sets.flat())).toEqual(sorted([1, 2, 3, 4, 2, 4, 1].map((x) => [x, x])));
    });

    it('places keys by a custom partitionFunc (checked with glom)', async () => {
      const pairs = sc.parallelize(
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((x) => [x, `v${x}`] as [number, string]),
        4,
      );
      const parts = await pairs
        .partitionBy(3, (k: number, env: { m: number }) => k % env.m, { m: 3 })
        .glom()
        .collect();
      expect(parts.map((p) => sorted(p.map(([k]) => k)))).toEqual([
        [3, 6, 9],
        [1, 4, 7, 10],
        [2, 5, 8],
      ]);
    });

    it('takes partitionFunc(key) modulo numPartitions, non-negative as in Python', async () => {
      const pairs = sc.parallelize<[number, null]>(
        [-3, -2, -1, 0, 1, 5].map((k) => [k, null] as [number, null]),
        2,
      );
      const parts = await pairs
        .partitionBy(2, (k: number) => k)
        .glom()
        .collect();
      // Python: -3 % 2 == 1, -2 % 2 == 0, -1 % 2 == 1
      expect(parts.map((p) => sorted(p.map(([k]) => k)))).toEqual([
        [-2, 0],
        [-3, -1, 1, 5],
      ]);
    });

    it('returns the same RDD when partitioned again by the same partitioner', () => {
      const pairs = sc.parallelize<[number, number]>(
        [
          [1, 1],
          [2, 2],
        ],
        2,
      );
      const byHash = pairs.partitionBy(3);
      expect(byHash.partitionBy(3)).toBe(byHash);
      expect(byHash.partitionBy(4)).not.toBe(byHash);

      const f = (k: number): number => k * 7;
      const byFn = pairs.partitionBy(3, f);
      expect(byFn.partitionBy(3, f)).toBe(byFn);
      expect(byFn.partitionBy(3)).not.toBe(byFn);
    });

    it('keeps every element', async () => {
      const data = Array.from({ length: 57 }, (_, i) => [i % 11, i] as [number, number]);
      const out = sc.parallelize(data, 5).partitionBy(7);
      expect(out.getNumPartitions()).toBe(7);
      expect(sorted(await out.collect())).toEqual(sorted(data));
    });
  });

  describe('repartition and coalesce', () => {
    it('repartition gives exactly numPartitions partitions and loses nothing (PySpark example)', async () => {
      const rdd = sc.parallelize([1, 2, 3, 4, 5, 6, 7], 4);
      expect(await rdd.glom().collect()).toEqual([[1], [2, 3], [4, 5], [6, 7]]);
      for (const n of [1, 2, 4, 10]) {
        const re = rdd.repartition(n);
        expect(re.getNumPartitions()).toBe(n);
        const parts = await re.glom().collect();
        expect(parts).toHaveLength(n);
        expect(sorted(parts.flat())).toEqual([1, 2, 3, 4, 5, 6, 7]);
      }
    });

    it('repartition spreads a large input over all partitions', async () => {
      const data = Array.from({ length: 1000 }, (_, i) => i);
      const parts = await sc.parallelize(data, 2).repartition(5).glom().collect();
      expect(parts).toHaveLength(5);
      for (const p of parts) expect(p.length).toBeGreaterThan(0);
      expect(sorted(parts.flat())).toEqual(data);
    });

    it('coalesce(1) merges partitions in order (PySpark example)', async () => {
      const rdd = sc.parallelize([1, 2, 3, 4, 5], 3);
      expect(await rdd.glom().collect()).toEqual([[1], [2, 3], [4, 5]]);
      expect(await rdd.coalesce(1).glom().collect()).toEqual([[1, 2, 3, 4, 5]]);
    });

    it('coalesce without shuffle never raises the partition count', async () => {
      const rdd = sc.parallelize([1, 2, 3, 4, 5], 3);
      const c10 = rdd.coalesce(10);
      expect(c10.getNumPartitions()).toBe(3);
      expect(await c10.collect()).toEqual([1, 2, 3, 4, 5]);
      const c2 = rdd.coalesce(2);
      expect(c2.getNumPartitions()).toBe(2);
      expect(await c2.collect()).toEqual([1, 2, 3, 4, 5]);
    });

    it('coalesce with shuffle can raise the partition count', async () => {
      const out = sc.parallelize([1, 2, 3, 4, 5], 3).coalesce(6, true);
      expect(out.getNumPartitions()).toBe(6);
      expect(sorted(await out.collect())).toEqual([1, 2, 3, 4, 5]);
    });

    it('rejects a non-positive partition count', () => {
      const rdd = sc.parallelize([1, 2, 3]);
      expect(() => rdd.coalesce(0)).toThrow(InvalidOperationError);
      expect(() => rdd.repartition(0)).toThrow(InvalidOperationError);
    });
  });

  describe('repartitionAndSortWithinPartitions', () => {
    const data: Array<[number, number]> = [
      [0, 5],
      [3, 8],
      [2, 6],
      [0, 8],
      [3, 8],
      [1, 3],
    ];

    it('partitions by partitionFunc and sorts each partition (PySpark example)', async () => {
      const rdd2 = sc.parallelize(data).repartitionAndSortWithinPartitions(2, (x: number) => x % 2, true);
      expect(await rdd2.glom().collect()).toEqual([
        [
          [0, 5],
          [0, 8],
          [2, 6],
        ],
        [
          [1, 3],
          [3, 8],
          [3, 8],
        ],
      ]);
    });

    it('sorts descending, and with a keyfunc', async () => {
      const desc = sc.parallelize(data, 3).repartitionAndSortWithinPartitions(2, (x: number) => x % 2, false);
      expect((await desc.glom().collect()).map((p) => p.map(([k]) => k))).toEqual([
        [2, 0, 0],
        [3, 3, 1],
      ]);
      const byNeg = sc
        .parallelize(data, 3)
        .repartitionAndSortWithinPartitions(
          1,
          undefined,
          true,
          (k: number, env: { s: number }) => env.s * k,
          { s: -1 },
        );
      expect((await byNeg.collect()).map(([k]) => k)).toEqual([3, 3, 2, 1, 0, 0]);
    });
  });

  // ------------------------------------------------------------------ zips

  describe('zip, zipWithIndex, zipWithUniqueId', () => {
    it('zip (PySpark example)', async () => {
      const rdd1 = sc.parallelize([0, 1, 2, 3, 4]);
      const rdd2 = sc.parallelize([1000, 1001, 1002, 1003, 1004]);
      expect(await rdd1.zip(rdd2).collect()).toEqual([
        [0, 1000],
        [1, 1001],
        [2, 1002],
        [3, 1003],
        [4, 1004],
      ]);
    });

    it('zip with a map of itself', async () => {
      const rdd = sc.parallelize(['a', 'bb', 'ccc'], 2);
      expect(await rdd.zip(rdd.map((s) => s.length)).collect()).toEqual([
        ['a', 1],
        ['bb', 2],
        ['ccc', 3],
      ]);
    });

    it('rejects mismatched partition counts when the zip is defined', () => {
      const a = sc.parallelize([1, 2, 3], 2);
      const b = sc.parallelize([1, 2, 3], 3);
      expect(() => a.zip(b)).toThrow(InvalidOperationError);
    });

    it('rejects mismatched element counts when run, with a TaskFailedError', async () => {
      const a = sc.parallelize([1, 2, 3, 4], 2);
      const b = sc.parallelize([1, 2, 3], 2);
      const zipped = a.zip(b); // defining it is fine
      const err = await rejection(zipped.collect());
      expect(err).toBeInstanceOf(TaskFailedError);
      expect((err.cause as Error).message).toMatch(/same number of elements/);
    });

    it('zipWithIndex (PySpark example)', async () => {
      expect(await sc.parallelize(['a', 'b', 'c', 'd'], 3).zipWithIndex().collect()).toEqual([
        ['a', 0],
        ['b', 1],
        ['c', 2],
        ['d', 3],
      ]);
    });

    it('zipWithIndex numbers contiguously across several partitions, including empty ones', async () => {
      const sparse = sc.parallelize([1, 2, 3], 7);
      const parts = await sparse.glom().collect();
      expect(parts.filter((p) => p.length === 0).length).toBeGreaterThan(0);
      expect(await sparse.zipWithIndex().collect()).toEqual([
        [1, 0],
        [2, 1],
        [3, 2],
      ]);

      const filtered = sc
        .parallelize(
          Array.from({ length: 20 }, (_, i) => i),
          5,
        )
        .filter((x) => x < 3 || x >= 12)
        .zipWithIndex();
      const expectedValues = [0, 1, 2, 12, 13, 14, 15, 16, 17, 18, 19];
      expect(await filtered.collect()).toEqual(expectedValues.map((v, i) => [v, i]));
      const glommed = await filtered.glom().collect();
      expect(glommed.map((p) => p.length)).toEqual([3, 0, 0, 4, 4]);

      expect(await sc.parallelize([], 3).zipWithIndex().collect()).toEqual([]);
      expect(await sc.parallelize(['only'], 1).zipWithIndex().collect()).toEqual([['only', 0]]);
    });

    it('zipWithIndex after a shuffle follows partition order', async () => {
      const out = await sc
        .parallelize([5, 3, 1, 4, 2], 2)
        .sortBy((x) => x, true, 3)
        .zipWithIndex()
        .collect();
      expect(out).toEqual([
        [1, 0],
        [2, 1],
        [3, 2],
        [4, 3],
        [5, 4],
      ]);
    });

    it('zipWithUniqueId (PySpark example)', async () => {
      expect(await sc.parallelize(['a', 'b', 'c', 'd', 'e'], 3).zipWithUniqueId().collect()).toEqual([
        ['a', 0],
        ['b', 1],
        ['c', 4],
        ['d', 2],
        ['e', 5],
      ]);
    });
  });

  // ------------------------------------------------------------------ sampling

  describe('sampleByKey', () => {
    it('samples per key within PySpark bounds (PySpark example)', async () => {
      const fractions = { a: 0.2, b: 0.1 };
      const rdd = sc
        .parallelize(Object.keys(fractions))
        .cartesian(sc.parallelize(Array.from({ length: 1000 }, (_, i) => i)));
      const sample = new Map(await rdd.sampleByKey(false, fractions, 2).groupByKey().collect());
      const a = sample.get('a')!;
      const b = sample.get('b')!;
      expect(a.length).toBeGreaterThan(100);
      expect(a.length).toBeLessThan(300);
      expect(b.length).toBeGreaterThan(50);
      expect(b.length).toBeLessThan(150);
      expect(Math.max(...a)).toBeLessThanOrEqual(999);
      expect(Math.min(...a)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...b)).toBeLessThanOrEqual(999);
      expect(Math.min(...b)).toBeGreaterThanOrEqual(0);
    });

    it('is deterministic for a seed', async () => {
      const pairs = Array.from({ length: 300 }, (_, i) => [i % 3 === 0 ? 'x' : 'y', i] as [string, number]);
      const rdd = sc.parallelize(pairs, 4);
      const fractions = new Map([
        ['x', 0.5],
        ['y', 0.3],
      ]);
      const s1 = await rdd.sampleByKey(false, fractions, 17).collect();
      const s2 = await rdd.sampleByKey(false, fractions, 17).collect();
      expect(s1).toEqual(s2);
      expect(s1.length).toBeGreaterThan(0);
      expect(s1.length).toBeLessThan(300);
      const r1 = await rdd.sampleByKey(true, fractions, 5).collect();
      const r2 = await rdd.sampleByKey(true, fractions, 5).collect();
      expect(r1).toEqual(r2);
    });

    it('fraction 0 keeps none and fraction 1 keeps all (without replacement)', async () => {
      const pairs = Array.from(
        { length: 200 },
        (_, i) => [i % 2 === 0 ? 'zero' : 'one', i] as [string, number],
      );
      const rdd = sc.parallelize(pairs, 3);
      const out = await rdd.sampleByKey(false, { zero: 0, one: 1 }, 99).collect();
      expect(out).toEqual(pairs.filter(([k]) => k === 'one'));
      const withMap = await rdd
        .sampleByKey(
          false,
          new Map([
            ['zero', 1],
            ['one', 0],
          ]),
          3,
        )
        .collect();
      expect(withMap).toEqual(pairs.filter(([k]) => k === 'zero'));
      expect(await rdd.sampleByKey(true, { zero: 0, one: 0 }, 1).collect()).toEqual([]);
    });

    it('rejects a negative fraction', () => {
      const rdd = sc.parallelize<[string, number]>([['a', 1]]);
      expect(() => rdd.sampleByKey(false, { a: -0.1 })).toThrow(InvalidOperationError);
    });
  });

  // ------------------------------------------------------------------ pair actions

  describe('lookup, collectAsMap, countByKey', () => {
    it('lookup on an unpartitioned and a sorted RDD (PySpark example)', async () => {
      const l = Array.from({ length: 1000 }, (_, i) => i);
      const rdd = sc.parallelize(
        l.map((i) => [i, i] as [number, number]),
        10,
      );
      expect(rdd.partitioner).toBeUndefined();
      expect(await rdd.lookup(42)).toEqual([42]);
      const sortedRdd = rdd.sortByKey();
      expect(await sortedRdd.lookup(42)).toEqual([42]);
      expect(await sortedRdd.lookup(1024)).toEqual([]);
    });

    it('lookup of a compound key on a grouped (hash-partitioned) RDD (PySpark example)', async () => {
      const rdd2 = sc.parallelize<[[string, string], string]>([[['a', 'b'], 'c']]).groupByKey();
      expect(rdd2.partitioner).toBeDefined();
      const found = await rdd2.lookup(['a', 'b']);
      expect(found).toEqual([['c']]);
    });

    it('lookup on a hash-partitioned RDD finds every value of the key', async () => {
      const pairs = Array.from({ length: 200 }, (_, i) => [`k${i % 17}`, i] as [string, number]);
      const partitioned = sc.parallelize(pairs, 6).partitionBy(5);
      expect(partitioned.partitioner).toBeDefined();
      for (const key of ['k0', 'k5', 'k16']) {
        expect(sorted(await partitioned.lookup(key))).toEqual(
          pairs.filter(([k]) => k === key).map(([, v]) => v),
        );
      }
      expect(await partitioned.lookup('missing')).toEqual([]);
      const numeric = sc.parallelize(
        Array.from({ length: 50 }, (_, i) => [i, i * i] as [number, number]),
        3,
      );
      const byHash = numeric.partitionBy(4);
      expect(await byHash.lookup(7)).toEqual([49]);
      expect(await byHash.lookup(49)).toEqual([2401]);
      const byFn = numeric.partitionBy(4, (k: number) => k);
      expect(await byFn.lookup(7)).toEqual([49]);
    });

    it('collectAsMap (PySpark example); a later duplicate key wins', async () => {
      const m = await sc
        .parallelize<[number, number]>([
          [1, 2],
          [3, 4],
        ])
        .collectAsMap();
      expect(m).toBeInstanceOf(Map);
      expect(m.get(1)).toBe(2);
      expect(m.get(3)).toBe(4);
      expect(m.size).toBe(2);
      const dup = await sc
        .parallelize<[string, number]>(
          [
            ['a', 1],
            ['b', 2],
            ['a', 3],
          ],
          2,
        )
        .collectAsMap();
      expect([...dup.entries()]).toEqual([
        ['a', 3],
        ['b', 2],
      ]);
    });

    it('countByKey (PySpark example)', async () => {
      const counts = await sc
        .parallelize<[string, number]>([
          ['a', 1],
          ['b', 1],
          ['a', 1],
        ])
        .countByKey();
      expect(counts).toBeInstanceOf(Map);
      expect(sorted([...counts.entries()])).toEqual([
        ['a', 2],
        ['b', 1],
      ]);
    });

    it('countByKey over many partitions and compound keys', async () => {
      const pairs = Array.from({ length: 90 }, (_, i) => [[i % 3, 'x'], i] as [[number, string], number]);
      const counts = await sc.parallelize(pairs, 7).countByKey();
      expect(counts.size).toBe(3);
      expect(sorted([...counts.entries()])).toEqual([
        [[0, 'x'], 30],
        [[1, 'x'], 30],
        [[2, 'x'], 30],
      ]);
    });
  });

  // ------------------------------------------------------------------ partitioner bookkeeping

  describe('partitioner', () => {
    const pairs: Array<[string, number]> = [
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ];

    it('is unset on sources and set by shuffles', () => {
      const rdd = sc.parallelize(pairs, 2);
      expect(rdd.partitioner).toBeUndefined();
      expect(rdd.reduceByKey((a, b) => a + b).partitioner?.numPartitions).toBe(2);
      expect(rdd.reduceByKey((a, b) => a + b, 5).partitioner?.numPartitions).toBe(5);
      expect(rdd.groupByKey(3).partitioner?.numPartitions).toBe(3);
      expect(rdd.partitionBy(6).partitioner?.numPartitions).toBe(6);
      expect(rdd.cogroup(rdd, 7).partitioner?.numPartitions).toBe(7);
      expect(rdd.sortByKey(true, 2).partitioner?.numPartitions).toBe(2);
    });

    it('is kept by mapValues, flatMapValues and filter, dropped by map, keys, values and flatMap', () => {
      const reduced = sc.parallelize(pairs, 2).reduceByKey((a, b) => a + b, 3);
      const p = reduced.partitioner;
      expect(p).toBeDefined();
      expect(reduced.mapValues((v) => v + 1).partitioner).toBe(p);
      expect(reduced.flatMapValues((v) => [v, v]).partitioner).toBe(p);
      expect(reduced.filter((kv) => kv[1] > 1).partitioner).toBe(p);
      expect(reduced.mapValues((v) => v * 2).mapValues((v) => v - 1).partitioner).toBe(p);
      expect(reduced.map((kv) => kv).partitioner).toBeUndefined();
      expect(reduced.flatMap((kv) => [kv]).partitioner).toBeUndefined();
      expect(reduced.keys().partitioner).toBeUndefined();
      expect(reduced.values().partitioner).toBeUndefined();
      expect(reduced.map((kv) => kv, undefined, { preservesPartitioning: true }).partitioner).toBe(p);
      expect(reduced.mapValues((v) => v).map((kv) => kv).partitioner).toBeUndefined();
    });

    it('keeps the partitioner through mapValues so a later reduceByKey adds no shuffle, but not through map', () => {
      const reduced = sc.parallelize(pairs, 2).reduceByKey((a, b) => a + b, 3);
      expect(
        shuffleCount(
          reduced
            .mapValues((v) => v * 2)
            .reduceByKey((a, b) => a + b)
            .toDebugString(),
        ),
      ).toBe(1);
      expect(
        shuffleCount(
          reduced
            .map((kv) => kv)
            .reduceByKey((a, b) => a + b, 3)
            .toDebugString(),
        ),
      ).toBe(2);
    });
  });

  // ------------------------------------------------------------------ toDebugString

  describe('toDebugString', () => {
    it('draws a reduceByKey pipeline in Spark layout', () => {
      const src = sc.parallelize([1, 2, 3, 4, 5], 4);
      const mapped = src.map((x) => [x % 2, x] as [number, number]);
      const reduced = mapped.reduceByKey((a, b) => a + b);
      const out = reduced.mapValues((v) => v * 10);
      const debug = out.toDebugString();
      expect(normaliseSites(debug)).toBe(
        [
          `(4) MapPartitionsRDD[${out.id}] at mapValues at <site> []`,
          ` |  ShuffledRDD[${reduced.id}] at reduceByKey at <site> []`,
          ` +-(4) MapPartitionsRDD[${mapped.id}] at map at <site> []`,
          `    |  ParallelCollectionRDD[${src.id}] at parallelize at <site> []`,
        ].join('\n'),
      );
      const lines = debug.split('\n');
      expect(lines[0]!.startsWith('(4) ')).toBe(true);
      expect(lines[1]!.startsWith(' |  ')).toBe(true);
      expect(lines[2]!.startsWith(' +-(4) ')).toBe(true);
      expect(lines[3]!.startsWith('    |  ')).toBe(true);
    });

    it('starts at the shuffled RDD itself', () => {
      const src = sc.parallelize([1, 2, 3], 4);
      const mapped = src.map((x) => [x, 1] as [number, number]);
      const reduced = mapped.reduceByKey((a, b) => a + b);
      expect(normaliseSites(reduced.toDebugString())).toBe(
        [
          `(4) ShuffledRDD[${reduced.id}] at reduceByKey at <site> []`,
          ` +-(4) MapPartitionsRDD[${mapped.id}] at map at <site> []`,
          `    |  ParallelCollectionRDD[${src.id}] at parallelize at <site> []`,
        ].join('\n'),
      );
    });

    it('indents nested shuffles under their shuffle parent', () => {
      const src = sc.parallelize([1, 2, 3, 4], 4);
      const mapped = src.map((x) => [x % 3, x] as [number, number]);
      const reduced = mapped.reduceByKey((a, b) => a + b, 3);
      const grouped = reduced.groupByKey(2);
      expect(normaliseSites(grouped.toDebugString())).toBe(
        [
          `(2) ShuffledRDD[${grouped.id}] at groupByKey at <site> []`,
          ` +-(3) ShuffledRDD[${reduced.id}] at reduceByKey at <site> []`,
          `    +-(4) MapPartitionsRDD[${mapped.id}] at map at <site> []`,
          `       |  ParallelCollectionRDD[${src.id}] at parallelize at <site> []`,
        ].join('\n'),
      );
    });

    it('lists both shuffled parents of a cogroup', () => {
      const a = sc.parallelize<[string, number]>([['a', 1]], 2);
      const b = sc.parallelize<[string, number]>([['a', 2]], 3);
      const cg = a.cogroup(b);
      expect(normaliseSites(cg.toDebugString())).toBe(
        [
          `(3) CoGroupedRDD[${cg.id}] at cogroup at <site> []`,
          ` +-(2) ParallelCollectionRDD[${a.id}] at parallelize at <site> []`,
          ` +-(3) ParallelCollectionRDD[${b.id}] at parallelize at <site> []`,
        ].join('\n'),
      );
    });
  });
});
