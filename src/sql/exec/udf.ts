/**
 * User-defined functions inside a SQL stage's task. Each UDF of a fragment is compiled by the
 * task's Compiler (the path RDD functions take: env, broadcasts, accumulators, the user's file
 * and line in stacks) and registered with DuckDB as a scalar function that DuckDB calls on chunks
 * of up to 2048 rows. Arguments arrive in this project's representation (null as null, as in
 * PySpark); results are converted to the declared type (a value that does not fit becomes NULL).
 * The first error thrown by a UDF is kept, DuckDB is told to stop, and the task fails with the
 * user's error itself.
 *
 * DuckDB's function catalog is shared by the connections of an instance, so each registration
 * is named per concurrent run (a slot) and per signature; the registered function only
 * dispatches to what the current run put in {@link live}, so nothing of a run outlives it.
 */
import {
  BIGINT,
  BLOB,
  BOOLEAN,
  DATE,
  DECIMAL,
  DOUBLE,
  DuckDBScalarFunction,
  FLOAT,
  INTEGER,
  JSDuckDBValueConverter,
  JSToDuckDBValueConverter,
  LIST,
  MAP,
  SMALLINT,
  SQLNULL,
  STRUCT,
  TIMESTAMP,
  TINYINT,
  VARCHAR,
  type DuckDBConnection,
  type DuckDBType,
  type JS,
} from '@duckdb/node-api';
import { InvalidOperationError } from '../../protocol/errors.js';
import type { Compiler } from '../../rdd/compile.js';
import type { Callable } from '../../rdd/functions.js';
import {
  ArrayType,
  BinaryType,
  BooleanType,
  ByteType,
  DataType,
  DateType,
  DecimalType,
  DoubleType,
  FloatType,
  IntegerType,
  LongType,
  MapType,
  NullType,
  ShortType,
  StringType,
  StructType,
  TimestampType,
  parseDataType,
} from '../types.js';
import { fromDuck, toDuck } from './values.js';
import { arrowUdfField, fromArrowUdfValue, toArrowUdfValue } from '../../wasm/arrow-udf.js';
import { WasmAbiError, WasmGuestError, WasmUdfError } from '../../wasm/errors.js';

/** A UDF a fragment calls, as the task carries it (plain data). */
export interface FragmentUdf {
  /** Its name in the fragment's SQL (`ms_udf_0`). */
  readonly sqlName: string;
  /** The user's name for it, for messages. */
  readonly name: string;
  /** The shipped function. */
  readonly fn: Callable;
  /** The argument types, as DDL (`bigint`, `array<string>`). */
  readonly args: readonly string[];
  /** The declared return type, as DDL. */
  readonly returns: string;
  /**
   * For F.wasmUdf: the module and arrow-udf signature; `fn(signature, ipc)` returns the result
   * batch's IPC bytes, and DuckDB's chunks go to it whole, as Arrow record batches.
   */
  readonly arrow?: { readonly module: string; readonly signature: string };
}

/** The DuckDB type (node API object) of a Spark type, as `DataType.duckdb()` names it. */
export function duckType(t: DataType): DuckDBType {
  if (t instanceof StringType) return VARCHAR;
  if (t instanceof BinaryType) return BLOB;
  if (t instanceof BooleanType) return BOOLEAN;
  if (t instanceof DateType) return DATE;
  if (t instanceof TimestampType) return TIMESTAMP;
  if (t instanceof LongType) return BIGINT;
  if (t instanceof IntegerType) return INTEGER;
  if (t instanceof ShortType) return SMALLINT;
  if (t instanceof ByteType) return TINYINT;
  if (t instanceof DoubleType) return DOUBLE;
  if (t instanceof FloatType) return FLOAT;
  if (t instanceof DecimalType) return DECIMAL(t.precision, t.scale);
  if (t instanceof ArrayType) return LIST(duckType(t.elementType));
  if (t instanceof MapType) return MAP(duckType(t.keyType), duckType(t.valueType));
  if (t instanceof StructType)
    return STRUCT(Object.fromEntries(t.fields.map((f) => [f.name, duckType(f.dataType)])));
  if (t instanceof NullType) return INTEGER;
  return SQLNULL;
}

