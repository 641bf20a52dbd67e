/**
 * PySpark 4 RDD and SparkContext members added to the surface: mapPartitionsWithSplit,
 * reduceByKeyLocally, countApproxDistinct (HyperLogLog as Spark computes its precision),
 * sc.defaultMinPartitions, and accumulators whose value cannot be set inside a task.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidOperationError, RemoteError, TaskFailedError, type MicroSpark } from '../../src/index.js';
import { HyperLogLog, hash64, precisionFor } from '../../src/rdd/hll.js';
import { modes } from '../support/modes.js';

async function rejection(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error('expected the promise to reject');
    },
    (e: unknown) => e as Error,
  );
}

describe('HyperLogLog', () => {
  it('derives p from relativeSD as Spark does: ceil(2·log2(1.054 / relativeSD)), at least 4', () => {
    expect(precisionFor(0.05)).toBe(9);
    expect(precisionFor(0.01)).toBe(14);
    expect(precisionFor(0.2)).toBe(5);
    expect(precisionFor(0.5)).toBe(4);
    expect(() => precisionFor(0.000017)).toThrow('relativeSD should be greater than 0.000017');
    expect(() => precisionFor(0.0001)).toThrow(InvalidOperationError);
  });

  it('hashes by value with a stable 64-bit hash', () => {
    expect(hash64(['a', 1])).toEqual(hash64(['a', 1.0]));
    expect(hash64({ x: 1, y: 2 })).toEqual(hash64({ y: 2, x: 1 }));
    expect(hash64('a')).not.toEqual(hash64('b'));
    // Fixed across processes and versions of the engine: the sketch of a value never changes.
    expect(hash64('microspark')).toEqual(hash64('microspark'));
    const [hi, lo] = hash64(12345);
    expect(Number.isInteger(hi) && hi >= 0 && hi < 2 ** 32 && Number.isInteger(lo) && lo >= 0).toBe(true);
  });

  it('estimates small sets by linear counting; merging equals the sketch of the union', () => {
    const a = new HyperLogLog(9);
    const b = new HyperLogLog(9);
    const both = new HyperLogLog(9);
    for (let i = 0; i < 50; i++) a.offer(i);
    for (let i = 25; i < 100; i++) b.offer(i);
    for (let i = 0; i < 100; i++) both.offer(i);
    expect(Math.abs(a.cardinality() - 50)).toBeLessThanOrEqual(2);
    a.merge(b.registers);
    expect(a.registers).toEqual(both.registers);
    expect(Math.abs(a.cardinality() - 100)).toBeLessThanOrEqual(4);
  });
});

describe.each(modes)('PySpark 4 surface ($name)', (mode) => {
  let sc: MicroSpark;
  beforeAll(async () => {
    sc = await mode.create(4);
  });
  afterAll(async () => {
    await sc.stop();
  });

  it('mapPartitionsWithSplit is mapPartitionsWithIndex (PySpark doc example: sum of split indexes)', async () => {
    const rdd = sc.parallelize([1, 2, 3, 4], 4);
    expect(
      await rdd
        .mapPartitionsWithSplit(function* (split) {
          yield split;
        })
        .sum(),
    ).toBe(6);
    expect(await rdd.mapPartitionsWithSplit((i, it) => [...it].map((x) => x * 10 + i)).collect()).toEqual([
      10, 21, 32, 43,
    ]);
  });

  it('reduceByKeyLocally returns a Map to the client (PySpark doc example)', async () => {
    const rdd = sc.parallelize(
      [
        ['a', 1],
        ['b', 1],
        ['a', 1],
      ] as Array<[string, number]>,
      2,
    );
    const m = await rdd.reduceByKeyLocally((a, b) => a + b);
    expect([...m.entries()].sort()).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
    const w = await rdd.reduceByKeyLocally((a, b, env) => a * env.f + b, { f: 10 });
    expect(w.get('a')).toBe(11);
    expect(await sc.emptyRDD<[string, number]>().reduceByKeyLocally((a, b) => a + b)).toEqual(new Map());
  });

  it('countApproxDistinct is within the relative accuracy and independent of partitioning', async () => {
    const n = 20000;
    const data = Array.from({ length: n }, (_, i) => `w${i % 5000}`);
    const one = await sc.parallelize(data, 1).countApproxDistinct();
    const seven = await sc.parallelize(data, 7).countApproxDistinct(0.05);
    expect(seven).toBe(one);
    expect(Math.abs(one - 5000) / 5000).toBeLessThan(0.1);
    const fine = await sc.range(0, n, 1, 4).countApproxDistinct(0.01);
    expect(Math.abs(fine - n) / n).toBeLessThan(0.03);
    // PySpark's docstring: 1000 distinct values, 0.05 → between 900 and 1100.
    const doc = await sc.range(0, 1000, 1, 3).countApproxDistinct();
    expect(doc).toBeGreaterThan(900);
    expect(doc).toBeLessThan(1100);
    expect(await sc.parallelize([1, 1.0, [2, 'x'], [2, 'x']], 2).countApproxDistinct()).toBe(2);
    await expect(sc.range(3).countApproxDistinct(0.00001)).rejects.toThrow(/greater than 0.000017/);
  });

  it('sc.defaultMinPartitions is min(defaultParallelism, 2)', () => {
    expect(sc.defaultMinPartitions).toBe(2);
  });

  it('name() of an unnamed RDD and getCheckpointFile() before a checkpoint are null', () => {
    const rdd = sc.range(3);
    expect(rdd.name()).toBeNull();
    expect(rdd.getCheckpointFile()).toBeNull();
    expect(rdd.setName('r').name()).toBe('r');
  });

  it("an accumulator's value set inside a task fails the task, as reading it does", async () => {
    const acc = sc.accumulator(0);
    const err = await rejection(
      sc
        .parallelize([1], 1)
        .map(
          (x, env) => {
            env.acc.value = 5;
            return x;
          },
          { acc },
        )
        .collect(),
    );
    expect(err).toBeInstanceOf(TaskFailedError);
    const cause = (err as TaskFailedError).cause as RemoteError;
    expect(cause.remoteName).toBe('InvalidOperationError');
    expect(cause.message).toContain('an accumulator value can only be set on the client');
    expect(acc.value).toBe(0);
  });
});
