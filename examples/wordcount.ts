/**
 * The demo job: a word count over a generated text corpus, with the top 10 words and the time.
 * Run it on a local cluster of 2 workers with `npm run demo`, or by hand:
 *   npx microspark run examples/wordcount.ts --local 2
 * `microspark run` connects `sc` and passes it to the default export (it is also a global).
 * Size: DEMO_MB (default 64) megabytes, generated once into bench/data/ (mulberry32, seed 42).
 */
import { statSync } from 'node:fs';
import type { MicroSpark } from '../src/index.js'; // in your project: from 'microspark'
import { ensureCorpus } from '../bench/corpus.js';

export default async function wordCount(sc: MicroSpark): Promise<void> {
  const mb = Number(process.env.DEMO_MB ?? 64);
  if (!Number.isFinite(mb) || mb <= 0)
    throw new RangeError(`DEMO_MB must be a positive number, got ${process.env.DEMO_MB}`);
  const path = `bench/data/corpus-${mb}mb.txt`;
  const g0 = Date.now();
  await ensureCorpus(path, Math.round(mb * 1024 * 1024));
  const generated = Date.now() - g0;
  if (generated > 1000) console.log(`generated ${path} in ${(generated / 1000).toFixed(1)} s`);

  const t0 = Date.now();
  const counts = sc
    .textFile(path, 2 * sc.defaultParallelism)
    .flatMap((line) => line.split(' '))
    .filter((w) => w.length > 0)
    .map((w) => [w, 1] as [string, number])
    .reduceByKey((a, b) => a + b);
  // Most frequent first; equal counts in word order.
  const top = await counts.takeOrdered(10, ([word, n]) => [-n, word]);
  const seconds = (Date.now() - t0) / 1000;

  const size = statSync(path).size;
  console.log(`\nTop 10 words of ${path} (${(size / 1024 / 1024).toFixed(0)} MB):`);
  for (const [i, [word, n]] of top.entries())
    console.log(`${String(i + 1).padStart(2)}. ${word.padEnd(12)} ${n}`);
  const workers = sc.cluster?.workers().length ?? 0;
  console.log(
    `\nCounted in ${seconds.toFixed(2)} s on ${workers} workers (${(size / 1024 / 1024 / seconds).toFixed(1)} MB/s).`,
  );
}