/** What a registered function calls during one run. */
interface Live {
  readonly f: (...args: unknown[]) => unknown;
  readonly argTypes: readonly DataType[];
  readonly returns: DataType;
  readonly name: string;
  /** For F.wasmUdf: called once per chunk, `f(signature, ipc)`. */
  readonly arrow?: FragmentUdf['arrow'];
  /** Chunks and rows the UDF has had in this run (for messages). */
  batches: number;
  rows: number;
  /** The first error a call threw (boxed: user code may throw anything). */
  error?: { readonly value: unknown };
}

type ArrowModule = typeof import('apache-arrow');
let A: ArrowModule | undefined;

/** Loads what the UDFs need before a run (apache-arrow, for WebAssembly UDFs). */
export async function prepareUdfs(udfs: readonly FragmentUdf[]): Promise<void> {
  if (udfs.some((u) => u.arrow)) A ??= await import('apache-arrow');
}

/**
 * One chunk through a WebAssembly UDF: the rows as an Arrow record batch (IPC file bytes, columns
 * `arg0…`), one guest call, the result batch's first column back as DuckDB values; a non-NULL
 * value in the result's `error` column (arrow-udf's per-row errors) fails the UDF.
 */
function arrowChunk(
  impl: Live,
  n: number,
  cols: readonly (readonly unknown[])[],
  set: (r: number, v: unknown) => void,
): void {
  const Arrow = A;
  if (!Arrow)
    throw new InvalidOperationError('apache-arrow was not loaded for a WebAssembly UDF (prepareUdfs)');
  const { module, signature } = impl.arrow!;
  const batch = ++impl.batches;
  const first = impl.rows;
  impl.rows += n;
  const fail = (message: string, row?: number) =>
    new WasmUdfError(
      `F.wasmUdf ${impl.name} (${signature} in module '${module}') failed on row batch ${batch} of its task ` +
        `(${n} rows: rows ${first}–${first + n - 1} the UDF saw there` +
        (row === undefined ? '' : `; row ${row} of the batch`) +
        `): ${message}`,
      module,
      signature,
      impl.name,
      batch,
      n,
      row,
    );
  const fields = impl.argTypes.map((t, i) => arrowUdfField(Arrow, `arg${i}`, t));
  const children = impl.argTypes.map((t, c) => {
    const col = cols[c]!;
    const values = new Array<unknown>(n);
    for (let r = 0; r < n; r++) values[r] = toArrowUdfValue(fromDuck(col[r], t), t);
    return Arrow.vectorFromArray(values, fields[c]!.type as never).data[0]!;
  });
  const data = Arrow.makeData({ type: new Arrow.Struct(fields), length: n, nullCount: 0, children });
  const ipc = Arrow.tableToIPC(
    new Arrow.Table([new Arrow.RecordBatch(new Arrow.Schema(fields), data)]),
    'file',
  );
  let bytes: Uint8Array;
  try {
    bytes = impl.f(signature, ipc) as Uint8Array;
  } catch (e) {
    if (e instanceof WasmGuestError) throw fail(e.message);
    throw e;
  }
  let out;
  try {
    out = Arrow.tableFromIPC(bytes);
  } catch (e) {
    throw new WasmAbiError(
      `${module}.${signature} returned bytes that are not an Arrow IPC record batch: ${(e as Error).message}`,
      module,
      signature,
    );
  }
  const value = out.getChildAt(0);
  if (!value || out.numRows !== n)
    throw new WasmAbiError(
      `${module}.${signature} returned ${value ? `${out.numRows} rows` : 'no column'} for a batch of ${n} rows`,
      module,
      signature,
    );
  const e = out.schema.fields.findIndex((f, i) => i > 0 && f.name === 'error');
  const errors = e > 0 ? out.getChildAt(e) : null;
  if (errors)
    for (let r = 0; r < n; r++) {
      const m: unknown = errors.get(r);
      if (m !== null && m !== undefined) throw fail(typeof m === 'string' ? m : JSON.stringify(m), r);
    }
  for (let r = 0; r < n; r++) set(r, fromArrowUdfValue(value.get(r), impl.returns));
}

const live = new Map<string, Live>();
const registered = new Set<string>();
const signatures = new Map<string, number>();
const slots: boolean[] = [];

function takeSlot(): number {
  let i = slots.indexOf(false);
  if (i < 0) i = slots.push(false) - 1;
  slots[i] = true;
  return i;
}

