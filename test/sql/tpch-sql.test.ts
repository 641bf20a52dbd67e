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

for (const mode of ['in-process', 'local cluster of 3'] as const) {
  describe(`TPC-H sf 0.01 through spark.sql (${mode})`, () => {
    let sc: MicroSpark;
    let dir: string;
    const reference = new Map<string, Answer>();
    beforeAll(async () => {
      dir = (await ensureTpch({ sf: 0.01, format: 'parquet' })).dir;
      sc =
        mode === 'in-process'
          ? await MicroSpark.inProcess({ defaultParallelism: 3 })
          : await MicroSpark.local({ workers: 3, slotsPerWorker: 1 });
      for (const t of TPCH_TABLES) (await sc.session.read.parquet(`${dir}/${t}`)).createOrReplaceTempView(t);
      for (const q of tpchQueries()) reference.set(q.name, await runReference(dir, q.sql, { threads: 1 }));
    }, 120_000);
    afterAll(async () => {
      await sc?.stop();
    });
    for (const q of tpchQueries()) {
      it(`${q.name} equals DuckDB's answer`, async () => {
        const df = await sc.session.sql(q.sql);
        const rows = await df.collect();
        const columns = df.columns;
        const got: Answer = { columns, rows: rows.map((r) => columns.map((c) => norm(r[c]))) };
        const expected = reference.get(q.name)!;
        expect(expected.rows.length).toBeGreaterThan(0);
        expect(compareAnswers(expected, got, { ordered: q.ordered })).toEqual([]);
      }, 60_000);
    }
  });
}
