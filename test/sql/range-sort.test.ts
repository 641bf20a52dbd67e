/**
 * Global sorts through the range exchange, in process and on a local cluster of 3 workers,
 * compared with DuckDB run directly on the same Parquet files: ties, nulls first and last,
 * ascending and descending, several keys, strings by their bytes, NaN and infinities, an
 * expression as a key, a skewed key (nine rows in ten equal), and ORDER BY … LIMIT/OFFSET. The
 * sorted result really is spread over ordered partitions (df.rdd's partitions, in order).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { F, MicroSpark } from '../../src/index.js';
import type { DataFrame } from '../../src/dataframe/dataframe.js';
import { duckdb } from '../../src/sql/exec/fragment.js';
import { sqlString } from '../../src/sql/types.js';

const FILES = 4;
const ROWS = 4000;
const STRINGS = ['', 'B', 'a', 'aa', 'ab', 'Z', 'é', 'e', 'zz', 'ä'];

let dir: string;
const reference = async (sql: string): Promise<unknown[][]> => {
  const conn = await (await duckdb()).connect();
  try {
    const r = await conn.runAndReadAll(
      sql.replace('FROM t', `FROM read_parquet(${sqlString(join(dir, '*.parquet'))})`),
    );
    return r.getRowsJS().map((row) => row.map((v) => (typeof v === 'bigint' ? Number(v) : v)));
  } finally {
    conn.closeSync();
  }
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'microspark-range-sort-'));
  const conn = await (await duckdb()).connect();
  try {
    const strings = `[${STRINGS.map(sqlString).join(', ')}]`;
    for (let f = 0; f < FILES; f++) {
      const lo = (f * ROWS) / FILES;
      const hi = ((f + 1) * ROWS) / FILES;
      // a: 50 values and NULL (many ties); s: strings and NULL; d: doubles with NaN, ±Infinity
      // and NULL; skew: 5 in nine rows of ten.
      await conn.run(`COPY (
        SELECT i AS id,
          CASE WHEN i % 13 = 0 THEN NULL ELSE CAST((i * 37) % 50 AS INTEGER) END AS a,
          CASE WHEN i % 17 = 0 THEN NULL ELSE ${strings}[1 + (i * 7) % ${STRINGS.length}] END AS s,
          CASE WHEN i % 19 = 0 THEN NULL WHEN i % 23 = 0 THEN CAST('NaN' AS DOUBLE)
               WHEN i % 29 = 0 THEN CAST('Infinity' AS DOUBLE) WHEN i % 31 = 0 THEN CAST('-Infinity' AS DOUBLE)
               ELSE ((i * 7919) % 1000) / 8.0 - 60 END AS d,
          CASE WHEN i % 10 = 0 THEN CAST(i AS INTEGER) ELSE 5 END AS skew
        FROM range(${lo}, ${hi}) AS r(i)
      ) TO ${sqlString(join(dir, `part-${f}.parquet`))} (FORMAT parquet)`);
    }
  } finally {
    conn.closeSync();
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A Spark SQL query and the same query for DuckDB (whose default null order differs: explicit). */
const CASES: ReadonlyArray<{ name: string; spark: string; duck: string }> = [
  {
    name: 'ties broken by a second key (Spark: ASC is NULLS FIRST)',
    spark: 'SELECT id, a FROM t ORDER BY a, id',
    duck: 'SELECT id, a FROM t ORDER BY a ASC NULLS FIRST, id ASC',
  },
  {
    name: 'several keys: DESC NULLS FIRST, ASC NULLS LAST, DESC',
    spark: 'SELECT id, a, s FROM t ORDER BY a DESC NULLS FIRST, s ASC NULLS LAST, id DESC',
    duck: 'SELECT id, a, s FROM t ORDER BY a DESC NULLS FIRST, s ASC NULLS LAST, id DESC',
  },
  {
    name: 'strings by their UTF-8 bytes (B < Z < a < e < zz < ä < é), DESC is NULLS LAST',
    spark: 'SELECT id, s FROM t ORDER BY s DESC, id',
    duck: 'SELECT id, s FROM t ORDER BY s DESC NULLS LAST, id ASC',
  },
  {
    name: 'doubles: -Infinity, numbers, Infinity, NaN last',
    spark: 'SELECT id, d FROM t ORDER BY d, id DESC',
    duck: 'SELECT id, d FROM t ORDER BY d ASC NULLS FIRST, id DESC',
  },
  {
    name: 'an expression as the key',
    spark: 'SELECT id, a FROM t ORDER BY a % 7 DESC, id',
    duck: 'SELECT id, a FROM t ORDER BY a % 7 DESC NULLS LAST, id',
  },
  {
    name: 'a skewed key: nine rows in ten equal',
    spark: 'SELECT id, skew FROM t ORDER BY skew DESC, id',
    duck: 'SELECT id, skew FROM t ORDER BY skew DESC NULLS LAST, id',
  },
  {
    name: 'only ties: one key with 51 values',
    spark: 'SELECT a FROM t ORDER BY a',
    duck: 'SELECT a FROM t ORDER BY a ASC NULLS FIRST',
  },
  {
    name: 'ORDER BY … LIMIT … OFFSET (a top-k)',
    spark: 'SELECT id, a, s FROM t ORDER BY a DESC, s, id LIMIT 9 OFFSET 4',
    duck: 'SELECT id, a, s FROM t ORDER BY a DESC NULLS LAST, s ASC NULLS FIRST, id LIMIT 9 OFFSET 4',
  },
];

