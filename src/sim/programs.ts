/**
 * The actions the simulation runs: small pipelines that cover narrow chains, one and two
 * shuffles, a join, a sort (a sampling job, then a range shuffle) and an accumulator. Each
 * returns a plain value, compared with what `MicroSpark.inProcess` gives for the same program.
 */
import type { MicroSpark } from '../client/context.js';

/** One action of the simulation. */
export interface Program {
  readonly name: string;
  run(sc: MicroSpark): Promise<unknown>;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
const WORDS = 'a b c d e f g h a b c a b a the quick brown fox jumps over the lazy dog a b'.split(' ');

/** Every program, by name. */
export const PROGRAMS: readonly Program[] = [
  {
    name: 'sum',
    run: (sc) =>
      sc
        .parallelize(range(120), 6)
        .map((x) => x * 3)
        .reduce((a, b) => a + b),
  },
  {
    name: 'wordcount',
    run: async (sc) =>
      (
        await sc
          .parallelize(WORDS, 4)
          .map((w): [string, number] => [w, 1])
          .reduceByKey((a, b) => a + b, 3)
          .collect()
      ).sort((a, b) => (a[0] < b[0] ? -1 : 1)),
  },
  {
    name: 'join',
    run: async (sc) => {
      const left = sc.parallelize(range(40), 4).map((x): [number, number] => [x % 7, x]);
      const right = sc.parallelize(range(14), 3).map((x): [number, string] => [x % 7, `r${x}`]);
      const rows = await left
        .join(right, 3)
        .map(([k, [v, w]]) => `${k}:${v}:${w}`)
        .collect();
      return rows.sort();
    },
  },
  {
    name: 'two-shuffles',
    run: async (sc) =>
      (
        await sc
          .parallelize(range(60), 5)
          .map((x): [number, number] => [x % 10, x])
          .reduceByKey((a, b) => a + b, 4)
          .map(([k, v]): [number, number] => [v % 3, k])
          .groupByKey(2)
          .map(([k, vs]) => [k, [...vs].sort((a, b) => a - b)])
          .collect()
      ).sort((a, b) => (a[0] as number) - (b[0] as number)),
  },
  {
    name: 'sort',
    run: (sc) =>
      sc
        .parallelize(
          range(50).map((x) => (x * 37) % 101),
          5,
        )
        .sortBy((x) => x, true, 3)
        .collect(),
  },
  {
    name: 'accumulator',
    run: async (sc) => {
      const acc = sc.accumulator(0);
      await sc
        .parallelize(range(30), 5)
        .map(
          (x, env): [number, number] => {
            env.acc.add(x); // in the map stage: counted once per map partition
            return [x % 4, x];
          },
          { acc },
        )
        .reduceByKey((a, b) => a + b, 2)
        .foreach(([, v], env) => env.acc.add(v), { acc });
      return acc.value;
    },
  },
];