/** Replaces `ms_udf_<i>(` outside string literals and quoted identifiers. */
function renameCalls(sql: string, names: ReadonlyMap<string, string>): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === c) {
          if (sql[j + 1] === c) j += 2;
          else break;
        } else j++;
      }
      out += sql.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    const m = /^ms_udf_\d+(?=\()/.exec(sql.slice(i, i + 24));
    if (m && (i === 0 || !/[\w$]/.test(sql[i - 1]!))) {
      out += names.get(m[0]) ?? m[0];
      i += m[0].length;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

function registerOnce(
  conn: DuckDBConnection,
  runName: string,
  args: readonly DataType[],
  ret: DataType,
): void {
  if (registered.has(runName)) return;
  const fn = DuckDBScalarFunction.create({
    name: runName,
    returnType: duckType(ret),
    parameterTypes: args.map(duckType),
    // Null arguments reach the function (PySpark passes None), instead of DuckDB answering NULL.
    specialHandling: true,
    mainFunction: (info, input, output) => {
      const impl = live.get(runName);
      if (!impl) {
        info.setError(`${runName} was called outside the task that registered it`);
        return;
      }
      if (impl.error) {
        info.setError('a user-defined function failed');
        return;
      }
      try {
        const n = input.rowCount;
        const cols = input.convertColumns(JSDuckDBValueConverter);
        const types = impl.argTypes;
        const outType = output.type;
        if (impl.arrow) {
          arrowChunk(impl, n, cols, (r, v) => {
            const d = toDuck(v, impl.returns);
            output.setItem(
              r,
              d === null ? null : JSToDuckDBValueConverter(d as JS, outType, JSToDuckDBValueConverter),
            );
          });
          output.flush();
          return;
        }
        const a = new Array<unknown>(types.length);
        for (let r = 0; r < n; r++) {
          for (let c = 0; c < types.length; c++) a[c] = fromDuck(cols[c]![r], types[c]!);
          const v = impl.f(...a);
          if (v !== null && typeof (v as PromiseLike<unknown> | undefined)?.then === 'function')
            throw new InvalidOperationError(
              `the user-defined function ${impl.name} returned a promise: DuckDB calls UDFs synchronously, so a UDF cannot be async. Do the asynchronous work in the RDD API (df.rdd.map(async …)).`,
            );
          const d = toDuck(v, impl.returns);
          output.setItem(
            r,
            d === null ? null : JSToDuckDBValueConverter(d as JS, outType, JSToDuckDBValueConverter),
          );
        }
        output.flush();
      } catch (e) {
        impl.error ??= { value: e };
        info.setError(`user-defined function ${impl.name} failed: ${(e as Error)?.message ?? String(e)}`);
      }
    },
  });
  conn.registerScalarFunction(fn);
  registered.add(runName);
}

/** The UDFs of one fragment run, registered on its connection. */
export class UdfRun {
  private readonly names = new Map<string, string>();
  private readonly mine: string[] = [];
  private readonly slot: number;

  constructor(conn: DuckDBConnection, udfs: readonly FragmentUdf[], compiler: Compiler) {
    this.slot = takeSlot();
    try {
      for (const u of udfs) {
        const argTypes = u.args.map(parseDataType);
        const returns = parseDataType(u.returns);
        const sig = `${u.args.join(';')}->${u.returns}`;
        let g = signatures.get(sig);
        if (g === undefined) signatures.set(sig, (g = signatures.size));
        const runName = `${u.sqlName}_s${this.slot}_g${g}`;
        const f = compiler.fn(u.fn, u.arrow ? 2 : u.args.length) as (...args: unknown[]) => unknown;
        live.set(runName, {
          f,
          argTypes,
          returns,
          name: u.name,
          ...(u.arrow && { arrow: u.arrow }),
          batches: 0,
          rows: 0,
        });
        this.mine.push(runName);
        this.names.set(u.sqlName, runName);
        registerOnce(conn, runName, argTypes, returns);
      }
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** The fragment's SQL calling this run's registrations. */
  sql(text: string): string {
    return renameCalls(text, this.names);
  }

  /** The first error a UDF threw during the run, if any (boxed). */
  error(): { readonly value: unknown } | undefined {
    for (const n of this.mine) {
      const e = live.get(n)?.error;
      if (e) return e;
    }
    return undefined;
  }

  /** Forgets the run's functions and frees its slot. */
  close(): void {
    for (const n of this.mine) live.delete(n);
    this.mine.length = 0;
    slots[this.slot] = false;
  }
}
