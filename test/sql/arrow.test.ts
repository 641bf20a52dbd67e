/**
 * `df.toArrow()` and `spark.createDataFrame(arrowTable)`: exact Arrow types from the Spark schema
 * (long → Int64, int → Int32, double → Float64, decimal → Decimal128, string → Utf8, boolean →
 * Bool, date → DateDay, timestamp → TimestampMicrosecond, array → List, struct → Struct) and
 * exact values, and back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as A from 'apache-arrow';
import { MicroSpark, F } from '../../src/index.js';
import { AnalysisException } from '../../src/sql/errors.js';

describe('Arrow tables', () => {
  let sc: MicroSpark;
  beforeAll(async () => {
    sc = await MicroSpark.inProcess({ defaultParallelism: 2 });
  });
  afterAll(async () => {
    await sc?.stop();
  });

  const frame = () =>
    sc.session.createDataFrame(
      [
        [
          1,
          10,
          1.5,
          12.25,
          'a',
          true,
          new Date('2024-02-29T00:00:00Z'),
          new Date('2024-01-02T03:04:05.123Z'),
          [1, 2],
          { x: 1, y: 'p' },
        ],
        [2, null, -0.5, -3.5, null, false, null, null, [], null],
        [
          9007199254740993n,
          -7,
          null,
          null,
          'c',
          null,
          new Date('1970-01-01T00:00:00Z'),
          new Date('1969-12-31T23:59:59Z'),
          null,
          { x: null, y: null },
        ],
      ],
      'l LONG, i INT, d DOUBLE, m DECIMAL(10,2), s STRING, b BOOLEAN, dt DATE, ts TIMESTAMP, arr ARRAY<INT>, st STRUCT<x: LONG, y: STRING>',
    );

  it('toArrow gives the Arrow types of the schema and the exact values', async () => {
    const t = await frame().orderBy('l').toArrow();
    expect(t).toBeInstanceOf(A.Table);
    expect(t.numRows).toBe(3);
    expect(t.schema.fields.map((f) => `${f.name}: ${String(f.type)}`)).toEqual([
      'l: Int64',
      'i: Int32',
      'd: Float64',
      'm: Decimal[10e+2]', // apache-arrow's own spelling of precision 10, scale 2
      's: Utf8',
      'b: Bool',
      'dt: Date32<DAY>',
      'ts: Timestamp<MICROSECOND, UTC>',
      'arr: List<Int32>',
      'st: Struct<{x:Int64, y:Utf8}>',
    ]);
    const col = (n: string) => t.getChild(n)!;
    expect([...col('l')]).toEqual([1n, 2n, 9007199254740993n]);
    expect([...col('i')]).toEqual([10, null, -7]);
    expect([...col('d')]).toEqual([1.5, -0.5, null]);
    expect([...col('m')].map((v) => (v === null ? null : String(v)))).toEqual(['1225', '-350', null]);
    expect([...col('s')]).toEqual(['a', null, 'c']);
    expect([...col('b')]).toEqual([true, false, null]);
    expect([...col('dt')]).toEqual([Date.UTC(2024, 1, 29), null, 0]);
    expect([...col('ts')]).toEqual([Date.UTC(2024, 0, 2, 3, 4, 5, 123), null, -1000]);
    expect(col('ts').data[0]!.values[0]).toBe(1704164645123000n); // microseconds
    expect([...col('arr')].map((v) => (v === null ? null : [...(v as Iterable<number>)]))).toEqual([
      [1, 2],
      [],
      null,
    ]);
    expect([...col('st')].map((v) => (v === null ? null : (v as { toJSON(): unknown }).toJSON()))).toEqual([
      { x: 1n, y: 'p' },
      null,
      { x: null, y: null },
    ]);
  });

  it('an empty result is a Table with the schema and no rows', async () => {
    const t = await frame().filter(F.col('l').lt(0)).select('l', 's').toArrow();
    expect(t.numRows).toBe(0);
    expect(t.schema.fields.map((f) => `${f.name}: ${String(f.type)}`)).toEqual(['l: Int64', 's: Utf8']);
  });

  it('createDataFrame(arrowTable) reads the types and values back', async () => {
    const t = await frame().orderBy('l').toArrow();
    const df = sc.session.createDataFrame(t);
    expect(df.schema.simpleString()).toBe(
      'struct<l:bigint,i:int,d:double,m:decimal(10,2),s:string,b:boolean,dt:date,ts:timestamp,arr:array<int>,st:struct<x:bigint,y:string>>',
    );
    expect(await df.orderBy('l').collect()).toEqual(await frame().orderBy('l').collect());
    const small = A.tableFromArrays({ n: Int32Array.from([3, 1, 2]), f: Float64Array.from([0.5, 1.5, 2.5]) });
    const sdf = sc.session.createDataFrame(small);
    expect(sdf.schema.simpleString()).toBe('struct<n:int,f:double>');
    expect(await sdf.agg(F.sum('n').alias('n'), F.max('f').alias('f')).collect()).toEqual([{ n: 6, f: 2.5 }]);
  });

  it('refuses an Arrow type Spark has no type for', () => {
    const t = new A.Table({ t: A.vectorFromArray([1n], new A.TimeMicrosecond()) });
    expect(() => sc.session.createDataFrame(t)).toThrow(AnalysisException);
  });
});
