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

/** The code point the code unit at `i` belongs to (a lone surrogate is its own code point). */
function codePointAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c >= 0xdc00 && c < 0xe000 && i > 0) {
    const h = s.charCodeAt(i - 1);
    if (h >= 0xd800 && h < 0xdc00) return 0x10000 + ((h - 0xd800) << 10) + (c - 0xdc00);
  }
  return s.codePointAt(i)!;
}

/** Compares strings by Unicode code point (JavaScript's `<` compares UTF-16 code units). */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      // Only surrogates can order differently by code unit than by code point.
      if (x >= 0xd800 && y >= 0xd800 && (x < 0xe000 || y < 0xe000))
        return codePointAt(a, i) - codePointAt(b, i);
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
