/**
 * D4 with both plans in one process, alternating rounds: `count(*)` of a cached 1,000-row view
 * read by one task (the default) and with `spark.microspark.sql.smallInputThreshold=-1` (partial
 * aggregates, an exchange, the final one), on `MicroSpark.local({ workers: 2 })`.
 *
 *   npx tsx bench/sql/d4-plans.ts [--rounds 4] [--per-round 50]
 */
import { parseArgs } from 'node:util';
import { MicroSpark } from '../../src/index.js';

const { values: args } = parseArgs({
  options: { rounds: { type: 'string', default: '4' }, 'per-round': { type: 'string', default: '50' } },
});
const percentile = (xs: readonly number[], p: number): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};
const sc = await MicroSpark.local({ workers: 2 });
try {
  const spark = sc.session;
  spark.range(1000).cache().createOrReplaceTempView('t');
  const times = { 'one task': [] as number[], 'partial + final': [] as number[] };
  for (let round = 0; round < Number(args.rounds); round++)
    for (const mode of ['partial + final', 'one task'] as const) {
      spark.conf.set('spark.microspark.sql.smallInputThreshold', mode === 'one task' ? '1m' : '-1');
      for (let i = 0; i < 10; i++) await (await spark.sql('SELECT count(*) FROM t')).collect(); // warm-up
      for (let i = 0; i < Number(args['per-round']); i++) {
        const t0 = performance.now();
        const rows = await (await spark.sql('SELECT count(*) FROM t')).collect();
        times[mode].push(performance.now() - t0);
        if (Number(Object.values(rows[0] ?? {})[0]) !== 1000)
          throw new Error(`wrong count: ${JSON.stringify(rows)}`);
      }
    }
  for (const [mode, xs] of Object.entries(times))
    console.log(
      `${mode}: p50 ${percentile(xs, 50).toFixed(2)} ms, p99 ${percentile(xs, 99).toFixed(2)} ms (${xs.length} queries)`,
    );
} finally {
  await sc.stop();
}
