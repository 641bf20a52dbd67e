/**
 * RisingWave's arrow-udf ABI (version 3), as its runtime (arrow-udf-runtime's wasm module) reads
 * a module: an export `ARROWUDF_VERSION_<major>_<minor>` marks the ABI; each scalar function is an
 * export `arrowudf_<signature in base64>` (alphabet `A–Z a–z 0–9 $ _`, no padding) of type
 * `(ptr, len, out) -> errno`; `alloc(len, align)` and `dealloc(ptr, len, align)` manage memory.
 * Signatures read `name(arg,…)->ret` (`->>` for table functions) with the type names of the
 * arrow-udf macros (`int32`, `float64`, `string`, `date32`, `timestamp`, `decimal`, `T[]`,
 * `struct Name`, the last described by an export `arrowudt_<base64 of "Name=field:type,…">`).
 * This module decodes them, maps the Spark types MicroSpark supports to those names, and converts
 * values to and from the Arrow layout arrow-udf uses (Date32 days; Timestamp in microseconds with
 * no time zone; decimals as Utf8 text marked `ARROW:extension:name = arrowudf.decimal`; lists with
 * an `item` child; structs with their fields in order).
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
  ShortType,
  StringType,
  StructField,
  StructType,
  TimestampType,
} from '../sql/types.js';
import { arrowType } from '../sql/arrow.js';

type ArrowModule = typeof import('apache-arrow');
type ArrowField = InstanceType<ArrowModule['Field']>;

/** The export marking arrow-udf's ABI version. */
export const ARROW_UDF_VERSION_PREFIX = 'ARROWUDF_VERSION_';
/** The prefix of a function export. */
export const ARROW_UDF_PREFIX = 'arrowudf_';
/** The prefix of an export describing a struct type (`Name=field:type,…`). */
export const ARROW_UDT_PREFIX = 'arrowudt_';
/** The newest ABI major version this engine reads (as arrow-udf-runtime: up to 3). */
export const ARROW_UDF_MAX_MAJOR = 3;

/** One function of an arrow-udf module. */
export interface ArrowUdfSignature {
  /** The export's name (`arrowudf_…`). */
  readonly export: string;
  /** The decoded signature (`gcd(int32,int32)->int32`). */
  readonly signature: string;
  readonly name: string;
  /** The argument type names (a `struct Name` written out as `struct<field:type,…>`). */
  readonly args: readonly string[];
  /** The return type name (likewise). */
  readonly returns: string;
  /** A table function (`->>`), which F.wasmUdf does not call. */
  readonly table: boolean;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789$_';

/** Decodes arrow-udf's base64 (its alphabet, no padding); undefined if `s` is not in it. */
export function decodeArrowUdfBase64(s: string): string | undefined {
  const bytes: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const c of s) {
    const v = ALPHABET.indexOf(c);
    if (v < 0) return undefined;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((acc >> bits) & 0xff);
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes));
  } catch {
    return undefined;
  }
}

