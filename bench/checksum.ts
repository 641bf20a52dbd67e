/**
 * Answer checks shared by the MicroSpark workloads and the plain scripts: an order-independent
 * digest of a key → value result, and an order-sensitive checksum of a sorted pair sequence that
 * can be computed per partition and combined.
 */
import { createHash } from 'node:crypto';

/** SHA-256 over the entries sorted by key (numbers numerically, strings by code unit), and their count. */
export function digestEntries(entries: Iterable<readonly [string | number, number]>): {
  digest: string;
  count: number;
} {
  const list = [...entries];
  list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const hash = createHash('sha256');
  let chunk = '';
  for (const [k, v] of list) {
    chunk += `${k}\t${v}\n`;
    if (chunk.length > 1 << 16) {
      hash.update(chunk);
      chunk = '';
    }
  }
  hash.update(chunk);
  return { digest: hash.digest('hex'), count: list.length };
}

/**
 * Checksum of one run of integer pairs, in order: [count, Σ h(p_j), Σ (j+1)·h(p_j)] mod 2^32.
 * Self-contained, so it can be shipped to workers inside `env`.
 */
export function partChecksum(pairs: Iterable<readonly [number, number]>): [number, number, number] {
  let count = 0;
  let s0 = 0;
  let s1 = 0;
  for (const [k, v] of pairs) {
    let h = Math.imul(k ^ 0x5bd1e995, 0x9e3779b1) ^ Math.imul(v + 0x27d4eb2f, 0x85ebca6b);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
    count++;
    s0 = (s0 + h) >>> 0;
    s1 = (s1 + Math.imul(count, h)) >>> 0;
  }
  return [count, s0, s1];
}

/** Combines per-partition checksums (in partition order) into the checksum of the whole sequence. */
export function combineChecksums(parts: ReadonlyArray<readonly [number, number, number]>): string {
  let offset = 0;
  let total = 0;
  for (const [count, s0, s1] of parts) {
    total = (total + s1 + Math.imul(offset, s0)) >>> 0;
    offset += count;
  }
  return `${offset}:${total.toString(16)}`;
}
