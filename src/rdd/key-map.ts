/**
 * A map keyed by value: two `['a', 1]` arrays are the same key. Strings, numbers, booleans,
 * null and undefined use a native `Map` directly (fast path, no allocation); arrays, objects,
 * dates and binary keys go through a canonical string. Insertion order is kept.
 */
import { compareStrings } from './ordering.js';

/** A canonical string for a compound key; equal values give equal strings. */
export function canonicalKey(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return v === 0 ? '0' : String(v);
    case 'bigint':
      return `${v}n`;
    case 'boolean':
    case 'undefined':
      return String(v);
    case 'object': {
      if (v === null) return 'null';
      if (Array.isArray(v)) {
        let s = '[';
        for (let i = 0; i < v.length; i++) s += (i ? ',' : '') + canonicalKey(v[i]);
        return s + ']';
      }
      if (v instanceof Date) return `D${v.getTime()}`;
      if (v instanceof Uint8Array)
        return `B${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')}`;
      if (v instanceof Set) return `S${canonicalKey([...v].map(canonicalKey).sort(compareStrings))}`;
      const keys = Object.keys(v).sort(compareStrings);
      let s = '{';
      for (let i = 0; i < keys.length; i++)
        s +=
          (i ? ',' : '') +
          JSON.stringify(keys[i]) +
          ':' +
          canonicalKey((v as Record<string, unknown>)[keys[i]!]);
      return s + '}';
    }
    default:
      throw new TypeError(`a ${typeof v} cannot be a key`);
  }
}

function isCompound(k: unknown): k is object {
  return typeof k === 'object' && k !== null;
}

/** Map from keys (by value) to values. `forEach` visits entries in first-insertion order. */
export class KeyMap<V> {
  private readonly prim = new Map<unknown, V>();
  private compound: Map<string, { key: unknown; value: V }> | undefined;

  get size(): number {
    return this.prim.size + (this.compound?.size ?? 0);
  }

  get(k: unknown): V | undefined {
    if (!isCompound(k)) return this.prim.get(k);
    return this.compound?.get(canonicalKey(k))?.value;
  }

  has(k: unknown): boolean {
    if (!isCompound(k)) return this.prim.has(k);
    return this.compound?.has(canonicalKey(k)) ?? false;
  }

  set(k: unknown, v: V): void {
    if (!isCompound(k)) {
      this.prim.set(k, v);
      return;
    }
    const c = (this.compound ??= new Map());
    const ck = canonicalKey(k);
    const e = c.get(ck);
    if (e) e.value = v;
    else c.set(ck, { key: k, value: v });
  }

  /** Visits every entry: primitive keys first, then compound keys, each in insertion order. */
  forEach(fn: (value: V, key: unknown) => void): void {
    this.prim.forEach(fn);
    this.compound?.forEach((e) => fn(e.value, e.key));
  }
}

/**
 * The combiners of a combine by key (reduceByKey, combineByKey, aggregateByKey), one per key (by
 * value, as {@link KeyMap}): `add` makes a key's first value its combiner with `first` and merges
 * later ones into it with `merge`. A primitive key maps in a native Map to its combiner's index
 * in an array, so a record whose key was seen before costs one hash lookup (a Map of combiners
 * would need a get and a set) and no object per key. `forEach` visits primitive keys first, then
 * compound keys, each in first-insertion order.
 */
export class Combiners {
  private readonly index = new Map<unknown, number>();
  private readonly values: unknown[] = [];
  private readonly compound = new KeyMap<unknown>();

  constructor(
    private readonly first: (v: unknown) => unknown,
    private readonly merge: (c: unknown, v: unknown) => unknown,
  ) {}

  /** Keys so far. */
  get size(): number {
    return this.index.size + this.compound.size;
  }

  /** Adds value `v` of key `k`. */
  add(k: unknown, v: unknown): void {
    if (typeof k !== 'object' || k === null) {
      const i = this.index.get(k);
      if (i !== undefined) this.values[i] = this.merge(this.values[i], v);
      else {
        this.index.set(k, this.values.length);
        this.values.push(this.first(v));
      }
      return;
    }
    const c = this.compound;
    const cur = c.get(k);
    c.set(k, cur !== undefined || c.has(k) ? this.merge(cur, v) : this.first(v));
  }

  /** Visits every key with its combiner (see the class doc for the order). */
  forEach(fn: (combiner: unknown, key: unknown) => void): void {
    const values = this.values;
    this.index.forEach((i, k) => fn(values[i], k));
    this.compound.forEach(fn);
  }
}
