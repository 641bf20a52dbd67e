/**
 * Paired comparison of task slots per worker for D1: two local clusters (2 workers each, with
 * `--slots A` and `--slots B` per worker) side by side; each TPC-H query alternates between them,
 * `--runs` times each, so the machine's drift falls on both. Prints per query the medians and
 * their ratio, and the geometric mean of the ratios.
 *
 *   npx tsx bench/sql/slots-paired.ts --sf 1 --a 1 --b 2 --runs 5
 */
import { parseArgs } from 'node:util';
import { loadEngine } from '../engine.js';
import { ensureTpch } from '../tpch/generate.js';
import { tpchQueries } from '../tpch/queries.js';
import { registerTpch, runSql } from './workloads.js';

const { values: args } = parseArgs({
  options: {
    sf: { type: 'string', default: '1' },
    a: { type: 'string', default: '1' },
    b: { type: 'string', default: '2' },
    runs: { type: 'string', default: '5' },
    queries: { type: 'string', default: 'q1,q3,q5,q6,q9,q18' },
  },
});
const { MicroSpark } = await loadEngine(false);
const { dir } = await ensureTpch({ sf: Number(args.sf), format: 'parquet' });
const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
const clusters = await Promise.all(
  [args.a, args.b].map((s) => MicroSpark.local({ workers: 2, slotsPerWorker: Number(s) })),
);
try {
  for (const sc of clusters) await registerTpch(sc.session, dir, 'parquet');
  const wanted = new Set(args.queries.split(','));
  let logSum = 0;
  let n = 0;
  for (const q of tpchQueries().filter((x) => wanted.has(x.name))) {
    const times: number[][] = [[], []];
    for (const sc of clusters) await runSql(sc.session, q.sql); // warm-up
    for (let r = 0; r < Number(args.runs); r++)
      for (const [i, sc] of clusters.entries()) {
        const t0 = performance.now();
        await runSql(sc.session, q.sql);
        times[i]!.push(performance.now() - t0);
      }
    const [ma, mb] = times.map(median) as [number, number];
    logSum += Math.log(ma / mb);
    n++;
    console.log(
      `${q.name}: slots ${args.a} ${ma.toFixed(0)} ms, slots ${args.b} ${mb.toFixed(0)} ms, ratio ${(ma / mb).toFixed(2)}`,
    );
  }
  console.log(
    `geometric mean of ratios (slots ${args.a} / slots ${args.b}): ${Math.exp(logSum / n).toFixed(3)}`,
  );
} finally {
  await Promise.all(clusters.map((sc) => sc.stop()));
}
