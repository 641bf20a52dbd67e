import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MicroSpark } from '../../src/index.js';
import { pairFormSource } from '../../src/rdd/pair-form.js';

/** Evaluates a pair form and calls it on `x`, collecting what it hands the sink. */
function runPairForm(src: string, x: unknown): unknown[][] {
  const got: unknown[][] = [];
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- evaluating generated test code
  const f = new Function(`return ${src};`)() as (
    sink: (k: unknown, v: unknown) => void,
    a: unknown,
  ) => unknown;
  f((k, v) => got.push([k, v]), x);
  return got;
}

describe('pairFormSource', () => {
  it('an expression body: the literal becomes a sink call', () => {
    expect(pairFormSource('(w) => [w, 1]')).toBe('((__msPairSink, w) => __msPairSink(w, 1))');
    expect(runPairForm(pairFormSource('(w) => [w, 1]')!, 'a')).toEqual([['a', 1]]);
  });

  it('a block body with several returns, and minified source (`return[a,b]`)', () => {
    const src = '(x) => { if (x < 0) return [-x, "neg"]; const y = x * 2; return [y, "pos"]; }';
    const pf = pairFormSource(src)!;
    expect(runPairForm(pf, -3)).toEqual([[3, 'neg']]);
    expect(runPairForm(pf, 4)).toEqual([[8, 'pos']]);
    const min = '(line=>{const[k,v]=line.split(",");return[Number(k),Number(v)]})';
    expect(pairFormSource(min)).toBe(
      '((__msPairSink, line) => {const[k,v]=line.split(",");return void __msPairSink(Number(k), Number(v))})',
    );
    expect(runPairForm(pairFormSource(min)!, '7,9')).toEqual([[7, 9]]);
  });

  it("leaves nested functions' returns alone", () => {
    const src = '(x) => { const f = (y) => [y, y]; return [f(x)[0], 1]; }';
    expect(runPairForm(pairFormSource(src)!, 5)).toEqual([[5, 1]]);
  });

  it('refuses every other shape (the ordinary form runs)', () => {
    for (const src of [
      '(x) => x', // not a pair
      '(x) => [x, 1, 2]', // three elements
      '(x) => [...x]', // a spread
      '(x) => { if (x) return [x, 1]; }', // falls through
      '(x) => { if (x) return x; return [x, 1]; }', // one return is not a pair
      'async (x) => [x, 1]',
      'function (x) { return [x, 1]; }',
      '(x) => [x, __msPairSink]', // mentions the sink's name
      'not javascript (',
    ])
      expect(pairFormSource(src)).toBeUndefined();
  });
});

describe('shuffles by key through the pair form (in process)', () => {
  let sc: MicroSpark;
  beforeAll(async () => {
    sc = await MicroSpark.inProcess({ defaultParallelism: 2 });
  });
  afterAll(async () => {
    await sc.stop();
  });

  it('reduceByKey, groupByKey and mapValues/keyBy chains give the same answers as without it', async () => {
    const words = ['a', 'b', 'a', 'c', 'b', 'a'];
    const counts = await sc
      .parallelize(words, 3)
      .map((w) => [w, 1] as [string, number])
      .reduceByKey((a, b) => a + b)
      .sortByKey()
      .collect();
    expect(counts).toEqual([
      ['a', 3],
      ['b', 2],
      ['c', 1],
    ]);
    const lines = ['1,2', '1,3', '2,5'];
    const sums = await sc
      .parallelize(lines, 2)
      .map((line) => {
        const [k, v] = line.split(',');
        return [Number(k), Number(v)] as [number, number];
      })
      .reduceByKey((a, b) => a + b)
      .sortByKey()
      .collect();
    expect(sums).toEqual([
      [1, 5],
      [2, 5],
    ]);
    const grouped = await sc
      .parallelize([1, 2, 3, 4, 5], 2)
      .keyBy((x) => x % 2)
      .mapValues((x) => x * 10)
      .groupByKey()
      .mapValues((vs) => [...vs].sort((p, q) => p - q))
      .sortByKey()
      .collect();
    expect(grouped).toEqual([
      [0, [20, 40]],
      [1, [10, 30, 50]],
    ]);
  });

  it('a map that does not return pairs still fails with the pairs error', async () => {
    await expect(
      sc
        .parallelize([1, 2], 1)
        .map((x) => (x * 2) as unknown as [number, number]) // not a pair at run time
        .reduceByKey((a, b) => a + b)
        .collect(),
    ).rejects.toThrow(/needs \[key, value\] pairs, but got 2/);
  });
});
