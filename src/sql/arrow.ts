/**
 * DataFrames and Apache Arrow tables (apache-arrow, loaded when first used: it is large).
 * `toArrowTable` builds a Table from collected rows with Arrow types from the Spark schema:
 * long → Int64, int → Int32, short → Int16, byte → Int8, double → Float64, float → Float32,
 * decimal(p,s) → Decimal128(p,s), string → Utf8, binary → Binary, boolean → Bool,
 * date → DateDay, timestamp → TimestampMicrosecond (UTC), array → List, struct → Struct,
 * map → Map. `fromArrow` reads a Table (of this or another apache-arrow instance, by its
 * methods) into rows and the Spark schema of its types.
 */
import type { Table } from 'apache-arrow';
import { AnalysisException } from './errors.js';
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
  StructField,
  StructType,
  TimestampType,
} from './types.js';

type ArrowModule = typeof import('apache-arrow');
type ArrowType = import('apache-arrow').DataType;

/** The Arrow type of a Spark type (see the module comment for the mapping). */
export function arrowType(A: ArrowModule, t: DataType): ArrowType {
  if (t instanceof LongType) return new A.Int64();
  if (t instanceof IntegerType) return new A.Int32();
  if (t instanceof ShortType) return new A.Int16();
  if (t instanceof ByteType) return new A.Int8();
  if (t instanceof DoubleType) return new A.Float64();
  if (t instanceof FloatType) return new A.Float32();
  if (t instanceof DecimalType) return new A.Decimal(t.scale, t.precision, 128);
  if (t instanceof StringType) return new A.Utf8();
  if (t instanceof BinaryType) return new A.Binary();
  if (t instanceof BooleanType) return new A.Bool();
  if (t instanceof DateType) return new A.DateDay();
  if (t instanceof TimestampType) return new A.TimestampMicrosecond('UTC');
  if (t instanceof ArrayType) return new A.List(new A.Field('element', arrowType(A, t.elementType), true));
  if (t instanceof StructType)
    return new A.Struct(t.fields.map((f) => new A.Field(f.name, arrowType(A, f.dataType), f.nullable)));
  if (t instanceof MapType)
    return new A.Map_(
      new A.Field(
        'entries',
        new A.Struct([
          new A.Field('key', arrowType(A, t.keyType), false),
          new A.Field('value', arrowType(A, t.valueType), true),
        ]) as never,
        false,
      ),
    );
  if (t instanceof NullType) return new A.Null();
  throw new AnalysisException(
    'UNSUPPORTED_DATATYPE',
    `[UNSUPPORTED_DATATYPE] toArrow: the type ${t.simpleString()} has no Arrow type here.`,
  );
}

/** Decimal128's four little-endian 32-bit words of a scaled value (two's complement). */
function decimalWords(v: number, scale: number): Uint32Array {
  let x = BigInt.asUintN(128, BigInt(v.toFixed(scale).replace('.', '')));
  const w = new Uint32Array(4);
  for (let i = 0; i < 4; i++) {
    w[i] = Number(x & 0xffffffffn);
    x >>= 32n;
  }
  return w;
}

/** A row value as the Arrow builder of `t` takes it (Int64 as bigint, decimals as words). */
function arrowValue(v: unknown, t: DataType): unknown {
  if (v === null || v === undefined) return null;
  if (t instanceof LongType) return typeof v === 'bigint' ? v : BigInt(v as number);
  if (t instanceof DecimalType) return decimalWords(Number(v), t.scale);
  if (t instanceof ArrayType) return (v as unknown[]).map((x) => arrowValue(x, t.elementType));
  if (t instanceof StructType) {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(t.fields.map((f) => [f.name, arrowValue(o[f.name], f.dataType)]));
  }
  if (t instanceof MapType)
    return new Map(
      [...(v as Map<unknown, unknown>)].map(([k, x]) => [
        arrowValue(k, t.keyType),
        arrowValue(x, t.valueType),
      ]),
    );
  return v;
}

/** An Arrow Table of rows (arrays in schema order) with the schema's Arrow types. */
export async function toArrowTable(
  rows: readonly (readonly unknown[])[],
  schema: StructType,
): Promise<Table> {
  const A = await import('apache-arrow');
  const fields = schema.fields.map((f) => new A.Field(f.name, arrowType(A, f.dataType), f.nullable));
  const arrowSchema = new A.Schema(fields);
  if (rows.length === 0) return new A.Table(arrowSchema, []);
  const vectors = schema.fields.map((f, i) =>
    A.vectorFromArray(
      rows.map((r) => arrowValue(r[i], f.dataType)),
      fields[i]!.type,
    ),
  );
  if (vectors.some((v) => v.data.length !== 1))
    // Built in several chunks (very large columns): the Table lines the chunks up itself.
    return new A.Table(Object.fromEntries(schema.fields.map((f, i) => [f.name, vectors[i]!])));
  const data = A.makeData({
    type: new A.Struct(fields),
    length: rows.length,
    nullCount: 0,
    children: vectors.map((v) => v.data[0]!),
  });
  return new A.Table([new A.RecordBatch(arrowSchema, data)]);
}

/** What `createDataFrame` recognises as an Arrow Table (by shape: any apache-arrow instance). */
export interface ArrowTableLike {
  readonly schema: { readonly fields: readonly { readonly name: string; readonly type: unknown }[] };
  readonly numRows: number;
  getChildAt(i: number): { get(i: number): unknown } | null;
}

