/**
 * RisingWave's arrow-udf ABI (version 3), as its runtime (arrow-udf-runtime's wasm module) reads
 * a module: an export `ARROWUDF_VERSION_<major>_<minor>` marks the ABI; each scalar function is an
 * export `arrowudf_<signature in base64>` (alphabet `A–Z a–z 0–9 $ _`, no padding) of type
 * `(ptr, len, out) -> errno`; `alloc(len, align)` and `dealloc(ptr, len, align)` manage memory.
 * Signatures read `name(arg,…)->ret` (`->>` for table functions) with the type names of the
 * arrow-udf macros (`int32`, `float64`, `string`, …). This module decodes them and maps the Spark
 * types MicroSpark supports to those names.
 */
import {
  BinaryType,
  BooleanType,
  ByteType,
  DataType,
  DoubleType,
  FloatType,
  IntegerType,
  LongType,
  ShortType,
  StringType,
} from '../sql/types.js';

/** The export marking arrow-udf's ABI version. */
export const ARROW_UDF_VERSION_PREFIX = 'ARROWUDF_VERSION_';
/** The prefix of a function export. */
export const ARROW_UDF_PREFIX = 'arrowudf_';
/** The newest ABI major version this engine reads (as arrow-udf-runtime: up to 3). */
export const ARROW_UDF_MAX_MAJOR = 3;

/** One function of an arrow-udf module. */
export interface ArrowUdfSignature {
  /** The export's name (`arrowudf_…`). */
  readonly export: string;
  /** The decoded signature (`gcd(int32,int32)->int32`). */
  readonly signature: string;
  readonly name: string;
  /** The argument type names. */
  readonly args: readonly string[];
  /** The return type name. */
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
];

/** arrow-udf's name of a Spark type F.wasmUdf can pass (undefined for the others). */
export function arrowUdfTypeName(t: DataType): string | undefined {
  return TYPES.find(([, c]) => t instanceof c)?.[0];
}

/** The Spark type of an arrow-udf type name F.wasmUdf can pass (undefined for the others). */
export function sparkTypeOfArrowUdf(name: string): DataType | undefined {
  const c = TYPES.find(([n]) => n === name)?.[1];
  return c ? new c() : undefined;
}

/** The arrow-udf type names F.wasmUdf supports, for messages. */
export const ARROW_UDF_TYPES: readonly string[] = TYPES.map(([n]) => n);
