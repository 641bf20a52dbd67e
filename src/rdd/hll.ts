/**
 * HyperLogLog for `countApproxDistinct`, as Spark runs it: precision `p` from `relativeSD`
 * (Spark's formula), a stable 64-bit hash of each value (by value, the same in every process),
 * registers merged by maximum across partitions, and the HyperLogLog estimate with its small-range
 * correction (linear counting while the raw estimate is at most 2.5·m). HLL++'s empirical bias
 * tables are not used.
 */
import { InvalidOperationError } from '../protocol/errors.js';
import { canonicalKey } from './key-map.js';

/** The register precision Spark derives from `relativeSD`: ceil(2·log2(1.054 / relativeSD)), at least 4. */
export function precisionFor(relativeSD: number): number {
  if (!(relativeSD > 0.000017))
    throw new InvalidOperationError(`relativeSD should be greater than 0.000017, got ${relativeSD}`);
  const p = Math.ceil((2 * Math.log(1.054 / relativeSD)) / Math.log(2));
  const q = Math.max(4, p);
  if (q > MAX_PRECISION) {
    throw new InvalidOperationError(
      `countApproxDistinct: relativeSD ${relativeSD} needs 2^${q} registers per partition; ` +
        `the smallest supported is ${(1.054 / Math.pow(2, MAX_PRECISION / 2)).toFixed(6)} (2^${MAX_PRECISION} registers)`,
    );
  }
  return q;
}

/** The largest precision accepted (16 MiB of registers per partition). */
export const MAX_PRECISION = 24;

function murmur3(s: string, seed: number): number {
  let h = seed | 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    let k = Math.imul(s.charCodeAt(i), 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= n;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A stable 64-bit hash of a value by content, as two unsigned 32-bit halves [high, low]. */
export function hash64(v: unknown): [number, number] {
  const s = canonicalKey(v);
  return [murmur3(s, 0x2545f491), murmur3(s, 0x9e3779b9)];
}

/** HyperLogLog registers of precision `p`. */
export class HyperLogLog {
  readonly registers: Uint8Array;
  constructor(
    readonly p: number,
    registers?: Uint8Array,
  ) {
    this.registers = registers ?? new Uint8Array(1 << p);
  }

  /** Adds a value. */
  offer(v: unknown): void {
    const [hi, lo] = hash64(v);
    const p = this.p;
    const idx = hi >>> (32 - p);
    const w = (hi << p) >>> 0;
    const rank = w !== 0 ? Math.clz32(w) + 1 : 32 - p + Math.clz32(lo) + 1;
    if (rank > this.registers[idx]!) this.registers[idx] = rank;
  }

  /** Merges another sketch of the same precision into this one (register-wise maximum). */
  merge(other: Uint8Array): void {
    const r = this.registers;
    for (let i = 0; i < r.length; i++) if (other[i]! > r[i]!) r[i] = other[i]!;
  }

  /** The estimated number of distinct values. */
  cardinality(): number {
    const m = this.registers.length;
    let sum = 0;
    let zeros = 0;
    for (let i = 0; i < m; i++) {
      const r = this.registers[i]!;
      sum += Math.pow(2, -r);
      if (r === 0) zeros++;
    }
    const alpha = m === 16 ? 0.673 : m === 32 ? 0.697 : m === 64 ? 0.709 : 0.7213 / (1 + 1.079 / m);
    const raw = (alpha * m * m) / sum;
    if (zeros > 0 && raw <= 2.5 * m) return Math.round(m * Math.log(m / zeros));
    return Math.round(raw);
  }
}
