/**
 * The 22 TPC-H queries through `spark.sql`, in process and on a local cluster of 3 workers,
 * compared with DuckDB run directly on the same Parquet files (row order where the query orders;
 * numbers to 1e-9 relative).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MicroSpark } from '../../src/index.js';
import { ensureTpch } from '../../bench/tpch/generate.js';
import { tpchQueries } from '../../bench/tpch/queries.js';
import { compareAnswers, runReference, type Answer } from '../../bench/tpch/reference.js';
import { TPCH_TABLES } from '../../bench/tpch/schema.js';

const norm = (v: unknown): unknown => (v instanceof Date ? v.toISOString().slice(0, 10) : v);

/**
 * The last two modes join on small thresholds, so that most joins are planned as hash joins and
 * adaptive execution turns those whose side proves small into broadcast joins (in process, and
 * on the cluster, where the client runs the sides' map stages itself).
 */
const MODES = [
  'in-process',
  'local cluster of 3',
  'in-process, 64 KB broadcast threshold',
  'local cluster of 3, 64 KB broadcast threshold',
] as const;

for (const mode of MODES) {
  describe(`TPC-H sf 0.01 through spark.sql (${mode})`, () => {
    let sc: MicroSpark;
    let dir: string;
    const reference = new Map<string, Answer>();
    /** The plans the queries ran (the `sql` progress event: adaptive execution's final plan). */
    const ran = new Map<string, string>();
    let current = '';
    beforeAll(async () => {
      dir = (await ensureTpch({ sf: 0.01, format: 'parquet' })).dir;
      sc = mode.startsWith('in-process')
        ? await MicroSpark.inProcess({ defaultParallelism: 3 })
        : await MicroSpark.local({ workers: 3, slotsPerWorker: 1 });
      if (mode.endsWith('threshold')) sc.session.conf.set('spark.sql.autoBroadcastJoinThreshold', '64k');
      sc.onProgress((e) => {
        if (e.type === 'sql') ran.set(current, `${ran.get(current) ?? ''}${e.plan}`);
      });
      for (const t of TPCH_TABLES) (await sc.session.read.parquet(`${dir}/${t}`)).createOrReplaceTempView(t);
      for (const q of tpchQueries()) reference.set(q.name, await runReference(dir, q.sql, { threads: 1 }));
    }, 120_000);
    afterAll(async () => {
      await sc?.stop();
    });
    for (const q of tpchQueries()) {
      it(`${q.name} equals DuckDB's answer`, async () => {
        current = q.name;
        const df = await sc.session.sql(q.sql);
        const rows = await df.collect();
        const columns = df.columns;
        const got: Answer = { columns, rows: rows.map((r) => columns.map((c) => norm(r[c]))) };
        const expected = reference.get(q.name)!;
        expect(expected.rows.length).toBeGreaterThan(0);
        expect(compareAnswers(expected, got, { ordered: q.ordered })).toEqual([]);
      }, 60_000);
    }
    it('broadcasts the join sides that proved small after their stage ran', () => {
      const adaptive = [...ran].filter(([, p]) => p.includes('adaptive broadcast')).map(([q]) => q);
      // At sf 0.01 every side fits the default 10 MB threshold: nothing is hashed, nothing is left to adapt.
      expect(adaptive).toEqual(mode.endsWith('threshold') ? ['q9', 'q10', 'q18', 'q20'] : []);
    });
  });
}
