/**
 * F.wasmUdf: DataFrame UDFs in WebAssembly over RisingWave's arrow-udf ABI (a guest compiled here
 * from AssemblyScript with its own Arrow IPC reader and writer), in process and on a local cluster
 * of 3 daemons with identical assertions: results equal the same function in JavaScript (F.udf)
 * and DuckDB's own arithmetic, over several partitions and chunks, with NULLs; arguments cast to
 * the signature; a guest's per-row error (the `error` column) and a failed call (errno) fail the
 * action with WasmUdfError naming the UDF and the row batch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  F,
  MicroSpark,
  RemoteError,
  TaskFailedError,
  WasmModuleError,
  type WasmModule,
} from '../../src/index.js';
import { AnalysisException } from '../../src/sql/errors.js';
import { arrowUdfExportName, decodeArrowUdfBase64 } from '../../src/wasm/arrow-udf.js';
import wabtInit from 'wabt';
import { arrowUdfGuest, wat } from './guests.js';

const modes = [
  { name: 'inProcess', create: () => MicroSpark.inProcess({ defaultParallelism: 3, maxTaskFailures: 2 }) },
  {
    name: 'local cluster of 3 daemons',
    create: () =>
      MicroSpark.local({ workers: 3, slotsPerWorker: 1, defaultParallelism: 3, maxTaskFailures: 2 }),
  },
];

const N = 5000; // over two DuckDB chunks (2048 rows) per partition of three
function jsGcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
const A = (id: number) => ((id * 7) % 1000) - 300;
const B = (id: number) => (id % 13 === 0 ? null : id % 97);

/** A minimal arrow-udf module (WAT) exporting one function of `signature` that returns errno 0. */
async function arrowUdfModule(signature: string): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const mod = wabt.parseWat(
    'udf.wat',
    `(module (memory (export "memory") 1)
      (global (export "ARROWUDF_VERSION_3_0") i32 (i32.const 0))
      (func (export "alloc") (param i32 i32) (result i32) (i32.const 1024))
      (func (export "dealloc") (param i32 i32 i32))
      (func (export "${arrowUdfExportName(signature)}") (param i32 i32 i32) (result i32) (i32.const 0)))`,
  );
  try {
    return new Uint8Array(mod.toBinary({}).buffer);
  } finally {
    mod.destroy();
  }
}

let guest: Uint8Array;
let rddGuest: Uint8Array;
beforeAll(async () => {
  [guest, rddGuest] = await Promise.all([arrowUdfGuest(), wat('guest.wat')]);
});

it('decodes arrow-udf export names (its base64 alphabet)', () => {
  const name = arrowUdfExportName('gcd(int32,int32)->int32');
  expect(name).toBe('arrowudf_Z2NkKGludDMyLGludDMyKS0$aW50MzI');
  expect(decodeArrowUdfBase64(name.slice('arrowudf_'.length))).toBe('gcd(int32,int32)->int32');
  expect(decodeArrowUdfBase64('a+b')).toBeUndefined();
});

