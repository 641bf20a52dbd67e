/**
 * The benchmark workloads as a user writes them with the RDD API. Each returns the same answer
 * digest as its plain counterpart in bench/plain.ts.
 */
import type { MicroSpark } from '../src/index.js';
import { combineChecksums, digestEntries, partChecksum } from './checksum.js';

/** A workload's answer: a digest that must equal the plain script's, and a count of entries. */
export interface Answer {
  readonly digest: string;
  readonly count: number;
}

/** W1: word count (the answer is materialised on the client, then digested outside the timing). */
export async function wordCount(sc: MicroSpark, file: string): Promise<() => Answer> {
  const counts = await sc
    .textFile(file)
    .flatMap((line) => line.split(' '))
    .map((w) => [w, 1] as [string, number])
    .reduceByKey((a, b) => a + b)
    .collect();
  return () => digestEntries(counts);
}

/**
 * W1A: W1 with an async function that awaits, once per line (a stand-in for a lookup per record);
 * the rest of the chain is W1's.
 */
export async function wordCountAsync(sc: MicroSpark, file: string): Promise<() => Answer> {
  const counts = await sc
    .textFile(file)
    .map(async (line) => {
      const words = await Promise.resolve(line.split(' '));
      return words;
    })
    .flatMap((words) => words)
    .map((w) => [w, 1] as [string, number])
    .reduceByKey((a, b) => a + b)
    .collect();
  return () => digestEntries(counts);
}

/** W2: the sum of values per key of the CSV. */
export async function sumByKey(sc: MicroSpark, file: string): Promise<() => Answer> {
  const sums = await sc
    .textFile(file)
    .map((line) => {
      const [k, v] = line.split(',');
      return [Number(k), Number(v)] as [number, number];
    })
    .reduceByKey((a, b) => a + b)
    .collect();
  return () => digestEntries(sums);
}

/** W3: the CSV's pairs sorted by key then value; each sorted partition is checksummed where it lies. */
export async function sortPairs(sc: MicroSpark, file: string): Promise<() => Answer> {
  const parts = await sc
    .textFile(file)
    .map((line) => {
      const [k, v] = line.split(',');
      return [Number(k), Number(v)] as [number, number];
    })
    .sortBy((kv) => kv)
    .mapPartitions((it, env) => [env.partChecksum(it)], { partChecksum })
    .collect();
  return () => ({ digest: combineChecksums(parts), count: parts.reduce((n, p) => n + p[0], 0) });
}
