/**
 * Spark functions DuckDB has no equivalent of, as JavaScript scalar functions registered once per
 * DuckDB instance (in process and on every worker): Spark's Murmur3 `hash` and `xxhash64` (seed
 * 42, Spark's per-type hashing), `crc32`, `sha2` (224/256/384/512 bits) and `split` with a limit
 * (Java's String.split). The
 * hashing is pure (exported for tests); the renderer chains one call per argument, each taking
 * the previous result as its seed, as Spark's HashExpression does; a NULL argument leaves it.
 */
import { createHash } from 'node:crypto';
import {
  BIGINT,
  BLOB,
  DOUBLE,
  DuckDBScalarFunction,
  FLOAT,
  INTEGER,
  JSDuckDBValueConverter,
  JSToDuckDBValueConverter,
  LIST,
  VARCHAR,
  type DuckDBConnection,
  type DuckDBType,
  type JS,
} from '@duckdb/node-api';

// ------------------------------------------------------------------ Murmur3 x86_32 (Spark's)

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function mixK1(k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, C2);
}

function mixH1(h: number, k: number): number {
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function fmix32(h: number, length: number): number {
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** Spark's `Murmur3_x86_32.hashInt`. */
export function murmur3Int(v: number, seed: number): number {
  return fmix32(mixH1(seed, mixK1(v | 0)), 4);
}

/** Spark's `Murmur3_x86_32.hashLong` (the low word first). */
export function murmur3Long(v: bigint, seed: number): number {
  const u = BigInt.asUintN(64, v);
  const low = Number(u & 0xffffffffn) | 0;
  const high = Number(u >> 32n) | 0;
  return fmix32(mixH1(mixH1(seed, mixK1(low)), mixK1(high)), 8);
}

/**
 * Spark's `Murmur3_x86_32.hashUnsafeBytes`: whole little-endian words, then each remaining byte
 * (signed) mixed as a word of its own (not the reference tail; Spark keeps it for compatibility).
 */
export function murmur3Bytes(b: Uint8Array, seed: number): number {
  const aligned = b.length - (b.length % 4);
  let h = seed;
  for (let i = 0; i < aligned; i += 4) {
    const w = b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
    h = mixH1(h, mixK1(w));
  }
  for (let i = aligned; i < b.length; i++) h = mixH1(h, mixK1((b[i]! << 24) >> 24));
  return fmix32(h, b.length);
}

// ------------------------------------------------------------------ XXH64 (Spark's XXH64)

const M64 = (1n << 64n) - 1n;
const P1 = 0x9e3779b185ebca87n;
const P2 = 0xc2b2ae3d27d4eb4fn;
const P3 = 0x165667b19e3779f9n;
const P4 = 0x85ebca77c2b2ae63n;
const P5 = 0x27d4eb2f165667c5n;

const rotl64 = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & M64;
const mul64 = (a: bigint, b: bigint): bigint => (a * b) & M64;

function fmix64(h: bigint): bigint {
  h ^= h >> 33n;
  h = mul64(h, P2);
  h ^= h >> 29n;
  h = mul64(h, P3);
  h ^= h >> 32n;
  return BigInt.asIntN(64, h);
}

/** Spark's `XXH64.hashInt` (the result as a signed 64-bit bigint). */
export function xxhash64Int(v: number, seed: bigint): bigint {
  let h = (BigInt.asUintN(64, seed) + P5 + 4n) & M64;
  h ^= mul64(BigInt(v >>> 0), P1);
  h = (mul64(rotl64(h, 23n), P2) + P3) & M64;
  return fmix64(h);
}

/** Spark's `XXH64.hashLong`. */
export function xxhash64Long(v: bigint, seed: bigint): bigint {
  let h = (BigInt.asUintN(64, seed) + P5 + 8n) & M64;
  h ^= mul64(rotl64(mul64(BigInt.asUintN(64, v), P2), 31n), P1);
  h = (mul64(rotl64(h, 27n), P1) + P4) & M64;
  return fmix64(h);
}

function round64(acc: bigint, input: bigint): bigint {
  acc = (acc + mul64(input, P2)) & M64;
  return mul64(rotl64(acc, 31n), P1);
}

function merge64(acc: bigint, v: bigint): bigint {
  acc ^= round64(0n, v);
  return (mul64(acc, P1) + P4) & M64;
}

/** Spark's `XXH64.hashUnsafeBytes` (the reference XXH64 of the bytes). */
export function xxhash64Bytes(b: Uint8Array, seed: bigint): bigint {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const s = BigInt.asUintN(64, seed);
  const n = b.length;
  let i = 0;
  let h: bigint;
  if (n >= 32) {
    let v1 = (s + P1 + P2) & M64;
    let v2 = (s + P2) & M64;
    let v3 = s;
    let v4 = (s - P1) & M64;
    for (; i + 32 <= n; i += 32) {
      v1 = round64(v1, view.getBigUint64(i, true));
      v2 = round64(v2, view.getBigUint64(i + 8, true));
      v3 = round64(v3, view.getBigUint64(i + 16, true));
      v4 = round64(v4, view.getBigUint64(i + 24, true));
    }
    h = (rotl64(v1, 1n) + rotl64(v2, 7n) + rotl64(v3, 12n) + rotl64(v4, 18n)) & M64;
    h = merge64(merge64(merge64(merge64(h, v1), v2), v3), v4);
  } else h = (s + P5) & M64;
  h = (h + BigInt(n)) & M64;
  for (; i + 8 <= n; i += 8) {
    h ^= round64(0n, view.getBigUint64(i, true));
    h = (mul64(rotl64(h, 27n), P1) + P4) & M64;
  }
  if (i + 4 <= n) {
    h ^= mul64(BigInt(view.getUint32(i, true)), P1);
    h = (mul64(rotl64(h, 23n), P2) + P3) & M64;
    i += 4;
  }
  for (; i < n; i++) {
    h ^= mul64(BigInt(b[i]!), P5);
    h = mul64(rotl64(h, 11n), P1);
  }
  return fmix64(h);
}

// ------------------------------------------------------------------ per-type value bits

const f64 = new Float64Array(1);
const f64bits = new BigInt64Array(f64.buffer);
const f32 = new Float32Array(1);
const f32bits = new Int32Array(f32.buffer);

/** Java's `Double.doubleToLongBits` after Spark's -0.0 → 0.0 (NaN canonical). */
export function doubleBits(d: number): bigint {
  if (Number.isNaN(d)) return 0x7ff8000000000000n;
  f64[0] = d === 0 ? 0 : d;
  return f64bits[0]!;
}

/** Java's `Float.floatToIntBits` after Spark's -0.0f → 0.0f (NaN canonical). */
export function floatBits(f: number): number {
  if (Number.isNaN(f)) return 0x7fc00000;
  f32[0] = f === 0 ? 0 : f;
  return f32bits[0]!;
}

/** Java's `BigInteger.toByteArray` of an integer: minimal big-endian two's complement. */
export function bigIntBytes(v: bigint): Uint8Array {
  const out: number[] = [];
  let x = v;
  for (;;) {
    out.unshift(Number(BigInt.asUintN(8, x)));
    const rest = x >> 8n;
    const sign = (out[0]! & 0x80) !== 0;
    if ((rest === 0n && !sign) || (rest === -1n && sign)) break;
    x = rest;
  }
  return Uint8Array.from(out);
}

const utf8 = new TextEncoder();

// ------------------------------------------------------------------ crc32 and split

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (java.util.zip.CRC32) of the bytes, as an unsigned number. */
export function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const regexCache = new Map<string, RegExp>();

/**
 * Java's `String.split(regex, limit)` as Spark's split calls it: `limit > 0` gives at most `limit`
 * elements, the last keeping the rest; otherwise every element, trailing empty strings kept. A
 * zero-width match at the start gives no leading empty string.
 */
export function javaSplit(s: string, pattern: string, limit: number): string[] {
  if (pattern.length === 0 && s.length > 0) {
    // Spark: an empty pattern splits into characters, no trailing empty string.
    const chars = [...s];
    const n = limit > 0 && limit < chars.length ? limit : chars.length;
    return [...chars.slice(0, n - 1), chars.slice(n - 1).join('')];
  }
  let re = regexCache.get(pattern);
  if (!re) {
    try {
      re = new RegExp(pattern, 'gu');
    } catch {
      re = new RegExp(pattern, 'g');
    }
    if (regexCache.size > 256) regexCache.clear();
    regexCache.set(pattern, re);
  }
  if (s.length === 0) return [''];
  const out: string[] = [];
  let start = 0;
  re.lastIndex = 0;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    if (limit > 0 && out.length === limit - 1) break;
    const end = m.index;
    if (m[0].length === 0) {
      re.lastIndex++;
      if (end === 0) continue;
    }
    out.push(s.slice(start, end));
    start = end + m[0].length;
  }
  out.push(s.slice(start));
  return out;
}

/** The node:crypto algorithm of Spark's `sha2` bit lengths (0 is 256); any other length has none. */
const SHA2: Readonly<Record<number, string>> = {
  0: 'sha256',
  224: 'sha224',
  256: 'sha256',
  384: 'sha384',
  512: 'sha512',
};

/** Spark's `sha2(bytes, bitLength)`: the digest as lowercase hex, or null for an unsupported length. */
export function sha2Hex(b: Uint8Array, bits: number): string | null {
  const alg = SHA2[bits];
  return alg === undefined ? null : createHash(alg).update(b).digest('hex');
}

// ------------------------------------------------------------------ registration

type Impl = (args: readonly unknown[]) => unknown;

interface Builtin {
  readonly name: string;
  readonly params: readonly DuckDBType[];
  readonly returns: DuckDBType;
  /** Nulls reach `impl` (the hash functions return the seed for a NULL value). */
  readonly nulls: boolean;
  readonly impl: Impl;
}

const bytesOf = (v: unknown): Uint8Array => (typeof v === 'string' ? utf8.encode(v) : (v as Uint8Array));

/** A Murmur3 and an XXH64 step for one value kind: `ms_<fn>_<kind>(value, seed)`. */
function hashPair(
  kind: string,
  param: DuckDBType,
  mm: (v: unknown, seed: number) => number,
  xx: (v: unknown, seed: bigint) => bigint,
): Builtin[] {
  return [
    {
      name: `ms_murmur3_${kind}`,
      params: [param, INTEGER],
      returns: INTEGER,
      nulls: true,
      impl: ([v, s]) => (v === null ? s : mm(v, s as number)),
    },
    {
      name: `ms_xxhash64_${kind}`,
      params: [param, BIGINT],
      returns: BIGINT,
      nulls: true,
      impl: ([v, s]) => (v === null ? s : xx(v, s as bigint)),
    },
  ];
}

const BUILTINS: readonly Builtin[] = [
  ...hashPair(
    'int',
    INTEGER,
    (v, s) => murmur3Int(v as number, s),
    (v, s) => xxhash64Int(v as number, s),
  ),
  ...hashPair(
    'long',
    BIGINT,
    (v, s) => murmur3Long(BigInt(v as bigint), s),
    (v, s) => xxhash64Long(BigInt(v as bigint), s),
  ),
  ...hashPair(
    'double',
    DOUBLE,
    (v, s) => murmur3Long(doubleBits(v as number), s),
    (v, s) => xxhash64Long(doubleBits(v as number), s),
  ),
  ...hashPair(
    'float',
    FLOAT,
    (v, s) => murmur3Int(floatBits(v as number), s),
    (v, s) => xxhash64Int(floatBits(v as number), s),
  ),
  ...hashPair(
    'string',
    VARCHAR,
    (v, s) => murmur3Bytes(bytesOf(v), s),
    (v, s) => xxhash64Bytes(bytesOf(v), s),
  ),
  ...hashPair(
    'binary',
    BLOB,
    (v, s) => murmur3Bytes(bytesOf(v), s),
    (v, s) => xxhash64Bytes(bytesOf(v), s),
  ),
  // A decimal wider than 18 digits: the unscaled value's text, hashed as BigInteger bytes.
  ...hashPair(
    'bigdecimal',
    VARCHAR,
    (v, s) => murmur3Bytes(bigIntBytes(BigInt(v as string)), s),
    (v, s) => xxhash64Bytes(bigIntBytes(BigInt(v as string)), s),
  ),
  {
    name: 'ms_crc32',
    params: [BLOB],
    returns: BIGINT,
    nulls: false,
    impl: ([v]) => BigInt(crc32(bytesOf(v))),
  },
  {
    name: 'ms_sha2',
    params: [BLOB, INTEGER],
    returns: VARCHAR,
    nulls: false,
    impl: ([v, bits]) => sha2Hex(bytesOf(v), bits as number),
  },
  {
    name: 'ms_split',
    params: [VARCHAR, VARCHAR, INTEGER],
    returns: LIST(VARCHAR),
    nulls: false,
    impl: ([s, p, l]) => javaSplit(s as string, p as string, l as number),
  },
];

const done = new WeakSet<object>();

/** Registers the built-ins with the instance of `conn` (once; the catalog is per instance). */
export function registerBuiltins(conn: DuckDBConnection, instance: object): void {
  if (done.has(instance)) return;
  for (const b of BUILTINS) {
    const fn = DuckDBScalarFunction.create({
      name: b.name,
      returnType: b.returns,
      parameterTypes: b.params,
      specialHandling: b.nulls,
      mainFunction: (info, input, output) => {
        try {
          const n = input.rowCount;
          const cols = input.convertColumns(JSDuckDBValueConverter);
          const outType = output.type;
          const a = new Array<unknown>(cols.length);
          for (let r = 0; r < n; r++) {
            for (let c = 0; c < cols.length; c++) a[c] = cols[c]![r] ?? null;
            const v = b.impl(a);
            output.setItem(
              r,
              v === null ? null : JSToDuckDBValueConverter(v as JS, outType, JSToDuckDBValueConverter),
            );
          }
          output.flush();
        } catch (e) {
          info.setError(`${b.name}: ${(e as Error)?.message ?? String(e)}`);
        }
      },
    });
    conn.registerScalarFunction(fn);
  }
  done.add(instance);
}