describe.each(modes)('F.wasmUdf ($name)', (mode) => {
  let sc: MicroSpark;
  let m: WasmModule;
  beforeAll(async () => {
    sc = await mode.create();
    m = await sc.wasm(guest, { name: 'udfs' });
  }, 60_000);
  afterAll(async () => {
    await sc?.stop();
  });

  const numbers = () =>
    sc.session
      .range(0, N, 1, 3)
      .select(
        'id',
        F.expr('CAST(id * 7 % 1000 - 300 AS INT)').alias('a'),
        F.expr('CASE WHEN id % 13 = 0 THEN NULL ELSE CAST(id % 97 AS INT) END').alias('b'),
      );

  it('lists the module’s arrow-udf functions', () => {
    expect(m.arrowUdfs.map((u) => u.signature).sort()).toEqual([
      'bad(int32)->int32',
      'days(date32)->int32',
      'decimal_value(decimal)->float64',
      'div(int32,int32)->int32',
      'echo(date32)->date32',
      'echo(decimal)->decimal',
      'echo(int32[])->int32[]',
      'echo(struct Point)->struct Point',
      'echo(timestamp)->timestamp',
      'fail(int32)->int32',
      'gcd(int32,int32)->int32',
      'length(string)->int32',
      'micros(timestamp)->float64',
      'norm2(struct Point)->float64',
      'score(float64)->float64',
      'sum(float64[])->float64',
    ]);
    // `struct Point` written out from the module's arrowudt_ export.
    const norm2 = m.arrowUdfs.find((u) => u.name === 'norm2')!;
    expect([norm2.args, norm2.returns]).toEqual([['struct<x:float64,y:float64>'], 'float64']);
  });

  it('gcd over 5000 rows in 3 partitions equals the same function in JavaScript, NULLs included', async () => {
    const gcd = F.wasmUdf(m, 'gcd', 'int');
    const jsUdf = F.udf((a: number | null, b: number | null) => {
      if (a === null || b === null) return null;
      while (b !== 0) [a, b] = [b, a % b];
      return a;
    }, 'int');
    const df = numbers().select('id', gcd('a', 'b').alias('w'), jsUdf('a', 'b').alias('j'));
    expect(df.columns).toEqual(['id', 'w', 'j']);
    const rows = (await df.orderBy('id').collect()) as Array<{
      id: number;
      w: number | null;
      j: number | null;
    }>;
    expect(rows.length).toBe(N);
    const expected = Array.from({ length: N }, (_, id) => {
      const b = B(id);
      return b === null ? null : jsGcd(A(id), b);
    });
    expect(rows.map((r) => r.w)).toEqual(expected);
    expect(rows.map((r) => r.j)).toEqual(expected);
    expect(rows.filter((r) => r.w === null).length).toBe(Math.ceil(N / 13));
  });

  it('float64 and string functions equal DuckDB’s arithmetic and byte lengths', async () => {
    const score = F.wasmUdf(m, 'score', 'double');
    const rows = (await sc.session
      .range(0, 3000, 1, 2)
      .select('id', F.expr('id / 4.0').alias('x'))
      .select('id', score('x').alias('w'), F.expr('x * x + 1').alias('d'))
      .orderBy('id')
      .collect()) as Array<{ id: number; w: number; d: number }>;
    expect(rows.length).toBe(3000);
    expect(rows.map((r) => r.w)).toEqual(rows.map((r) => r.d));
    expect(rows[10]!.w).toBe(2.5 * 2.5 + 1);

    const length = F.wasmUdf(m, 'length', 'int');
    const words = ['rising', 'wave', null, 'héllo', '', '日本語'];
    const df = sc.session.createDataFrame(
      words.map((s, i) => ({ i, s })),
      'i int, s string',
    );
    const got = await df.select('i', length('s').alias('n')).orderBy('i').collect();
    expect(got.map((r) => r.n)).toEqual(words.map((s) => (s === null ? null : Buffer.byteLength(s))));
  });

  it('date, timestamp, decimal, list and struct columns in arrow-udf’s layout, and back', async () => {
    const day = (y: number, mo: number, d: number) => new Date(Date.UTC(y, mo - 1, d));
    const rows = [
      {
        i: 0,
        d: day(1970, 1, 1),
        t: new Date(Date.UTC(2024, 1, 29, 12, 30, 15, 250)),
        m: 12.345,
        xs: [1.5, 2.25],
        ys: [1, -2, 3],
        p: { x: 3, y: 4 },
      },
      { i: 1, d: day(2024, 2, 29), t: new Date(0), m: -0.5, xs: [], ys: [], p: { x: -1.5, y: 0 } },
      {
        i: 2,
        d: day(1969, 12, 31),
        t: new Date(-1000),
        m: 1000,
        xs: [0.5, null, 4],
        ys: [null, 7],
        p: { x: null, y: 1 },
      },
      { i: 3, d: null, t: null, m: null, xs: null, ys: null, p: null },
    ];
    const df = sc.session.createDataFrame(
      rows,
      'i int, d date, t timestamp, m decimal(10,3), xs array<double>, ys array<int>, p struct<x:double,y:double>',
    );
    const u = (name: string, type: string) => F.wasmUdf(m, name, type);
    const got = await df
      .select(
        'i',
        u('days', 'int')('d').alias('days'),
        u('micros', 'double')('t').alias('us'),
        u('decimal_value', 'double')('m').alias('dv'),
        u('sum', 'double')('xs').alias('s'),
        u('norm2', 'double')('p').alias('n2'),
        u('echo', 'date')('d').alias('d2'),
        u('echo', 'timestamp')('t').alias('t2'),
        u('echo', 'decimal(10,3)')('m').alias('m2'),
        u('echo', 'array<int>')('ys').alias('ys2'),
        u('echo', 'struct<x:double,y:double>')('p').alias('p2'),
      )
      .orderBy('i')
      .collect();
    // What the guest read: Date32 days, Timestamp microseconds, decimal text, list items, struct fields.
    expect(got.map((r) => r.days)).toEqual([0, 19782, -1, null]);
    expect(got.map((r) => r.us)).toEqual([1709209815250000, 0, -1000000, null]);
    expect(got.map((r) => r.dv)).toEqual([12.345, -0.5, 1000, null]);
    expect(got.map((r) => r.s)).toEqual([3.75, 0, 4.5, null]);
    expect(got.map((r) => r.n2)).toEqual([25, 2.25, null, null]);
    // What came back from the guest's result batch (its input, echoed).
    expect(got.map((r) => r.d2)).toEqual(rows.map((r) => r.d));
    expect(got.map((r) => r.t2)).toEqual(rows.map((r) => r.t));
    expect(got.map((r) => r.m2)).toEqual(rows.map((r) => r.m));
    expect(got.map((r) => r.ys2)).toEqual(rows.map((r) => r.ys));
    expect(got.map((r) => r.p2)).toEqual(rows.map((r) => r.p));
  });

  it('casts arguments to the signature (bigint ids to int32) and names the column as Spark does', async () => {
    const gcd = F.wasmUdf(m, 'gcd', 'int');
    const df = sc.session.range(1, 7, 1, 2).select(gcd('id', F.lit(4)));
    expect(df.columns).toEqual(['gcd(id, 4)']);
    expect((await df.collect()).map((r) => r['gcd(id, 4)'])).toEqual([1, 2, 1, 4, 1, 2]);
  });

  it('a per-row error fails the action with WasmUdfError naming the UDF, the batch and the row', async () => {
    const div = F.wasmUdf(m, 'div', 'int');
    // Every other result is fine; the row with b = 0 is row 3 of the one partition's first batch.
    const ok = await sc.session
      .range(0, 6, 1, 1)
      .select(div(F.expr('CAST(id * 10 AS INT)'), F.expr('CAST(id + 1 AS INT)')).alias('q'))
      .collect();
    expect(ok.map((r) => r.q)).toEqual([0, 5, 6, 7, 8, 8]);
    const e = await sc.session
      .range(0, 6, 1, 1)
      .select(div(F.expr('CAST(id AS INT)'), F.expr('CAST(id - 3 AS INT)')))
      .collect()
      .then(
        () => undefined,
        (x: unknown) => x,
      );
    expect(e).toBeInstanceOf(TaskFailedError);
    expect((e as TaskFailedError).attempts).toBe(2);
    const cause = (e as TaskFailedError).cause as RemoteError;
    expect(cause).toBeInstanceOf(RemoteError);
    expect(cause.remoteName).toBe('WasmUdfError');
    expect(cause.remoteData).toEqual({
      module: 'udfs',
      fn: 'div(int32,int32)->int32',
      udf: 'div',
      batch: 1,
      rows: 6,
      row: 3,
    });
    expect(cause.message).toBe(
      "F.wasmUdf div (div(int32,int32)->int32 in module 'udfs') failed on row batch 1 of its task " +
        '(6 rows: rows 0–5 the UDF saw there; row 3 of the batch): division by zero',
    );
  });

  it('a failed call (errno) fails the action with WasmUdfError carrying the guest’s message', async () => {
    const fail = F.wasmUdf(m, 'fail', 'int');
    const e = await sc.session
      .range(0, 3, 1, 1)
      .select(fail(F.expr('CAST(id AS INT)')))
      .collect()
      .then(
        () => undefined,
        (x: unknown) => x,
      );
    const cause = (e as TaskFailedError).cause as RemoteError;
    expect(cause.remoteName).toBe('WasmUdfError');
    expect(cause.remoteData).toEqual({
      module: 'udfs',
      fn: 'fail(int32)->int32',
      udf: 'fail',
      batch: 1,
      rows: 3,
    });
    expect(cause.message).toMatch(
      /failed on row batch 1 of its task \(3 rows: rows 0–2 the UDF saw there\): fail\(\) always fails$/,
    );
    // The context still serves.
    expect(await sc.session.range(0, 4).count()).toBe(4);
  });

  it('a result outside the guest’s memory is a WasmAbiError; the context still serves', async () => {
    const bad = F.wasmUdf(m, 'bad', 'int');
    const e = await sc.session
      .range(0, 3, 1, 1)
      .select(bad(F.expr('CAST(id AS INT)')))
      .collect()
      .then(
        () => undefined,
        (x: unknown) => x,
      );
    const cause = (e as TaskFailedError).cause as RemoteError;
    expect(cause.remoteName).toBe('WasmAbiError');
    expect(cause.remoteData).toEqual({ module: 'udfs', fn: 'bad(int32)->int32' });
    expect(cause.message).toMatch(
      /^udfs\.bad\(int32\)->int32 returned 16 bytes at 2147418112, outside its memory of \d+ bytes$/,
    );
    const gcd = F.wasmUdf(m, 'gcd', 'int');
    expect(
      (
        await sc.session
          .range(1, 4, 1, 1)
          .select(gcd('id', F.lit(2)).alias('g'))
          .collect()
      ).map((r) => r.g),
    ).toEqual([1, 2, 1]);
  });

  it('refuses what it cannot call, when defined or analyzed', async () => {
    expect(() => F.wasmUdf(m, 'gcd', 'long')).toThrow(WasmModuleError);
    expect(() => F.wasmUdf(m, 'gcd', 'long')).toThrow(
      "F.wasmUdf: module 'udfs' has no arrow-udf function gcd(…)->int64; it has: ",
    );
    expect(() => F.wasmUdf(m, 'nope', 'int')).toThrow(WasmModuleError);
    const plain = await sc.wasm(rddGuest, { name: 'plain' });
    expect(() => F.wasmUdf(plain, 'score', 'double')).toThrow(/module 'plain' is not an arrow-udf module/);
    expect(() => F.wasmUdf(m, 'gcd', 'map<string,int>')).toThrow(
      /the return type map<string,int> cannot come back from a WebAssembly UDF \(supported: boolean, .*, date32, timestamp, decimal, T\[\], struct<…>\)/,
    );
    const gcd = F.wasmUdf(m, 'gcd', 'int');
    expect(() => sc.session.range(0, 3).select(gcd('id')).columns).toThrow(AnalysisException);
    // A table function (->>) is refused by name; a struct no arrowudt_ export describes, at load.
    const series = await sc.wasm(await arrowUdfModule('series(int32)->>int32'), { name: 'tf' });
    expect(series.arrowUdfs.map((u) => [u.signature, u.table])).toEqual([['series(int32)->>int32', true]]);
    expect(() => F.wasmUdf(series, 'series', 'int')).toThrow(
      "F.wasmUdf: series(int32)->>int32 in module 'tf' is an arrow-udf table function (->>), which this engine " +
        'does not support: F.wasmUdf calls scalar functions (->) only',
    );
    const nope = await arrowUdfModule('f(struct Nope)->int32');
    await expect(sc.wasm(nope, { name: 'nope' })).rejects.toThrow(WasmModuleError);
    await expect(sc.wasm(nope, { name: 'nope' })).rejects.toThrow(
      "module 'nope': f(struct Nope)->int32 names struct Nope, which no arrowudt_ export describes",
    );
  });
});