/** Whether `x` looks like an apache-arrow Table. */
export function isArrowTable(x: unknown): x is ArrowTableLike {
  const t = x as Partial<ArrowTableLike> | null;
  return (
    t !== null &&
    typeof t === 'object' &&
    typeof t.numRows === 'number' &&
    typeof t.getChildAt === 'function' &&
    Array.isArray(t.schema?.fields)
  );
}

// Arrow's Type enum (Schema.fbs), stable across apache-arrow versions.
const T = {
  Null: 1,
  Int: 2,
  Float: 3,
  Binary: 4,
  Utf8: 5,
  Bool: 6,
  Decimal: 7,
  Date: 8,
  Timestamp: 10,
  List: 12,
  Struct: 13,
  FixedSizeBinary: 15,
  FixedSizeList: 16,
  Map: 17,
  LargeBinary: 19,
  LargeUtf8: 20,
  LargeList: 21,
} as const;

interface ArrowTypeLike {
  readonly typeId: number;
  readonly bitWidth?: number;
  readonly isSigned?: boolean;
  readonly precision?: number;
  readonly scale?: number;
  readonly children?: readonly {
    readonly name: string;
    readonly type: ArrowTypeLike;
    readonly nullable?: boolean;
  }[];
  toString(): string;
}

/** The Spark type of an Arrow type; refuses the ones Spark has no type for. */
function sparkType(t: ArrowTypeLike): DataType {
  switch (t.typeId) {
    case T.Null:
      return new NullType();
    case T.Int: {
      const bits = t.bitWidth ?? 32;
      const signed = t.isSigned !== false;
      if (bits === 8) return signed ? new ByteType() : new ShortType();
      if (bits === 16) return signed ? new ShortType() : new IntegerType();
      if (bits === 32) return signed ? new IntegerType() : new LongType();
      return signed ? new LongType() : new DecimalType(20, 0);
    }
    case T.Float:
      // precision: 0 half, 1 single, 2 double
      return t.precision === 2 ? new DoubleType() : new FloatType();
    case T.Utf8:
    case T.LargeUtf8:
      return new StringType();
    case T.Binary:
    case T.LargeBinary:
    case T.FixedSizeBinary:
      return new BinaryType();
    case T.Bool:
      return new BooleanType();
    case T.Decimal:
      return new DecimalType(t.precision ?? 38, t.scale ?? 0);
    case T.Date:
      return new DateType();
    case T.Timestamp:
      return new TimestampType();
    case T.List:
    case T.LargeList:
    case T.FixedSizeList:
      return new ArrayType(sparkType(t.children![0]!.type));
    case T.Struct:
      return new StructType(
        t.children!.map((c) => new StructField(c.name, sparkType(c.type), c.nullable !== false)),
      );
    case T.Map: {
      const entries = t.children![0]!.type.children!;
      return new MapType(sparkType(entries[0]!.type), sparkType(entries[1]!.type));
    }
    default:
      throw new AnalysisException(
        'UNSUPPORTED_ARROWTYPE',
        `[UNSUPPORTED_ARROWTYPE] Unsupported arrow type ${t.toString()}.`,
        { typeName: t.toString() },
      );
  }
}

/** An Arrow value (as `Vector.get` gives it) in this project's representation for Spark type `t`. */
function rowValue(v: unknown, t: DataType): unknown {
  if (v === null || v === undefined) return null;
  if (t instanceof LongType) {
    const b = typeof v === 'bigint' ? v : BigInt(v as number);
    return b <= BigInt(Number.MAX_SAFE_INTEGER) && b >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(b) : b;
  }
  if (t instanceof DecimalType) {
    // Arrow's decimal value (a BigNum over Uint32 words) prints its unscaled digits.
    const digits = typeof v === 'bigint' ? v.toString() : (v as { toString(): string }).toString();
    return Number(digits) / 10 ** t.scale;
  }
  if (t instanceof DateType || t instanceof TimestampType)
    return v instanceof Date ? v : new Date(typeof v === 'bigint' ? Number(v) : (v as number));
  if (t instanceof ArrayType) return [...(v as Iterable<unknown>)].map((x) => rowValue(x, t.elementType));
  if (t instanceof StructType) {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(t.fields.map((f) => [f.name, rowValue(o[f.name], f.dataType)]));
  }
  if (t instanceof MapType)
    return new Map(
      [...(v as Iterable<[unknown, unknown]>)].map(([k, x]) => [
        rowValue(k, t.keyType),
        rowValue(x, t.valueType),
      ]),
    );
  if (t instanceof BinaryType) return v instanceof Uint8Array ? v : new Uint8Array(v as ArrayBuffer);
  if (t instanceof ByteType || t instanceof ShortType || t instanceof IntegerType)
    return typeof v === 'bigint' ? Number(v) : v;
  return v;
}

/** The rows (arrays in column order) and Spark schema of an Arrow Table. */
export function fromArrow(table: ArrowTableLike): { rows: unknown[][]; schema: StructType } {
  const fields = table.schema.fields as unknown as ReadonlyArray<{
    name: string;
    type: ArrowTypeLike;
    nullable?: boolean;
  }>;
  const types = fields.map((f) => sparkType(f.type));
  const schema = new StructType(
    fields.map((f, i) => new StructField(f.name, types[i]!, f.nullable !== false)),
  );
  const columns = fields.map((_, i) => table.getChildAt(i)!);
  const rows: unknown[][] = [];
  for (let r = 0; r < table.numRows; r++) rows.push(columns.map((c, i) => rowValue(c.get(r), types[i]!)));
  return { rows, schema };
}
