import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MicroSpark } from '../../src/index.js';
import { BucketWriter, forEachElement, forEachPair, typedBucket } from '../../src/rdd/bucket.js';
import { compare } from '../../src/rdd/ordering.js';
import { sortOrder } from '../../src/rdd/runner.js';

function pairsOf(b: Uint8Array): unknown[] {
  const out: unknown[] = [];
  forEachPair(b, (k, v) => out.push([k, v]));
  return out;
}

function elementsOf(b: Uint8Array): unknown[] {
  const out: unknown[] = [];
  forEachElement(b, (x) => out.push(x));
  return out;
}

function writePairs(pairs: ReadonlyArray<readonly [unknown, unknown]>): Uint8Array {
  const w = new BucketWriter(2);
  for (const [k, v] of pairs) w.addPair(k, v);
  return w.finish();
}

describe('shuffle buckets', () => {
  it('writes integer pairs as Int32 numbers and reads them back in order', () => {
    const pairs: Array<[number, number]> = [
      [3, 7],
      [-1, 2147483647],
      [0, -2147483648],
    ];
    const b = writePairs(pairs);
    const t = typedBucket(b)!;
    expect(t.n).toBe(3);
    expect(t.widths).toEqual([0, 0]);
    expect(t.data).toBeInstanceOf(Int32Array);
    expect(b.byteLength).toBe(16 + 6 * 4);
    expect(pairsOf(b)).toEqual(pairs);
  });

  it('switches to Float64 at the first number that is not an Int32, keeping -0, NaN and fractions', () => {
    const pairs: Array<[number, number]> = [
      [1, 2],
      [2 ** 31, 0.5],
      [-0, NaN],
      [Infinity, -3],
    ];
    const b = writePairs(pairs);
    expect(typedBucket(b)!.data).toBeInstanceOf(Float64Array);
    const back = pairsOf(b) as Array<[number, number]>;
    expect(back).toEqual(pairs);
    expect(Object.is(back[2]![0], -0)).toBe(true);
    expect(Number.isNaN(back[2]![1])).toBe(true);
  });

  it('writes array keys and values of numbers by width', () => {
    const pairs: Array<[number[], number[]]> = [
      [
        [1, 2],
        [3, 4, 5],
      ],
      [
        [6, 7],
        [8, 9, 10],
      ],
    ];
    const b = writePairs(pairs);
    expect(typedBucket(b)!.widths).toEqual([2, 3]);
    expect(pairsOf(b)).toEqual(pairs);
  });

  it('falls back to msgpack when a record has another shape, keeping every record in order', () => {
    const pairs: Array<[unknown, unknown]> = [
      [1, 2],
      [3, 4],
      ['five', 6],
      [7, [8]],
    ];
    const b = writePairs(pairs);
    expect(typedBucket(b)).toBeUndefined();
    expect(pairsOf(b)).toEqual(pairs);
    const widthChange = writePairs([
      [[1, 2], 0],
      [[1, 2, 3], 0],
    ]);
    expect(typedBucket(widthChange)).toBeUndefined();
    expect(pairsOf(widthChange)).toEqual([
      [[1, 2], 0],
      [[1, 2, 3], 0],
    ]);
    expect(pairsOf(writePairs([]))).toEqual([]);
    expect(pairsOf(writePairs([[{ a: 1 }, null]]))).toEqual([[{ a: 1 }, null]]);
  });

  it('writes elements (sortBy) without a key', () => {
    const w = new BucketWriter(1);
    const xs = [
      [5, 1],
      [2, 9],
      [5, 0],
    ];
    for (const x of xs) w.addElement(x);
    const b = w.finish();
    expect(typedBucket(b)!.widths).toEqual([2]);
    expect(b.byteLength).toBe(16 + 6 * 4);
    expect(elementsOf(b)).toEqual(xs);
    const g = new BucketWriter(1);
    for (const x of [1, 'a', 2]) g.addElement(x);
    expect(elementsOf(g.finish())).toEqual([1, 'a', 2]);
  });

  it('reads a typed bucket that is not aligned in its buffer', () => {
    const b = writePairs([
      [1.5, 2],
      [3, 4],
    ]);
    const shifted = new Uint8Array(b.byteLength + 3);
    shifted.set(b, 3);
    expect(pairsOf(shifted.subarray(3))).toEqual([
      [1.5, 2],
      [3, 4],
    ]);
  });
});