const arrays = (df: DataFrame, rows: Array<Record<string, unknown>>): unknown[][] =>
  rows.map((r) => df.columns.map((c) => r[c]));

for (const mode of ['in-process', 'local cluster of 3'] as const) {
  describe(`global sorts through the range exchange (${mode})`, () => {
    let sc: MicroSpark;
    beforeAll(async () => {
      sc =
        mode === 'in-process'
          ? await MicroSpark.inProcess({ defaultParallelism: 3 })
          : await MicroSpark.local({ workers: 3, slotsPerWorker: 1 });
      sc.session.conf.set('spark.sql.shuffle.partitions', 4);
      // These files are small: without this the planner would gather them into one sort task.
      sc.session.conf.set('spark.microspark.sql.smallInputThreshold', -1);
      (await sc.session.read.parquet(dir)).createOrReplaceTempView('t');
    }, 60_000);
    afterAll(async () => {
      await sc?.stop();
    });

    for (const c of CASES) {
      it(`${c.name}: DuckDB's rows in DuckDB's order`, async () => {
        const df = await sc.session.sql(c.spark);
        const expected = await reference(c.duck);
        expect(expected.length).toBe(c.spark.includes('LIMIT') ? 9 : ROWS);
        expect(arrays(df, await df.collect())).toEqual(expected);
      }, 30_000);
    }

    it('explain shows the range exchange, and the rows sit in ordered, non-empty partitions', async () => {
      const df = sc.session.table('t').orderBy(F.col('d').desc_nulls_first(), 'id').select('id');
      expect(df.engine.explain(df._plan, 'simple')).toMatch(
        /Exchange rangepartitioning\(d DESC NULLS FIRST, id ASC NULLS FIRST, 4\)/,
      );
      const parts = (await df.rdd.glom().collect()) as Array<Array<{ id: number }>>;
      expect(parts.length).toBe(4);
      for (const p of parts) expect(p.length).toBeGreaterThan(ROWS / 10);
      const expected = await reference('SELECT id FROM t ORDER BY d DESC NULLS FIRST, id');
      expect(parts.flat().map((r) => [r.id])).toEqual(expected);
    }, 30_000);

    it('a skewed key keeps its equal rows in one partition', async () => {
      const df = await sc.session.sql('SELECT skew FROM t ORDER BY skew');
      const sizes = ((await df.rdd.glom().collect()) as unknown[][]).map((p) => p.length);
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(ROWS);
      // The 3600 fives share one partition (equal keys are never split).
      expect(sizes.some((n) => n >= (ROWS * 9) / 10)).toBe(true);
    }, 30_000);
  });
}
