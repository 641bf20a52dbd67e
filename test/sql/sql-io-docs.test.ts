/**
 * PySpark's DataFrameReader/DataFrameWriter and SparkSession.sql examples (round trips through
 * temporary directories: parquet, csv with header/inferSchema/sep, json, text; save modes;
 * partitionBy), and TPC-H Q1, Q3, Q6 and Q18 written with the DataFrame API, compared with
 * DuckDB's answers on the same Parquet files — in process and on a local cluster of 3 workers.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { F } from '../../src/index.js';
import type { DataFrame } from '../../src/dataframe/dataframe.js';
import type { SparkSession } from '../../src/sql/session.js';
import { ensureTpch } from '../../bench/tpch/generate.js';
import { tpchQueries } from '../../bench/tpch/queries.js';
import { compareAnswers, runReference, type Answer } from '../../bench/tpch/reference.js';
import { forEachMode, schemaLines, showLines, table } from './doc-examples-support.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'microspark-io-docs-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
let dirs = 0;
const freshDir = () => join(root, `d${++dirs}`);

forEachMode('PySpark DataFrameReader / DataFrameWriter examples', (spark) => {
  const people = () =>
    spark().createDataFrame(
      [
        [100, 'Hyukjin Kwon'],
        [120, 'Hyukjin Kwon'],
        [140, 'Haejoon Lee'],
      ],
      ['age', 'name'],
    );

  it('write.parquet then read.parquet: the same rows and schema', async () => {
    const d = freshDir();
    await spark()
      .createDataFrame(
        [
          [10, 'Alice'],
          [15, 'Bob'],
        ],
        'age INT, name STRING',
      )
      .write.parquet(d);
    const back = await spark().read.parquet(d);
    expect(schemaLines(back)).toEqual([
      'root',
      ' |-- age: integer (nullable = true)',
      ' |-- name: string (nullable = true)',
    ]);
    expect(await back.orderBy('age').collect()).toEqual([
      { age: 10, name: 'Alice' },
      { age: 15, name: 'Bob' },
    ]);
  });

  it('save modes: error (default) fails, overwrite replaces, append adds, ignore keeps', async () => {
    const d = freshDir();
    const df = people();
    await df.write.mode('overwrite').format('parquet').save(d);
    await expect(df.write.parquet(d)).rejects.toThrow(/already exists/i);
    await expect(df.write.mode('error').parquet(d)).rejects.toThrow(/already exists/i);
    await df.write.mode('append').parquet(d);
    expect(await (await spark().read.parquet(d)).count()).toBe(6);
    await spark()
      .createDataFrame([[1, 'x']], ['age', 'name'])
      .write.mode('ignore')
      .parquet(d);
    expect(await (await spark().read.parquet(d)).count()).toBe(6);
    await spark()
      .createDataFrame([[1, 'x']], ['age', 'name'])
      .write.mode('overwrite')
      .parquet(d);
    expect(await (await spark().read.parquet(d)).collect()).toEqual([{ age: 1, name: 'x' }]);
    expect(() => df.write.mode('sometimes')).toThrow(/INVALID_SAVE_MODE|invalid/);
  });

  it("csv with header, inferSchema and sep ('|'), and without a header", async () => {
    const d = freshDir();
    await people().write.csv(d, { header: true, sep: '|', mode: 'overwrite' });
    const back = await spark().read.csv(d, { header: true, inferSchema: true, sep: '|' });
    expect(back.columns).toEqual(['age', 'name']);
    expect(await showLines(back.orderBy('age'))).toEqual(
      table(
        '+---+------------+',
        '|age|        name|',
        '+---+------------+',
        '|100|Hyukjin Kwon|',
        '|120|Hyukjin Kwon|',
        '|140| Haejoon Lee|',
        '+---+------------+',
      ),
    );
    const d2 = freshDir();
    await people().write.csv(d2);
    const plain = await spark().read.csv(d2);
    expect(plain.dtypes).toEqual([
      ['_c0', 'string'],
      ['_c1', 'string'],
    ]);
    expect(await plain.orderBy('_c0').collect()).toEqual([
      { _c0: '100', _c1: 'Hyukjin Kwon' },
      { _c0: '120', _c1: 'Hyukjin Kwon' },
      { _c0: '140', _c1: 'Haejoon Lee' },
    ]);
  });

  it('read.csv(inferSchema=true) types small integers as int, not bigint', async () => {
    const d = freshDir();
    await people().write.csv(d, { header: true });
    const back = await spark().read.csv(d, { header: true, inferSchema: true });
    expect(back.dtypes).toEqual([
      ['age', 'int'],
      ['name', 'string'],
    ]);
    expect(await back.orderBy('age').collect()).toEqual([
      { age: 100, name: 'Hyukjin Kwon' },
      { age: 120, name: 'Hyukjin Kwon' },
      { age: 140, name: 'Haejoon Lee' },
    ]);
    // A value beyond an int makes the column a long; a fraction a double.
    const d2 = freshDir();
    await mkdir(d2);
    await writeFile(join(d2, 'x.csv'), 'a,b,c\n1,2147483648,1.5\n-2147483648,-1,2\n');
    const wide = await spark().read.csv(d2, { header: true, inferSchema: true });
    expect(wide.dtypes).toEqual([
      ['a', 'int'],
      ['b', 'bigint'],
      ['c', 'double'],
    ]);
    expect(await wide.orderBy('a').collect()).toEqual([
      { a: -2147483648, b: -1, c: 2 },
      { a: 1, b: 2147483648, c: 1.5 },
    ]);
  });

  it('json round trip (schema inferred: bigint and string)', async () => {
    const d = freshDir();
    await people().write.json(d, { mode: 'overwrite' });
    const back = await spark().read.json(d);
    expect(back.dtypes).toEqual([
      ['age', 'bigint'],
      ['name', 'string'],
    ]);
    expect(await back.orderBy('age').collect()).toEqual([
      { age: 100, name: 'Hyukjin Kwon' },
      { age: 120, name: 'Hyukjin Kwon' },
      { age: 140, name: 'Haejoon Lee' },
    ]);
  });

  it('json leaves null fields out (ignoreNullFields, default true), nested ones too; false keeps them', async () => {
    const rows = spark().createDataFrame(
      [
        [1, null, { x: null, y: 2 }],
        [2, 'b', null],
      ],
      'a INT, b STRING, s STRUCT<x: INT, y: INT>',
    );
    const lines = async (d: string) => {
      const files = (await readdir(d)).filter((f) => f.endsWith('.json'));
      const text = await Promise.all(files.map((f) => readFile(join(d, f), 'utf8')));
      return text.join('').split('\n').filter(Boolean).sort();
    };
    const d = freshDir();
    await rows.coalesce(1).write.json(d);
    expect(await lines(d)).toEqual(['{"a":1,"s":{"y":2}}', '{"a":2,"b":"b"}']);
    const k = freshDir();
    await rows.coalesce(1).write.json(k, { ignoreNullFields: false });
    expect(await lines(k)).toEqual(['{"a":1,"b":null,"s":{"x":null,"y":2}}', '{"a":2,"b":"b","s":null}']);
    // Read back, a left-out field is null again.
    expect(await (await spark().read.json(d)).orderBy('a').select('a', 'b').collect()).toEqual([
      { a: 1, b: null },
      { a: 2, b: 'b' },
    ]);
    await expect(rows.write.json(freshDir(), { ignoreNullFields: 'maybe' })).rejects.toThrow(
      "write.json: option ignoreNullFields must be true or false, got 'maybe'",
    );
  });

  it("text round trip: one 'value' column, one row per line", async () => {
    const d = freshDir();
    await spark()
      .createDataFrame([['a'], ['b'], ['c']], ['alphabets'])
      .write.mode('overwrite')
      .text(d);
    const back = await spark().read.text(d);
    expect(schemaLines(back)).toEqual(['root', ' |-- value: string (nullable = true)']);
    expect(await back.orderBy('value').collect()).toEqual([{ value: 'a' }, { value: 'b' }, { value: 'c' }]);
  });

  it('partitionBy: one directory per value, the column read back from the paths', async () => {
    const d = freshDir();
    const df = spark().createDataFrame(
      [
        [100, 'Hyukjin'],
        [120, 'Hyukjin'],
        [140, 'Haejoon'],
      ],
      ['age', 'name'],
    );
    await df.write.partitionBy('name').mode('overwrite').parquet(d);
    expect((await readdir(d)).filter((f) => f.startsWith('name=')).sort()).toEqual([
      'name=Haejoon',
      'name=Hyukjin',
    ]);
    const back = await spark().read.parquet(d);
    expect(back.columns.sort()).toEqual(['age', 'name']);
    expect(await back.select('name', 'age').orderBy('age').collect()).toEqual([
      { name: 'Hyukjin', age: 100 },
      { name: 'Hyukjin', age: 120 },
      { name: 'Haejoon', age: 140 },
    ]);
    expect(await back.filter(F.col('name').equalTo('Haejoon')).count()).toBe(1);
  });

  it("partitionBy directory names escaped as Spark does ('name=Haejoon Lee')", async () => {
    const d = freshDir();
    await people().write.partitionBy('name').mode('overwrite').format('parquet').save(d);
    expect((await readdir(d)).filter((f) => f.includes('=')).sort()).toEqual([
      'name=Haejoon Lee',
      'name=Hyukjin Kwon',
    ]);
    expect(await showLines((await spark().read.parquet(d)).sort('age'))).toEqual(
      table(
        '+---+------------+',
        '|age|        name|',
        '+---+------------+',
        '|100|Hyukjin Kwon|',
        '|120|Hyukjin Kwon|',
        '|140| Haejoon Lee|',
        '+---+------------+',
      ),
    );
    // ExternalCatalogUtils.escapePathName: '/', ':', '=', '%' … as %XX; NULL and '' as the default partition.
    const odd = spark().createDataFrame(
      [
        [1, 'a/b'],
        [2, 'x:y=z%'],
        [3, null],
        [4, 'é #'],
      ],
      'age INT, name STRING',
    );
    const d2 = freshDir();
    await odd.write.partitionBy('name').parquet(d2);
    // An append into existing partitions adds files to the same directories.
    await odd.filter('age = 1').write.mode('append').partitionBy('name').parquet(d2);
    expect((await readdir(d2)).filter((f) => f.includes('=')).sort()).toEqual([
      'name=__HIVE_DEFAULT_PARTITION__',
      'name=a%2Fb',
      'name=x%3Ay%3Dz%25',
      'name=é %23',
    ]);
    expect((await readdir(join(d2, 'name=a%2Fb'))).length).toBe(2);
    expect(await (await spark().read.parquet(d2)).select('age', 'name').orderBy('age').collect()).toEqual([
      { age: 1, name: 'a/b' },
      { age: 1, name: 'a/b' },
      { age: 2, name: 'x:y=z%' },
      { age: 3, name: null },
      { age: 4, name: 'é #' },
    ]);
  });

  it('partitionBy of NULL values: __HIVE_DEFAULT_PARTITION__, read back as NULL with the type inferred (csv, json, parquet)', async () => {
    const rows = spark().createDataFrame(
      [
        [1, 'a', 10],
        [2, null, null],
        [3, 'b', 30],
        [4, 'b', null],
      ],
      'id INT, s STRING, n INT',
    );
    const expected = [
      { id: 1, s: 'a', n: 10 },
      { id: 2, s: null, n: null },
      { id: 3, s: 'b', n: 30 },
      { id: 4, s: 'b', n: null },
    ];
    for (const format of ['csv', 'json', 'parquet'] as const) {
      const d = freshDir();
      await rows.write.partitionBy('n').format(format).option('header', 'true').save(d);
      expect((await readdir(d)).sort()).toEqual(['_SUCCESS', 'n=10', 'n=30', 'n=__HIVE_DEFAULT_PARTITION__']);
      // The partition column follows the data columns; its values (10, 30, NULL) make it an int.
      const back =
        format === 'csv'
          ? await spark().read.csv(d, { header: true, inferSchema: true })
          : format === 'json'
            ? await spark().read.json(d)
            : await spark().read.parquet(d);
      const id = format === 'json' ? 'long' : 'integer';
      expect(schemaLines(back)).toEqual([
        'root',
        ` |-- id: ${id} (nullable = true)`,
        ' |-- s: string (nullable = true)',
        ' |-- n: integer (nullable = true)',
      ]);
      expect(await back.orderBy('id').collect()).toEqual(expected);
      expect(await back.filter(F.col('n').isNull()).count()).toBe(2);
    }
    // CSV without a header: _c0, _c1 from the files, then the partition column; a column of
    // NULLs only is a string, two levels nest in the order given.
    const d = freshDir();
    await rows.filter('id = 2').write.partitionBy('s', 'n').csv(d);
    expect(await readdir(join(d, 's=__HIVE_DEFAULT_PARTITION__'))).toEqual(['n=__HIVE_DEFAULT_PARTITION__']);
    const back = await spark().read.csv(d);
    expect(schemaLines(back)).toEqual([
      'root',
      ' |-- _c0: string (nullable = true)',
      ' |-- s: string (nullable = true)',
      ' |-- n: string (nullable = true)',
    ]);
    expect(await back.collect()).toEqual([{ _c0: '2', s: null, n: null }]);
  });
});

forEachMode('PySpark SparkSession.sql examples', (spark) => {
  it("sql('SELECT * FROM range(10) where id > 7')", async () => {
    expect(await showLines(await spark().sql('SELECT * FROM range(10) where id > 7'))).toEqual(
      table('+---+', '| id|', '+---+', '|  8|', '|  9|', '+---+'),
    );
  });

  it('sql over a temp view, with Spark names for the computed columns', async () => {
    spark()
      .createDataFrame(
        [
          [1, 'a', 10],
          [2, 'b', 20],
          [3, 'a', 30],
        ],
        ['id', 'k', 'v'],
      )
      .createOrReplaceTempView('t_docs');
    const df = await spark().sql('SELECT k, sum(v), avg(v), count(*) FROM t_docs GROUP BY k ORDER BY k');
    expect(await showLines(df)).toEqual(
      table(
        '+---+------+------+--------+',
        '|  k|sum(v)|avg(v)|count(1)|',
        '+---+------+------+--------+',
        '|  a|    40|  20.0|       2|',
        '|  b|    20|  20.0|       1|',
        '+---+------+------+--------+',
      ),
    );
    const e = await spark().sql(
      'SELECT id, CASE WHEN v > 15 THEN 1 ELSE 0 END, 7 / 2, 7 div 2 FROM t_docs ORDER BY id',
    );
    expect(e.columns).toEqual(['id', 'CASE WHEN (v > 15) THEN 1 ELSE 0 END', '(7 / 2)', '(7 div 2)']);
    expect((await e.collect()).map((r) => Object.values(r))).toEqual([
      [1, 0, 3.5, 3],
      [2, 1, 3.5, 3],
      [3, 1, 3.5, 3],
    ]);
    // Spark's null ordering: ascending puts NULLs first, descending last.
    spark()
      .createDataFrame([[1], [null], [3]], ['x'])
      .createOrReplaceTempView('n_docs');
    expect((await (await spark().sql('SELECT x FROM n_docs ORDER BY x')).collect()).map((r) => r.x)).toEqual([
      null,
      1,
      3,
    ]);
    expect(
      (await (await spark().sql('SELECT x FROM n_docs ORDER BY x DESC')).collect()).map((r) => r.x),
    ).toEqual([3, 1, null]);
  });
});

// ------------------------------------------------------------------ TPC-H through the DataFrame API

type Tables = Record<'lineitem' | 'orders' | 'customer', DataFrame>;
const day = (s: string) => F.to_date(F.lit(s));

const tpchDataFrames: Record<string, (t: Tables) => DataFrame> = {
  q1: ({ lineitem: l }) =>
    l
      .filter(F.col('l_shipdate').leq(day('1998-09-02')))
      .groupBy('l_returnflag', 'l_linestatus')
      .agg(
        F.sum('l_quantity').alias('sum_qty'),
        F.sum('l_extendedprice').alias('sum_base_price'),
        F.sum(F.col('l_extendedprice').multiply(F.lit(1).minus(F.col('l_discount')))).alias('sum_disc_price'),
        F.sum(
          F.col('l_extendedprice')
            .multiply(F.lit(1).minus(F.col('l_discount')))
            .multiply(F.lit(1).plus(F.col('l_tax'))),
        ).alias('sum_charge'),
        F.avg('l_quantity').alias('avg_qty'),
        F.avg('l_extendedprice').alias('avg_price'),
        F.avg('l_discount').alias('avg_disc'),
        F.count('*').alias('count_order'),
      )
      .orderBy('l_returnflag', 'l_linestatus'),
  q3: ({ lineitem: l, orders: o, customer: c }) =>
    c
      .filter(F.col('c_mktsegment').equalTo('BUILDING'))
      .join(o, c.col('c_custkey').equalTo(o.col('o_custkey')))
      .join(l, l.col('l_orderkey').equalTo(o.col('o_orderkey')))
      .filter(
        F.col('o_orderdate')
          .lt(day('1995-03-15'))
          .and(F.col('l_shipdate').gt(day('1995-03-15'))),
      )
      .groupBy('l_orderkey', 'o_orderdate', 'o_shippriority')
      .agg(F.sum(F.col('l_extendedprice').multiply(F.lit(1).minus(F.col('l_discount')))).alias('revenue'))
      .select('l_orderkey', 'revenue', 'o_orderdate', 'o_shippriority')
      .orderBy(F.desc('revenue'), 'o_orderdate')
      .limit(10),
  q6: ({ lineitem: l }) =>
    l
      .filter(
        F.col('l_shipdate')
          .geq(day('1994-01-01'))
          .and(F.col('l_shipdate').lt(day('1995-01-01')))
          .and(F.col('l_discount').between(0.05, 0.07))
          .and(F.col('l_quantity').lt(24)),
      )
      .agg(F.sum(F.col('l_extendedprice').multiply(F.col('l_discount'))).alias('revenue')),
  q18: ({ lineitem: l, orders: o, customer: c }) => {
    const big = l
      .groupBy('l_orderkey')
      .agg(F.sum('l_quantity').alias('qty'))
      .filter(F.col('qty').gt(300))
      .select(F.col('l_orderkey').alias('big_orderkey'));
    return c
      .join(o, c.col('c_custkey').equalTo(o.col('o_custkey')))
      .join(big, o.col('o_orderkey').equalTo(big.col('big_orderkey')), 'left_semi')
      .join(l, o.col('o_orderkey').equalTo(l.col('l_orderkey')))
      .groupBy('c_name', 'c_custkey', 'o_orderkey', 'o_orderdate', 'o_totalprice')
      .agg(F.sum('l_quantity').alias('sum_qty'))
      .orderBy(F.desc('o_totalprice'), 'o_orderdate')
      .limit(100);
  },
};

const norm = (v: unknown): unknown => (v instanceof Date ? v.toISOString().slice(0, 10) : v);

forEachMode('TPC-H Q1, Q3, Q6, Q18 with the DataFrame API (sf 0.01)', (spark) => {
  let tables: Tables;
  const reference = new Map<string, Answer>();
  let session: SparkSession;
  beforeAll(async () => {
    session = spark();
    const dir = (await ensureTpch({ sf: 0.01, format: 'parquet' })).dir;
    tables = {
      lineitem: await session.read.parquet(`${dir}/lineitem`),
      orders: await session.read.parquet(`${dir}/orders`),
      customer: await session.read.parquet(`${dir}/customer`),
    };
    for (const q of tpchQueries())
      if (q.name in tpchDataFrames) reference.set(q.name, await runReference(dir, q.sql, { threads: 1 }));
  }, 120_000);

  for (const name of Object.keys(tpchDataFrames)) {
    it(`${name} equals DuckDB's answer to the SQL query`, async () => {
      const df = tpchDataFrames[name]!(tables);
      const rows = await df.collect();
      const columns = df.columns;
      const got: Answer = { columns, rows: rows.map((r) => columns.map((c) => norm(r[c]))) };
      const expected = reference.get(name)!;
      expect(expected.rows.length).toBeGreaterThan(0);
      expect(compareAnswers(expected, got, { ordered: true })).toEqual([]);
    }, 60_000);
  }
});
