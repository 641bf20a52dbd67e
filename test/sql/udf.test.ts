/**
 * User-defined functions (`F.udf`, `spark.udf.register`) run inside SQL stages, in process and on
 * a local cluster of 3 workers: exact results, nulls, env and broadcasts, value types both ways,
 * UDFs in filters, aggregates, grouping keys and SQL text; captured variables refused when
 * defined; a UDF's error fails the task with the user's error after maxTaskFailures attempts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MicroSpark, F } from '../../src/index.js';
import {
  CapturedVariableError,
  FunctionShippingError,
  RemoteError,
  TaskFailedError,
} from '../../src/protocol/errors.js';
import { AnalysisException } from '../../src/sql/errors.js';

const ROWS = [
  { id: 1, name: 'alice', score: 2.5, dept: 'a' },
  { id: 2, name: null, score: 4.0, dept: 'b' },
  { id: 3, name: 'carol', score: null, dept: 'a' },
  { id: 4, name: 'dan', score: 1.0, dept: 'b' },
  { id: 5, name: 'eve', score: 3.5, dept: 'a' },
];

async function failure(p: Promise<unknown>): Promise<TaskFailedError> {
  try {
    await p;
  } catch (e) {
    return e as TaskFailedError;
  }
  throw new Error('expected the action to fail');
}

for (const mode of ['in-process', 'local cluster of 3'] as const) {
  describe(`UDFs (${mode})`, () => {
    let sc: MicroSpark;
    beforeAll(async () => {
      sc =
        mode === 'in-process'
          ? await MicroSpark.inProcess({ defaultParallelism: 3, maxTaskFailures: 2 })
          : await MicroSpark.local({ workers: 3, slotsPerWorker: 1, maxTaskFailures: 2 });
    }, 60_000);
    afterAll(async () => {
      await sc?.stop();
    });

    const people = () => sc.session.createDataFrame(ROWS);

    it('computes exact values with env, and gets nulls as null', async () => {
      const plusK = F.udf((x: number, env: { k: number }) => x + env.k, 'long', { k: 100 });
      const label = F.udf((n: string | null, id: number) => (n === null ? `#${id}` : `${n}-${id}`));
      const isNull = F.udf((s: number | null) => s === null, 'boolean');
      const rows = await people()
        .select('id', plusK('id').alias('p'), label('name', 'id').alias('l'), isNull('score').alias('n'))
        .orderBy('id')
        .collect();
      expect(rows).toEqual([
        { id: 1, p: 101, l: 'alice-1', n: false },
        { id: 2, p: 102, l: '#2', n: false },
        { id: 3, p: 103, l: 'carol-3', n: true },
        { id: 4, p: 104, l: 'dan-4', n: false },
        { id: 5, p: 105, l: 'eve-5', n: false },
      ]);
    });

    it('names the column after the function, as Spark does', async () => {
      const twice = F.udf(function twice(x: number) {
        return x * 2;
      }, 'long');
      const df = people().select(twice('id'));
      expect(df.columns).toEqual(['twice(id)']);
      expect((await df.collect()).map((r) => r['twice(id)'])).toEqual([2, 4, 6, 8, 10]);
    });

    it('reads broadcast variables through env', async () => {
      const bc = sc.broadcast({ a: 'Apples', b: 'Bananas' });
      const deptName = F.udf(
        (d: string, env: { names: { value: Record<string, string> } }) => env.names.value[d],
        'string',
        {
          names: bc,
        },
      );
      const rows = await people().select('id', deptName('dept').alias('d')).orderBy('id').collect();
      expect(rows.map((r) => r.d)).toEqual(['Apples', 'Bananas', 'Apples', 'Bananas', 'Apples']);
    });

    it('converts values both ways: long, decimal, date, timestamp, arrays, structs, maps', async () => {
      const df = sc.session
        .range(1)
        .select(
          F.expr('CAST(9007199254740993 AS BIGINT)').alias('big'),
          F.expr('CAST(12.25 AS DECIMAL(10,2))').alias('dec'),
          F.expr("DATE '2024-02-29'").alias('d'),
          F.expr("TIMESTAMP '2024-01-02 03:04:05'").alias('ts'),
          F.expr('array(1, 2, 3)').alias('arr'),
          F.expr("named_struct('a', 1, 'b', 'x')").alias('st'),
          F.expr("map('k', 2)").alias('m'),
        );
      const describe = F.udf(
        (
          big: unknown,
          dec: unknown,
          d: Date,
          ts: Date,
          arr: number[],
          st: { a: number; b: string },
          m: Map<string, number>,
        ) =>
          [
            typeof big,
            String(big),
            typeof dec,
            String(dec),
            d instanceof Date ? d.toISOString() : 'not a date',
            ts instanceof Date ? ts.toISOString() : 'not a date',
            JSON.stringify(arr),
            JSON.stringify(st),
            m instanceof Map ? JSON.stringify([...m]) : 'not a map',
          ].join('|'),
      );
      const [row] = await df.select(describe('big', 'dec', 'd', 'ts', 'arr', 'st', 'm').alias('x')).collect();
      expect(row!.x).toBe(
        'bigint|9007199254740993|number|12.25|2024-02-29T00:00:00.000Z|2024-01-02T03:04:05.000Z|[1,2,3]|{"a":1,"b":"x"}|[["k",2]]',
      );
      const make = F.udf(
        (id: number) => ({ n: id, tags: ['t' + String(id), null], when: new Date(Date.UTC(2020, 0, id)) }),
        'struct<n:long,tags:array<string>,when:date>',
      );
      const toMap = F.udf((id: number) => new Map([['id', id]]), 'map<string,long>');
      const rows = await people()
        .filter(F.col('id').lt(3))
        .select(make('id').alias('s'), toMap('id').alias('m'))
        .orderBy(F.col('s.n'))
        .collect();
      expect(rows).toEqual([
        {
          s: { n: 1, tags: ['t1', null], when: new Date('2020-01-01T00:00:00.000Z') },
          m: new Map([['id', 1]]),
        },
        {
          s: { n: 2, tags: ['t2', null], when: new Date('2020-01-02T00:00:00.000Z') },
          m: new Map([['id', 2]]),
        },
      ]);
    });

    it('turns a result that does not fit the declared type into null, as PySpark does', async () => {
      const half = F.udf((x: number) => x / 2, 'long');
      const text = F.udf((x: number) => x * 10, 'string');
      const rows = await people()
        .select('id', half('id').alias('h'), text('id').alias('t'))
        .orderBy('id')
        .collect();
      expect(rows.map((r) => [r.h, r.t])).toEqual([
        [null, '10'],
        [1, '20'],
        [null, '30'],
        [2, '40'],
        [null, '50'],
      ]);
    });

    it('runs in a filter, an aggregate argument and a grouping key', async () => {
      const long = F.udf((s: string | null) => s !== null && s.length > 3, 'boolean');
      expect((await people().filter(long('name')).orderBy('id').collect()).map((r) => r.id)).toEqual([1, 3]);
      const sq = F.udf((x: number) => x * x, 'long');
      const totals = await people()
        .groupBy('dept')
        .agg(F.sum(sq('id')).alias('s'), F.count('*').alias('c'))
        .orderBy('dept')
        .collect();
      expect(totals).toEqual([
        { dept: 'a', s: 1 + 9 + 25, c: 3 },
        { dept: 'b', s: 4 + 16, c: 2 },
      ]);
      const parity = F.udf((x: number) => (x % 2 === 0 ? 'even' : 'odd'));
      const byParity = await people()
        .groupBy(parity('id').alias('p'))
        .agg(F.sum('id').alias('s'))
        .orderBy('p')
        .collect();
      expect(byParity).toEqual([
        { p: 'even', s: 6 },
        { p: 'odd', s: 9 },
      ]);
    });

    it('is callable from SQL after spark.udf.register', async () => {
      const spark = sc.session;
      people().createOrReplaceTempView('udf_people');
      spark.udf.register('plus_one', (x: number) => x + 1, 'long');
      spark.udf.register(
        'shout',
        F.udf((s: string) => s.toUpperCase()),
      );
      const df = await spark.sql(
        'SELECT id, plus_one(id) AS p, shout(dept) AS d FROM udf_people WHERE plus_one(id) > 3 ORDER BY id',
      );
      expect(await df.collect()).toEqual([
        { id: 3, p: 4, d: 'A' },
        { id: 4, p: 5, d: 'B' },
        { id: 5, p: 6, d: 'A' },
      ]);
      const sum = await spark.sql('SELECT sum(plus_one(id)) AS s FROM udf_people');
      expect(await sum.collect()).toEqual([{ s: 20 }]);
      expect(() =>
        spark.udf.register(
          'x',
          F.udf((s: string) => s),
          'long',
        ),
      ).toThrow(AnalysisException);
    });

    it('refuses a captured variable when the UDF is defined, and async functions', () => {
      const k = 3;
      expect(() => F.udf((x: number) => x * k, 'long')).toThrow(CapturedVariableError);
      expect(() => sc.session.udf.register('times_k', (x: number) => x * k, 'long')).toThrow(
        CapturedVariableError,
      );
      expect(() => F.udf(async (x: number) => Promise.resolve(x), 'long')).toThrow(FunctionShippingError);
    });

    it("fails the task with the user's error, retried up to maxTaskFailures", async () => {
      const bad = F.udf((x: number) => {
        if (x === 4) throw new RangeError(`no four (${x})`);
        return x;
      }, 'long');
      const err = await failure(people().select(bad('id')).collect());
      expect(err).toBeInstanceOf(TaskFailedError);
      expect(err.message).toMatch(/failed 2 times; most recent failure: RangeError: no four \(4\)/);
      const cause = err.cause as RemoteError;
      expect(cause).toBeInstanceOf(RemoteError);
      expect(cause.remoteName).toBe('RangeError');
      expect(cause.message).toBe('no four (4)');
      expect(cause.remoteStack).toMatch(/udf\.test\.ts:\d+/);
    });

    it('refuses a plain function that returns a promise, at run time', async () => {
      const p = F.udf((x: number) => Promise.resolve(x), 'long');
      const err = await failure(people().select(p('id')).collect());
      expect((err.cause as RemoteError).message).toMatch(
        /returned a promise: DuckDB calls UDFs synchronously/,
      );
    });
  });
}
