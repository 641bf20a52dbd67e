/**
 * The byte form of a shuffle bucket (what one map task writes for one reduce partition).
 *
 * Records whose parts are all numbers, or arrays of the same length (at most 8) of numbers, are
 * written as one typed array of their numbers, record after record (Int32 while every number is a
 * 32-bit integer, else Float64, which keeps every number exactly, -0 and NaN included): no msgpack
 * and no object per record on either side. Anything else (strings, objects, mixed shapes) is a
 * msgpack array of the record parts, `[k, v, k, v, …]` for pairs or `[x, x, …]` for elements,
 * and a writer that meets such a record turns what it has into that form.
 *
 * Typed layout: byte 0 is 0xc1 (a byte msgpack never starts a value with), byte 1 the version
 * (1), byte 2 the number type (1 Int32, 2 Float64), byte 3 the number of parts (1 or 2), bytes 4–5
 * the width of each part (0: a number, w: an array of w numbers), bytes 8–11 the record count
 * (uint32, little-endian), the numbers from byte 16, little-endian. A bucket without records is
 * zero bytes.
 */
import { decode, encode } from '../protocol/codec.js';

const MAGIC = 0xc1;
const HEADER = 16;
const INT32 = 1;
const FLOAT64 = 2;
/** Widest array part written as numbers. */
const MAX_WIDTH = 8;

/** The width of a part: 0 for a number, w for an array of w numbers, -1 for anything else. */
function widthOf(x: unknown): number {
  if (typeof x === 'number') return 0;
  if (!Array.isArray(x) || x.length === 0 || x.length > MAX_WIDTH) return -1;
  for (let i = 0; i < x.length; i++) if (typeof x[i] !== 'number') return -1;
  return x.length;
}

function isInt32(x: number): boolean {
  return (x | 0) === x && (x !== 0 || 1 / x > 0);
}

/**
 * Accumulates the records of one bucket: pairs (`addPair`) or elements (`addElement`), never
 * both; `finish` returns the bytes.
 */
export class BucketWriter {
  private widths: number[] | undefined;
  private ints: Int32Array | undefined = new Int32Array(0);
  private floats: Float64Array | undefined;
  private len = 0;
  private generic: unknown[] | undefined;
  private count = 0;

  /** @param parts 2 for `[k, v]` pairs, 1 for elements. */
  constructor(private readonly parts: 1 | 2) {}

  /** Adds one pair (parts = 2). */
  addPair(k: unknown, v: unknown): void {
    this.count++;
    if (this.generic) {
      this.generic.push(k, v);
      return;
    }
    const w = this.widths ?? this.shape(k, v);
    const start = this.len;
    if (w && this.put(k, w[0]!) && this.put(v, w[1]!)) return;
    this.len = start;
    this.toGeneric().push(k, v);
  }

  /** Adds one element (parts = 1). */
  addElement(x: unknown): void {
    this.count++;
    if (this.generic) {
      this.generic.push(x);
      return;
    }
    const w = this.widths ?? this.shape(x);
    const start = this.len;
    if (w && this.put(x, w[0]!)) return;
    this.len = start;
    this.toGeneric().push(x);
  }

  /** The bucket's bytes; none for a bucket without records (an empty range of its map output). */
  finish(): Uint8Array {
    if (this.count === 0) return new Uint8Array(0);
    if (this.generic || !this.widths) return encode(this.generic ?? []);
    const floats = this.floats !== undefined;
    const size = floats ? 8 : 4;
    const out = new Uint8Array(HEADER + this.len * size);
    out[0] = MAGIC;
    out[1] = 1;
    out[2] = floats ? FLOAT64 : INT32;
    out[3] = this.parts;
    out[4] = this.widths[0]!;
    out[5] = this.widths[1] ?? 0;
    new DataView(out.buffer).setUint32(8, this.count, true);
    const src = floats ? this.floats! : this.ints!;
    out.set(new Uint8Array(src.buffer, 0, this.len * size), HEADER);
    return out;
  }

  private shape(...xs: unknown[]): number[] | undefined {
    const w = xs.map(widthOf);
    if (w.some((x) => x < 0)) return undefined;
    this.widths = w;
    return w;
  }

  /** Writes one part of width `w`; false (nothing usable written) if it does not have that shape. */
  private put(x: unknown, w: number): boolean {
    if (w === 0) {
      if (typeof x !== 'number') return false;
      this.num(x);
      return true;
    }
    if (!Array.isArray(x) || x.length !== w) return false;
    for (let i = 0; i < w; i++) {
      const y: unknown = x[i];
      if (typeof y !== 'number') return false;
      this.num(y);
    }
    return true;
  }

