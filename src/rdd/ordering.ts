/**
 * The engine's total order on values, used by sorts, `top`, `takeOrdered`, `max`, `min` and range
 * partitioning: numbers numerically, strings by code point, arrays element by element (Python's
 * tuple order), booleans false < true. Values of different kinds order by kind:
 * undefined < null < boolean < number/bigint < Date < string < binary < array < object.
 */

function rank(v: unknown): number {
  switch (typeof v) {
    case 'undefined':
      return 0;
    case 'boolean':
      return 2;
    case 'number':
    case 'bigint':
      return 3;
    case 'string':
      return 5;
    case 'object':
      if (v === null) return 1;
      if (Array.isArray(v)) return 7;
      if (v instanceof Date) return 4;
      if (v instanceof Uint8Array) return 6;
      return 8;
    default:
      return 9;
  }
}

/** Compares strings by Unicode code point (JavaScript's `<` compares UTF-16 code units). */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x !== y) {
      // Surrogates (D800–DFFF) encode code points above FFFF: they sort after E000–FFFF.
      if (x >= 0xd800 && y >= 0xd800) {
        x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
        y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
      }
      return x - y;
    }
  }
  return a.length - b.length;
}

function compareNumbers(a: number | bigint, b: number | bigint): number {
  // NaN sorts after every number, as in Spark's ordering of doubles.
  if (a !== a) return b !== b ? 0 : 1;
  if (b !== b) return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Total order on values (see module doc). Returns a negative, zero or positive number. */
export function compare(a: unknown, b: unknown): number {
  const ta = typeof a;
  if (ta === typeof b) {
    if (ta === 'number') return compareNumbers(a as number, b as number);
    if (ta === 'string') return compareStrings(a as string, b as string);
  }
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case 2:
      return (a as boolean) === (b as boolean) ? 0 : a ? 1 : -1;
    case 3:
      return compareNumbers(a as number | bigint, b as number | bigint);
    case 4:
      return compareNumbers((a as Date).getTime(), (b as Date).getTime());
    case 6:
      return Buffer.compare(a as Uint8Array, b as Uint8Array);
    case 7: {
      const x = a as unknown[];
      const y = b as unknown[];
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const c = compare(x[i], y[i]);
        if (c !== 0) return c;
      }
      return x.length - y.length;
    }
    case 8: {
      // Plain objects: by sorted entries, so the order is total and independent of key order.
      const ea = Object.keys(a as object).sort(compareStrings);
      const eb = Object.keys(b as object).sort(compareStrings);
      const n = Math.min(ea.length, eb.length);
      for (let i = 0; i < n; i++) {
        const c = compareStrings(ea[i]!, eb[i]!);
        if (c !== 0) return c;
        const v = compare((a as Record<string, unknown>)[ea[i]!], (b as Record<string, unknown>)[eb[i]!]);
        if (v !== 0) return v;
      }
      return ea.length - eb.length;
    }
    default:
      return 0;
  }
}

/** Descending version of {@link compare}. */
export function compareDescending(a: unknown, b: unknown): number {
  return compare(b, a);
}