/** Encodes a signature as arrow-udf names its export (`arrowudf_` + base64). */
export function arrowUdfExportName(signature: string): string {
  const b64 = Buffer.from(signature, 'utf8').toString('base64').replace(/=+$/, '');
  return ARROW_UDF_PREFIX + b64.replace(/\+/g, '$').replace(/\//g, '_');
}

/** Splits `a,b<c,d>,e` at top-level commas. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of s) {
    if (c === '<') depth++;
    else if (c === '>') depth--;
    if (c === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (cur.length > 0 || out.length > 0) out.push(cur);
  return out;
}

/** Parses a decoded signature; undefined when it does not read `name(args)->ret`. */
export function parseArrowUdfSignature(exportName: string, signature: string): ArrowUdfSignature | undefined {
  const m = /^([^(]+)\((.*)\)(->>|->)(.+)$/.exec(signature);
  if (!m) return undefined;
  const args = m[2]!.length === 0 ? [] : splitTop(m[2]!);
  return {
    export: exportName,
    signature,
    name: m[1]!,
    args,
    returns: m[4]!,
    table: m[3] === '->>',
  };
}

/** The ABI version `(major, minor)` named by an export, if it is the version marker. */
export function arrowUdfVersion(exportName: string): readonly [number, number] | undefined {
  if (!exportName.startsWith(ARROW_UDF_VERSION_PREFIX)) return undefined;
  const m = /^(\d+)_(\d+)$/.exec(exportName.slice(ARROW_UDF_VERSION_PREFIX.length));
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

const TYPES: ReadonlyArray<readonly [string, new () => DataType]> = [
  ['boolean', BooleanType],
  ['int8', ByteType],
  ['int16', ShortType],
  ['int32', IntegerType],
  ['int64', LongType],
  ['float32', FloatType],
  ['float64', DoubleType],
  ['string', StringType],
  ['binary', BinaryType],
  ['date32', DateType],
  ['timestamp', TimestampType],
];

/** arrow-udf's name of a Spark type F.wasmUdf can pass (undefined for the others). */
export function arrowUdfTypeName(t: DataType): string | undefined {
  if (t instanceof DecimalType) return 'decimal';
  if (t instanceof ArrayType) {
    const e = arrowUdfTypeName(t.elementType);
    return e === undefined ? undefined : `${e}[]`;
  }
  if (t instanceof StructType) {
    const fs = t.fields.map((f) => [f.name, arrowUdfTypeName(f.dataType)] as const);
    if (fs.some(([n, x]) => x === undefined || /[,:<>]/.test(n))) return undefined;
    return `struct<${fs.map(([n, x]) => `${n}:${x}`).join(',')}>`;
  }
  return TYPES.find(([, c]) => t instanceof c)?.[0];
}

/** The Spark type of an arrow-udf type name F.wasmUdf can pass (undefined for the others). */
export function sparkTypeOfArrowUdf(name: string): DataType | undefined {
  if (name === 'decimal') return new DecimalType(38, 18);
  if (name.endsWith('[]')) {
    const e = sparkTypeOfArrowUdf(name.slice(0, -2));
    return e && new ArrayType(e);
  }
  if (name.startsWith('struct<') && name.endsWith('>')) {
    const fields: StructField[] = [];
    for (const f of splitTop(name.slice(7, -1))) {
      const i = f.indexOf(':');
      const t = i > 0 ? sparkTypeOfArrowUdf(f.slice(i + 1).trim()) : undefined;
      if (!t) return undefined;
      fields.push(new StructField(f.slice(0, i).trim(), t));
    }
    return new StructType(fields);
  }
  const c = TYPES.find(([n]) => n === name)?.[1];
  return c ? new c() : undefined;
}

/**
 * A type name with every `struct Name` written out from the module's `arrowudt_` descriptions
 * (`Name` → `field:type,…`); undefined when a struct is not described.
 */
export function inlineArrowUdfType(name: string, structs: ReadonlyMap<string, string>): string | undefined {
  if (name.endsWith('[]')) {
    const e = inlineArrowUdfType(name.slice(0, -2), structs);
    return e === undefined ? undefined : `${e}[]`;
  }
  if (!name.startsWith('struct ')) return name;
  const fields = structs.get(name.slice(7).trim());
  if (fields === undefined) return undefined;
  const out: string[] = [];
  for (const f of splitTop(fields)) {
    const i = f.indexOf(':');
    const t = i > 0 ? inlineArrowUdfType(f.slice(i + 1).trim(), structs) : undefined;
    if (t === undefined) return undefined;
    out.push(`${f.slice(0, i).trim()}:${t}`);
  }
  return `struct<${out.join(',')}>`;
}

/** The arrow-udf type names F.wasmUdf supports, for messages. */
export const ARROW_UDF_TYPES: readonly string[] = [...TYPES.map(([n]) => n), 'decimal', 'T[]', 'struct<…>'];

/** The Arrow field (as arrow-udf lays it out) of a column of Spark type `t` going to a guest. */
export function arrowUdfField(A: ArrowModule, name: string, t: DataType): ArrowField {
  if (t instanceof DecimalType)
    return new A.Field(name, new A.Utf8(), true, new Map([['ARROW:extension:name', 'arrowudf.decimal']]));
  if (t instanceof TimestampType) return new A.Field(name, new A.TimestampMicrosecond(), true);
  if (t instanceof ArrayType)
    return new A.Field(name, new A.List(arrowUdfField(A, 'item', t.elementType)), true);
  if (t instanceof StructType)
    return new A.Field(name, new A.Struct(t.fields.map((f) => arrowUdfField(A, f.name, f.dataType))), true);
  return new A.Field(name, arrowType(A, t), true);
}

/** A value of Spark type `t` (this engine's representation) as the Arrow builder of its field takes it. */
export function toArrowUdfValue(v: unknown, t: DataType): unknown {
  if (v === null || v === undefined) return null;
  if (t instanceof LongType) return typeof v === 'number' ? BigInt(v) : v;
  if (t instanceof DecimalType) return Number(v).toFixed(t.scale);
  if (t instanceof ArrayType) return (v as unknown[]).map((x) => toArrowUdfValue(x, t.elementType));
  if (t instanceof StructType) {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(t.fields.map((f) => [f.name, toArrowUdfValue(o[f.name], f.dataType)]));
  }
  return v;
}

/**
 * A value read from a guest's result column (apache-arrow's `get`) as this engine represents
 * Spark type `t`: dates and timestamps as Date, decimals as numbers, lists as arrays, structs as
 * objects.
 */
export function fromArrowUdfValue(v: unknown, t: DataType): unknown {
  if (v === null || v === undefined) return null;
  if (t instanceof DateType || t instanceof TimestampType)
    return typeof v === 'number' || typeof v === 'bigint' ? new Date(Number(v)) : v;
  if (t instanceof DecimalType) return typeof v === 'string' ? Number(v) : v;
  if (t instanceof ArrayType)
    return [...(v as Iterable<unknown>)].map((x) => fromArrowUdfValue(x, t.elementType));
  if (t instanceof StructType) {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(t.fields.map((f) => [f.name, fromArrowUdfValue(o[f.name], f.dataType)]));
  }
  return v;
}
