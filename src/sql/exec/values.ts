/**
 * Values between DuckDB and this project's JavaScript representation, directed by Spark types:
 * long as a number (a bigint beyond 2^53), decimal as a number, date and timestamp as a Date,
 * array as an array, struct as an object, map as a Map. Also a type's DDL form, so types can
 * travel inside tasks (plain data) and be parsed back on the worker.
 */
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
  ShortType,
  StringType,
  StructType,
  TimestampType,
} from '../types.js';

/** The DDL form of a type that {@link parseDataType} reads back exactly (struct field names quoted). */
export function typeDdl(t: DataType): string {
  if (t instanceof ArrayType) return `array<${typeDdl(t.elementType)}>`;
  if (t instanceof MapType) return `map<${typeDdl(t.keyType)},${typeDdl(t.valueType)}>`;
  if (t instanceof StructType)
    return `struct<${t.fields.map((f) => `\`${f.name.replace(/`/g, '``')}\`:${typeDdl(f.dataType)}`).join(',')}>`;
  return t.simpleString();
}

function safeNumber(v: bigint): number | bigint {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
}

/**
 * A value as DuckDB's JS converter gives it (`JSDuckDBValueConverter`: BIGINT as bigint, MAP as
 * `{key, value}` entries) turned into this project's representation for Spark type `t`.
 */
export function fromDuck(v: unknown, t: DataType): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return safeNumber(v);
  if (t instanceof ArrayType) return Array.isArray(v) ? v.map((x) => fromDuck(x, t.elementType)) : v;
  if (t instanceof MapType) {
    const entries = Array.isArray(v) ? v : ((v as { entries?: unknown[] }).entries ?? []);
    return new Map(
      (entries as Array<{ key: unknown; value: unknown }>).map((e) => [
        fromDuck(e.key, t.keyType),
        fromDuck(e.value, t.valueType),
      ]),
    );
  }
  if (t instanceof StructType && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const f of t.fields) out[f.name] = fromDuck(o[f.name], f.dataType);
    return out;
  }
  return v;
}

const INT_RANGE = new Map<new () => DataType, readonly [number, number]>([
  [IntegerType, [-(2 ** 31), 2 ** 31 - 1]],
  [ShortType, [-(2 ** 15), 2 ** 15 - 1]],
  [ByteType, [-128, 127]],
]);

/**
 * A JavaScript value as the input of DuckDB's `JSToDuckDBValueConverter` for Spark type `t`, or
 * null when it does not fit the type, as PySpark turns a UDF result of the wrong type into NULL
 * (a string column takes the text of a number or boolean; a long an integral number or bigint).
 */
export function toDuck(v: unknown, t: DataType): unknown {
  if (v === null || v === undefined) return null;
  if (t instanceof StringType)
    return typeof v === 'string'
      ? v
      : typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean'
        ? String(v)
        : null;
  if (t instanceof BooleanType) return typeof v === 'boolean' ? v : null;
  if (t instanceof LongType) {
    if (typeof v === 'bigint') return v >= -(2n ** 63n) && v < 2n ** 63n ? v : null;
    return typeof v === 'number' && Number.isInteger(v) ? v : null;
  }
  const range = INT_RANGE.get(t.constructor as new () => DataType);
  if (range) {
    const n = typeof v === 'bigint' ? Number(v) : v;
    return typeof n === 'number' && Number.isInteger(n) && n >= range[0] && n <= range[1] ? n : null;
  }
  if (t instanceof DoubleType || t instanceof FloatType || t instanceof DecimalType) {
    const n = typeof v === 'bigint' ? Number(v) : v;
    if (typeof n !== 'number') return null;
    return t instanceof DecimalType && !Number.isFinite(n) ? null : n;
  }
  if (t instanceof DateType || t instanceof TimestampType)
    return v instanceof Date && !Number.isNaN(v.getTime()) ? v : null;
  if (t instanceof BinaryType) return v instanceof Uint8Array ? v : null;
  if (t instanceof ArrayType) {
    if (!Array.isArray(v) && !(v instanceof Set)) return null;
    return [...(v as Iterable<unknown>)].map((x) => toDuck(x, t.elementType));
  }
  if (t instanceof MapType) {
    const entries =
      v instanceof Map
        ? [...(v as Map<unknown, unknown>)]
        : typeof v === 'object'
          ? Object.entries(v)
          : undefined;
    if (!entries) return null;
    return entries
      .map(([key, value]) => ({ key: toDuck(key, t.keyType), value: toDuck(value, t.valueType) }))
      .filter((e) => e.key !== null);
  }
  if (t instanceof StructType) {
    if (typeof v !== 'object') return null;
    const arr = Array.isArray(v) ? (v as unknown[]) : undefined;
    const o = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    t.fields.forEach((f, i) => {
      out[f.name] = toDuck(arr ? arr[i] : o[f.name], f.dataType);
    });
    return out;
  }
  return null;
}