  private num(x: number): void {
    const ints = this.ints;
    if (ints !== undefined) {
      if (isInt32(x)) {
        if (this.len === ints.length) this.grow();
        this.ints![this.len++] = x;
        return;
      }
      this.floats = Float64Array.from(ints.subarray(0, this.len));
      this.ints = undefined;
    }
    if (this.len >= this.floats!.length) this.grow();
    this.floats![this.len++] = x;
  }

  private grow(): void {
    if (this.ints) {
      const next = new Int32Array(Math.max(64, this.ints.length * 2));
      next.set(this.ints);
      this.ints = next;
    } else {
      const next = new Float64Array(Math.max(64, this.floats!.length * 2));
      next.set(this.floats!.subarray(0, this.len));
      this.floats = next;
    }
  }

  /** Turns the typed records written so far into the generic form. */
  private toGeneric(): unknown[] {
    const flat: unknown[] = [];
    if (this.widths) {
      const data = this.floats ?? this.ints!;
      const w = this.widths;
      let p = 0;
      while (p < this.len) {
        for (const wi of w) {
          flat.push(part(data, p, wi));
          p += wi || 1;
        }
      }
    }
    this.generic = flat;
    this.ints = undefined;
    this.floats = undefined;
    this.len = 0;
    return flat;
  }
}

/** The value of a part of width `w` at offset `p` of `data`. */
function part(data: Int32Array | Float64Array, p: number, w: number): unknown {
  switch (w) {
    case 0:
      return data[p];
    case 1:
      return [data[p]];
    case 2:
      return [data[p], data[p + 1]];
    case 3:
      return [data[p], data[p + 1], data[p + 2]];
    default: {
      const a = new Array<number>(w);
      for (let i = 0; i < w; i++) a[i] = data[p + i]!;
      return a;
    }
  }
}

/** A decoded typed bucket: `n` records of `widths` parts, their numbers in `data`. */
export interface TypedBucket {
  readonly n: number;
  readonly widths: readonly number[];
  readonly data: Int32Array | Float64Array;
}

/** The typed form of a bucket, or undefined for a msgpack bucket. */
export function typedBucket(b: Uint8Array): TypedBucket | undefined {
  if (b.byteLength < HEADER || b[0] !== MAGIC) return undefined;
  if (b[1] !== 1) throw new Error(`unknown shuffle bucket version ${b[1]}`);
  const floats = b[2] === FLOAT64;
  const parts = b[3]!;
  const widths = parts === 2 ? [b[4]!, b[5]!] : [b[4]!];
  const n = new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(8, true);
  const size = floats ? 8 : 4;
  const count = (b.byteLength - HEADER) / size;
  let off = b.byteOffset + HEADER;
  let buf = b.buffer;
  if (off % size !== 0) {
    // Not aligned for a typed view (a slice of a larger buffer): copy.
    const copy = b.slice(HEADER);
    buf = copy.buffer;
    off = 0;
  }
  const data = floats ? new Float64Array(buf, off, count) : new Int32Array(buf, off, count);
  return { n, widths, data };
}

/** Calls `each` with every pair of a pairs bucket, in order. */
export function forEachPair(b: Uint8Array, each: (k: unknown, v: unknown) => void): void {
  if (b.byteLength === 0) return;
  const t = typedBucket(b);
  if (!t) {
    const flat = decode<unknown[]>(b);
    for (let i = 0; i < flat.length; i += 2) each(flat[i], flat[i + 1]);
    return;
  }
  const { data, widths } = t;
  const kw = widths[0]!;
  const vw = widths[1]!;
  const ks = kw || 1;
  const step = ks + (vw || 1);
  const end = t.n * step;
  for (let p = 0; p < end; p += step) each(part(data, p, kw), part(data, p + ks, vw));
}

/** Calls `each` with every element of an elements bucket, in order. */
export function forEachElement(b: Uint8Array, each: (x: unknown) => void): void {
  if (b.byteLength === 0) return;
  const t = typedBucket(b);
  if (!t) {
    const flat = decode<unknown[]>(b);
    for (let i = 0; i < flat.length; i++) each(flat[i]);
    return;
  }
  const { data } = t;
  const w = t.widths[0]!;
  const step = w || 1;
  const end = t.n * step;
  for (let p = 0; p < end; p += step) each(part(data, p, w));
}
