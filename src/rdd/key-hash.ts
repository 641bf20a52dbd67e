/**
 * Stable hashing of keys by value, for partitioners. The same key hashes the same in every
 * process and on every machine: strings by their UTF-16 code units, numbers by value (an integer
 * and the same float are one key), arrays and plain objects by their contents. Never object
 * identity or process-local state.
 */

const M = 0x5bd1e995;

function mix(h: number, k: number): number {
  k = Math.imul(k, M);
  k ^= k >>> 24;
  k = Math.imul(k, M);
  return Math.imul(h, M) ^ k;
}

function finish(h: number): number {
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Hash of a string's UTF-16 code units (MurmurHash2 style), as a signed 32-bit integer. */
export function hashString(s: string): number {
  let h = 0x9747b28c ^ s.length;
  const n = s.length;
  let i = 0;
  for (; i + 1 < n; i += 2) h = mix(h, s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16));
  if (i < n) h = mix(h, s.charCodeAt(i));
  return finish(h);
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/** Hash of a number by value: integers by their value, other numbers by their float64 bits. */
export function hashNumber(x: number): number {
  if (Number.isInteger(x) && x >= -2147483648 && x <= 2147483647) return finish(mix(0x2f1b3c4d, x | 0));
  if (x === 0) return hashNumber(0); // -0 is 0
  if (x !== x) return 0x7ff80000; // every NaN is one key
  f64[0] = x;
  return finish(mix(mix(0x2f1b3c4d, u32[0]!), u32[1]!));
}

/** Hash of any key value (see module doc), as a signed 32-bit integer. */
export function hashKey(k: unknown): number {
  switch (typeof k) {
    case 'string':
      return hashString(k);
    case 'number':
      return hashNumber(k);
    case 'boolean':
      return k ? 0x1231 : 0x1237;
    case 'undefined':
      return 0x1a2b;
    case 'bigint':
      return k >= -(2n ** 53n) && k <= 2n ** 53n ? hashNumber(Number(k)) : hashString(k.toString());
    case 'object': {
      if (k === null) return 0;
      if (Array.isArray(k)) {
        let h = 0x345678 ^ k.length;
        for (let i = 0; i < k.length; i++) h = mix(h, hashKey(k[i]));
        return finish(h);
      }
      if (k instanceof Date) return hashNumber(k.getTime()) ^ 0x5d;
      if (k instanceof Uint8Array) {
        let h = 0x6b43a9b5 ^ k.length;
        for (let i = 0; i < k.length; i++) h = mix(h, k[i]!);
        return finish(h);
      }
      const keys = Object.keys(k).sort();
      let h = 0x27d4eb2d ^ keys.length;
      for (const key of keys) h = mix(mix(h, hashString(key)), hashKey((k as Record<string, unknown>)[key]));
      return finish(h);
    }
    default:
      throw new TypeError(`cannot hash a ${typeof k} key`);
  }
}

/** The partition of a key under hash partitioning into `n` partitions: in [0, n). */
export function hashPartition(k: unknown, n: number): number {
  const h = hashKey(k) % n;
  return h < 0 ? h + n : h;
}
