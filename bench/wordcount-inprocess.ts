/**
 * Word count over the 200 MB benchmark corpus: MicroSpark in-process (one partition at a time,
 * through the wire path) against a plain single-process Node loop (split + Map), in one run,
 * with the answers checked equal. Usage: npm run bench:wordcount [-- sizeMB]
 */
import { MicroSpark } from '../src/index.js';
import { ensureCorpus } from './corpus.js';
import { wordCount as plainWordCount } from './plain.js';

const sizeMb = Number(process.argv[2] ?? 200);
const path = `bench/data/corpus-${sizeMb}mb.txt`;
await ensureCorpus(path, sizeMb * 1024 * 1024);

async function microsparkWordCount(file: string): Promise<Map<string, number>> {
  const sc = await MicroSpark.inProcess({ defaultParallelism: 2 });
  try {
    return await sc
      .textFile(file)
      .flatMap((line) => line.split(' '))
      .map((w) => [w, 1] as [string, number])
      .reduceByKey((a, b) => a + b)
      .collectAsMap();
  } finally {
    await sc.stop();
  }
}

function sameCounts(a: Map<string, number>, b: Map<string, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

const rows: Array<{ name: string; seconds: number; words: number }> = [];
let reference: Map<string, number> | undefined;
for (const [name, run] of [
  ['plain Node loop (split + Map)', plainWordCount],
  ['MicroSpark.inProcess', microsparkWordCount],
] as const) {
  const t0 = performance.now();
  const counts = await run(path);
  const seconds = (performance.now() - t0) / 1000;
  reference ??= counts;
  if (!sameCounts(reference, counts)) throw new Error(`${name}: counts differ from the plain loop`);
  rows.push({ name, seconds, words: [...counts.values()].reduce((a, b) => a + b, 0) });
}
console.log(`word count over ${path} (${sizeMb} MB), node ${process.version}`);
for (const r of rows) console.log(`${r.name.padEnd(32)} ${r.seconds.toFixed(2)} s  (${r.words} words)`);
console.log(`ratio MicroSpark/plain: ${(rows[1]!.seconds / rows[0]!.seconds).toFixed(2)}x`);