describe('sortOrder', () => {
  const reference = (keys: readonly unknown[], asc: boolean) =>
    [...keys.keys()].sort((i, j) => (asc ? 1 : -1) * compare(keys[i], keys[j]) || i - j);
  const rand = (() => {
    let s = 7;
    return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  })();

  it('orders integer keys and pairs of integers (packed) exactly as compare does, stably, both ways', () => {
    const ints = Array.from({ length: 5000 }, () => Math.floor(rand() * 200) - 100);
    const pairs = Array.from({ length: 5000 }, () => [Math.floor(rand() * 50), Math.floor(rand() * 3) - 1]);
    for (const keys of [ints, pairs] as unknown[][]) {
      for (const asc of [true, false]) expect([...sortOrder(keys, asc)]).toEqual(reference(keys, asc));
    }
  });

  it('gives the same order when the keys do not fit in 53 bits, or are not integers', () => {
    const wide = Array.from({ length: 300 }, () => [
      Math.floor(rand() * 2 ** 30),
      Math.floor(rand() * 2 ** 30),
    ]);
    const fractions = Array.from({ length: 300 }, () => Math.floor(rand() * 20) / 4);
    for (const keys of [wide, fractions] as unknown[][]) {
      for (const asc of [true, false]) expect([...sortOrder(keys, asc)]).toEqual(reference(keys, asc));
    }
  });
});

describe('sortBy', () => {
  it('shuffles the elements alone and sorts them by their keys, on tuple, negated and mixed keys', async () => {
    const sc = await MicroSpark.inProcess();
    try {
      const pairs = Array.from({ length: 200 }, (_, i) => [(i * 37) % 11, (i * 13) % 7] as [number, number]);
      const sorted = sc.parallelize(pairs, 4).sortBy((p) => p, true, 3);
      const expected = [...pairs].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      expect(await sorted.collect()).toEqual(expected);
      expect(sorted.nodeSpec().shuffles.map((s) => s.elements)).toEqual([true]); // after the sampling
      expect(
        await sorted
          .glom()
          .map((p) => p.length)
          .collect(),
      ).toHaveLength(3);
      expect(
        await sc
          .parallelize([3, 1, 2, 5, 4], 2)
          .sortBy((x) => -x, true, 2)
          .collect(),
      ).toEqual([5, 4, 3, 2, 1]);
      expect(
        await sc
          .parallelize([3, 1, 2, 5, 4], 2)
          .sortBy((x) => x, false, 2)
          .collect(),
      ).toEqual([5, 4, 3, 2, 1]);
      const mixed = [{ k: 'b' }, { k: 'a' }, { k: 'c' }, { k: 'a' }];
      expect(
        await sc
          .parallelize(mixed, 2)
          .sortBy((o) => o.k, true, 2)
          .collect(),
      ).toEqual([{ k: 'a' }, { k: 'a' }, { k: 'b' }, { k: 'c' }]);
    } finally {
      await sc.stop();
    }
  });
});

describe('sortBy over a text file', () => {
  it('samples windows of each split, not the whole file, and still balances the partitions', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'microspark-sortby-'));
    const sc = await MicroSpark.inProcess();
    try {
      let s = 42;
      const lines: string[] = [];
      for (let i = 0; i < 400_000; i++) {
        s = (s * 1103515245 + 12345) % 2 ** 31;
        lines.push(`${s % 1_000_000},${i % 1000}`);
      }
      const file = join(dir, 'pairs.csv');
      writeFileSync(file, lines.join('\n') + '\n');
      const acc = sc.accumulator(0);
      const sorted = sc
        .textFile(file, 2)
        .map(
          (line, env) => {
            env.acc.add(1);
            const [k, v] = line.split(',');
            return [Number(k), Number(v)] as [number, number];
          },
          { acc },
        )
        .sortBy((p) => p, true, 4);
      const sizes = await sorted
        .glom()
        .map((p) => p.length)
        .collect();
      const n = lines.length;
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(n);
      // The map pass reads every line once; the sampling pass only its windows: 16 of 32 KiB in
      // each of the two 2.3 MB splits, about 22 % of the lines (it read all of them before).
      expect(acc.value).toBeGreaterThan(n + n * 0.15);
      expect(acc.value).toBeLessThan(n + n * 0.3);
      for (const size of sizes) expect(Math.abs(size - n / 4)).toBeLessThan(n / 10);
      const expected = lines
        .map((l) => l.split(',').map(Number) as [number, number])
        .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      expect(await sorted.collect()).toEqual(expected);
    } finally {
      await sc.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
