/**
 * Small results come back from their tasks as rows instead of Parquet: the plan's row bound
 * (`maxRows`) and column types decide it; the rows equal what the Parquet path decodes to, value
 * for value (negative zero, NaN, NULL, longs beyond 2^53, decimals, dates, timestamps, text).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MicroSpark, type DataFrame } from '../../src/index.js';
import {
  decodeResultRows,
  runFragment,
  type FragmentTask,
  type ResultRows,
} from '../../src/sql/exec/fragment.js';
import { readBatches } from '../../src/sql/exec/rows.js';
import { maxRows, type LNode } from '../../src/sql/plan/logical.js';
import { optimize } from '../../src/sql/optimizer/optimizer.js';
import { resultRowsColumns, SessionEngine, SMALL_RESULT_ROWS } from '../../src/sql/session-engine.js';
import { parseDataType } from '../../src/sql/types.js';

let sc: MicroSpark;

beforeAll(async () => {
  sc = await MicroSpark.inProcess({ defaultParallelism: 2 });
  sc.session.range(0, 100, 1, 4).createOrReplaceTempView('r');
});

afterAll(async () => {
  await sc.stop();
});

/** A DataFrame's optimized plan. */
function optimized(df: DataFrame): LNode {
  const engine = df.engine as SessionEngine;
  const analyzed = engine.analyzer.analyze(df._plan);
  return optimize(analyzed, () => engine.analyzer.newId());
}

describe('the row bound of a plan (maxRows)', () => {
  it('bounds global aggregates, limits, ranges and what keeps their rows', async () => {
    const bound = async (sql: string) => maxRows(optimized(await sc.session.sql(sql)));
    expect(await bound('SELECT count(*) FROM r')).toBe(1);
    expect(await bound('SELECT id FROM r')).toBe(100);
    expect(await bound('SELECT id FROM r WHERE id > 10 ORDER BY id LIMIT 7')).toBe(7);
    expect(await bound('SELECT id % 3 AS k, count(*) FROM r GROUP BY 1')).toBe(100);
    expect(await bound('SELECT * FROM r UNION ALL SELECT * FROM r')).toBe(200);
    expect(await bound('SELECT * FROM r LIMIT 5 OFFSET 98')).toBe(2);
    expect(await bound('SELECT a.id FROM r a JOIN r b ON a.id = b.id')).toBe(100 * 100 + 200);
    expect(await bound('SELECT 1 AS one')).toBe(1);
  });

  it('leaves a file scan unbounded unless a limit or a global aggregate bounds it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'microspark-rows-'));
    try {
      const path = join(dir, 't.parquet');
      await sc.session.range(0, 10).write.parquet(path);
      const df = await sc.session.read.parquet(path);
      expect(maxRows(optimized(df))).toBeUndefined();
      expect(maxRows(optimized(df.limit(3)))).toBe(3);
      expect(maxRows(optimized(df.groupBy().count()))).toBe(1);
      expect(resultRowsColumns(optimized(df))).toBeUndefined();
      expect(resultRowsColumns(optimized(df.limit(3)))?.length).toBe(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('returns rows only for flat types and at most SMALL_RESULT_ROWS rows', async () => {
    const cols = async (sql: string) => resultRowsColumns(optimized(await sc.session.sql(sql)));
    expect((await cols('SELECT count(*) AS n, sum(id) AS s FROM r'))?.map(([, t]) => t)).toEqual([
      'bigint',
      'bigint',
    ]);
    expect(await cols('SELECT array(1, 2) AS a')).toBeUndefined();
    expect(await cols("SELECT map('k', 1) AS m")).toBeUndefined();
    expect(await cols("SELECT CAST('x' AS BINARY) AS b")).toBeUndefined();
    expect(await cols(`SELECT id FROM range(${SMALL_RESULT_ROWS})`)).toBeDefined();
    expect(await cols(`SELECT id FROM range(${SMALL_RESULT_ROWS + 1})`)).toBeUndefined();
  });
});

describe('a result returned as rows', () => {
  const sql = `SELECT * FROM (VALUES
      (1, -0.0::DOUBLE, 'a', 9007199254740993::BIGINT, 12.34::DECIMAL(10,2), DATE '2020-02-29', TIMESTAMP '2021-03-04 05:06:07.123', true),
      (2, 'NaN'::DOUBLE, 'ü – 日本', -9007199254740993::BIGINT, -0.01::DECIMAL(10,2), NULL, NULL, false),
      (3, NULL, NULL, 42::BIGINT, NULL, DATE '1969-12-31', TIMESTAMP '1970-01-01 00:00:00', NULL),
      (4, '-Infinity'::DOUBLE, '', 0::BIGINT, 0::DECIMAL(10,2), DATE '9999-12-31', TIMESTAMP '1900-01-01 00:00:00', true)
    ) AS v(c1, c2, c3, c4, c5, c6, c7, c8) ORDER BY c1`;
  const columns: ResultRows = [
    ['c1', 'int'],
    ['c2', 'double'],
    ['c3', 'string'],
    ['c4', 'bigint'],
    ['c5', 'decimal(10,2)'],
    ['c6', 'date'],
    ['c7', 'timestamp'],
    ['c8', 'boolean'],
  ];

  it('gives the same values as the Parquet path decodes, negative zero included', async () => {
    const task = (rows: boolean): FragmentTask => ({
      sql,
      inputs: [],
      output: rows ? { kind: 'result', rows: columns } : { kind: 'result' },
    });
    const [, asRows, , n] = (await runFragment(task(true), 0, []))[0]!;
    const parquet = (await runFragment(task(false), 0, [], undefined, undefined, { sections: false }))[0]![1];
    const viaParquet = await readBatches(
      [parquet],
      columns.map(([c]) => c),
      columns.map(([, t]) => parseDataType(t)),
    );
    const viaRows = decodeResultRows(asRows);
    expect(n).toBe(4);
    expect(viaRows).toEqual(viaParquet);
    expect(Object.is(viaRows[0]![1], -0)).toBe(true);
    expect(viaRows[0]![3]).toBe(9007199254740993n);
    expect(viaRows[1]![1]).toBeNaN();
    expect(viaRows[2]![1]).toBeNull();
    expect(viaRows.map((r) => r[0])).toEqual([1, 2, 3, 4]);
    expect(decodeResultRows(new Uint8Array(0))).toEqual([]);
  });

  it('collects small results through the session with the values of the Parquet path', async () => {
    const rows = await (
      await sc.session.sql(
        `SELECT * FROM (SELECT 1 AS k, CAST('-0.0' AS DOUBLE) AS z, 9007199254740993L AS big, CAST(NULL AS DATE) AS d
         UNION ALL SELECT 2, CAST('NaN' AS DOUBLE), -5L, DATE '2020-02-29') ORDER BY k`,
      )
    ).collect();
    expect(rows).toHaveLength(2);
    expect(Object.is(rows[0]!.z, -0)).toBe(true);
    expect(rows[0]!.big).toBe(9007199254740993n);
    expect(rows[0]!.d).toBeNull();
    expect(rows[1]!.z).toBeNaN();
    expect(rows[1]!.d).toEqual(new Date('2020-02-29T00:00:00Z'));
    expect(await (await sc.session.sql('SELECT count(*) AS n, sum(id) AS s FROM r')).collect()).toEqual([
      expect.objectContaining({ n: 100, s: 4950 }),
    ]);
  });
});
