/**
 * The engine's total order (`compare`), stable key hashing (`hashKey`, the same in every
 * process) and value-keyed maps (`KeyMap`, `Combiners`).
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compare, hashKey } from '../../src/index.js';
import { hashPartition } from '../../src/rdd/key-hash.js';
import { Combiners, KeyMap } from '../../src/rdd/key-map.js';
import { mulberry32 } from '../../src/rdd/random.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** Deterministic PRNG (the engine's mulberry32), so a failing case can be reproduced from its seed. */
const rng = mulberry32;

const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);
/** Sorted by `compare` (boxed: Array.prototype.sort moves undefined to the end without calling the comparator). */
const sorted = <T>(xs: readonly T[]): T[] =>
  xs
    .map((v) => ({ v }))
    .sort((a, b) => compare(a.v, b.v))
    .map((b) => b.v);

/** Reference order for well-formed strings: by code points. */
function byCodePoints(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0)!);
  const y = Array.from(b, (c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

/** Characters around the UTF-16 surrogate range and beyond the BMP. */
const CHARS = [
  'a',
  'b',
  'Z',
  '0',
  ' ',
  '\u00e9',
  '\u4e2d',
  '\ud7ff',
  '\ue000',
  '\ufffd',
  '\uffff',
  '\u{10000}',
  '\u{1f600}',
  '\u{10ffff}',
];

function randomString(rand: () => number, maxLen = 6): string {
  let s = '';
  const len = Math.floor(rand() * (maxLen + 1));
  for (let i = 0; i < len; i++) s += CHARS[Math.floor(rand() * CHARS.length)];
  return s;
}

function randomValue(rand: () => number, depth = 0): unknown {
  const r = rand();
  const kinds = depth >= 2 ? 9 : 11;
  switch (Math.floor(r * kinds)) {
    case 0:
      return [undefined, null, true, false][Math.floor(rand() * 4)];
    case 1:
      return Math.floor(rand() * 20) - 10;
    case 2:
      return [NaN, Infinity, -Infinity, 0, -0, 0.5, -1.25, 1e300, Number.MIN_VALUE][Math.floor(rand() * 9)];
    case 3:
    case 4:
      return randomString(rand);
    case 5:
      return new Date(Math.floor(rand() * 5) * 1000);
    case 6:
      return new Uint8Array(
        Array.from({ length: Math.floor(rand() * 4) }, () => Math.floor(rand() * 3) * 127),
      );
    case 7:
      return BigInt(Math.floor(rand() * 20) - 10);
    case 8:
      return (rand() * 100 - 50) / 3;
    case 9:
      return Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(rand, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(rand() * 3); i > 0; i--)
        o[randomString(rand, 2)] = randomValue(rand, depth + 1);
      return o;
    }
  }
}

/** A copy of a value with every object's keys inserted in reverse order. */
function reversedKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reversedKeys);
  if (typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).reverse()) out[k] = reversedKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  if (v instanceof Date) return new Date(v.getTime());
  if (v instanceof Uint8Array) return Uint8Array.from(v);
  return v;
}

describe('compare', () => {
  it('orders numbers numerically, -0 equal to 0, NaN after everything numeric', () => {
    expect(compare(1, 2)).toBeLessThan(0);
    expect(compare(2, 1)).toBeGreaterThan(0);
    expect(compare(1, 1)).toBe(0);
    expect(compare(-0, 0)).toBe(0);
    expect(compare(-1.5, -1.25)).toBeLessThan(0);
    expect(compare(NaN, NaN)).toBe(0);
    expect(compare(NaN, Infinity)).toBeGreaterThan(0);
    expect(compare(Infinity, NaN)).toBeLessThan(0);
    expect(compare(NaN, -Infinity)).toBeGreaterThan(0);
    expect(compare(10, 9)).toBeGreaterThan(0); // not as strings
    expect(sorted([3, NaN, -Infinity, 1, Infinity, -0, 2.5, 10, NaN])).toEqual([
      -Infinity,
      -0,
      1,
      2.5,
      3,
      10,
      Infinity,
      NaN,
      NaN,
    ]);
  });

  it('orders bigints with numbers by value', () => {
    expect(compare(1n, 2)).toBeLessThan(0);
    expect(compare(3, 2n)).toBeGreaterThan(0);
    expect(compare(2n, 2)).toBe(0);
    expect(compare(2n ** 64n, Number.MAX_SAFE_INTEGER)).toBeGreaterThan(0);
    expect(compare(NaN, 2n ** 64n)).toBeGreaterThan(0);
  });

  it('orders strings by code point, not by UTF-16 code unit', () => {
    expect(compare('a', 'b')).toBeLessThan(0);
    expect(compare('', 'a')).toBeLessThan(0);
    expect(compare('a', 'aa')).toBeLessThan(0);
    expect(compare('Z', 'a')).toBeLessThan(0);
    expect(compare('abc', 'abc')).toBe(0);
    // U+10000 is encoded as the surrogate pair D800 DC00, which UTF-16 order puts before U+FFFF.
    expect('\u{10000}' < '\uffff').toBe(true);
    expect(compare('\u{10000}', '\uffff')).toBeGreaterThan(0);
    expect(compare('\uffff', '\u{10000}')).toBeLessThan(0);
    expect(compare('\u{1f600}', '\ufffd')).toBeGreaterThan(0);
    expect(compare('\ue000', '\u{10000}')).toBeLessThan(0);
    expect(compare('x\u{1f600}', 'x\uffff')).toBeGreaterThan(0);
    expect(compare('\u{1f600}', '\u{1f601}')).toBeLessThan(0);
    expect(compare('\u{10ffff}', '\u{10000}')).toBeGreaterThan(0);
    expect(sorted(['\u{10000}', '\uffff', '\ue000', '\ud7ff', 'a', '\u{10ffff}', '\u{1f600}'])).toEqual([
      'a',
      '\ud7ff',
      '\ue000',
      '\uffff',
      '\u{10000}',
      '\u{1f600}',
      '\u{10ffff}',
    ]);
  });

  it('property: on well-formed strings it agrees with code-point order and UTF-8 byte order', () => {
    const rand = rng(42);
    for (let i = 0; i < 3000; i++) {
      const a = randomString(rand);
      const b = rand() < 0.2 ? a + randomString(rand, 2) : randomString(rand);
      const c = sign(compare(a, b));
      const where = `${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
      expect(c, where).toBe(sign(byCodePoints(a, b)));
      expect(c, where).toBe(sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))));
    }
  });

  it('orders arrays element by element, then by length', () => {
    expect(compare([1, 2], [1, 3])).toBeLessThan(0);
    expect(compare([1, 3], [1, 2])).toBeGreaterThan(0);
    expect(compare([1, 2], [1, 2])).toBe(0);
    expect(compare([1, 2], [1, 2, 0])).toBeLessThan(0);
    expect(compare([], [0])).toBeLessThan(0);
    expect(compare([2], [1, 99])).toBeGreaterThan(0);
    expect(compare(['a', 1], ['a', 2])).toBeLessThan(0);
    expect(compare(['b', 0], ['a', 9])).toBeGreaterThan(0);
    expect(compare([[1, 2], 3], [[1, 3], 0])).toBeLessThan(0);
    expect(compare([NaN], [1])).toBeGreaterThan(0);
    expect(sorted([['b', 1], ['a', 2], ['a', 1, 0], ['a', 1], ['a']])).toEqual([
      ['a'],
      ['a', 1],
      ['a', 1, 0],
      ['a', 2],
      ['b', 1],
    ]);
  });

  it('orders values of different kinds by kind', () => {
    const ordered: unknown[] = [
      undefined,
      null,
      false,
      true,
      -5,
      3n,
      7,
      NaN,
      new Date(0),
      new Date(1000),
      '',
      'a',
      new Uint8Array([0]),
      new Uint8Array([0, 1]),
      new Uint8Array([1]),
      [],
      [0],
      {},
      { a: 1 },
    ];
    for (let i = 0; i < ordered.length; i++) {
      for (let j = 0; j < ordered.length; j++) {
        const where = `${i} vs ${j}`;
        expect(sign(compare(ordered[i], ordered[j])), where).toBe(sign(i - j));
      }
    }
    const shuffled = [...ordered].reverse();
    shuffled.push(shuffled.shift());
    expect(sorted(shuffled)).toEqual(ordered);
  });

  it('orders plain objects independently of key order', () => {
    expect(compare({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(0);
    expect(compare({ a: 1, b: 2 }, { a: 1, b: 3 })).toBeLessThan(0);
    expect(compare({ a: 1 }, { a: 1, b: 0 })).toBeLessThan(0);
    expect(compare({ b: 0 }, { a: 9 })).toBeGreaterThan(0);
  });

  it('property: a consistent total order on mixed values', () => {
    const rand = rng(7);
    const values = Array.from({ length: 250 }, () => randomValue(rand));
    for (const v of values) {
      expect(compare(v, v)).toBe(0);
      expect(compare(v, reversedKeys(v))).toBe(0);
    }
    for (let i = 0; i < values.length; i++) {
      for (let j = i + 1; j < values.length; j++) {
        const ab = compare(values[i], values[j]);
        expect(Number.isNaN(ab)).toBe(false);
        expect(sign(ab) + sign(compare(values[j], values[i])), `${i} vs ${j}`).toBe(0);
      }
    }
    // Transitivity: after sorting, every earlier element is ≤ every later one.
    const s = sorted(values);
    for (let i = 0; i < s.length; i++) {
      for (let j = i + 1; j < s.length; j++) expect(compare(s[i], s[j]) <= 0, `${i} ≤ ${j}`).toBe(true);
    }
  });
});

/** Keys whose hashes are pinned; the same source is evaluated in a separate process. */
const KEYS_SRC = `[
  'a', '', 'hello', '\\u00e9\\u{1f600}', 0, 1, -1, 1.5, -2.25, 2 ** 40, 2147483648, -2147483649, NaN, Infinity,
  true, false, null, undefined, 10n, 2n ** 64n, ['a', 1], [], [[1, 2], 'x'], { x: 1, y: 'z' }, {},
  new Date(0), new Uint8Array([1, 2, 3]),
]`;
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- the same literal is evaluated in both processes
const KEYS = new Function(`return ${KEYS_SRC};`)() as unknown[];
const PINNED = [
  764692618, 275646681, 1018931388, -673344547, -1888703453, 1412992154, -1983188311, -518811084, -764326787,
  62527570, -368022957, -473315415, 2146959360, 1859477257, 4657, 4663, 0, 6699, -730115207, -940384976,
  -3135672, -110659281, -406842453, 1670365052, 846825377, -1888703362, 700220642,
];

describe('hashKey', () => {
  it('gives pinned values for known keys (the hash must never change)', () => {
    expect(KEYS.map((k) => hashKey(k))).toEqual(PINNED);
  });

  it('gives the same values in a separate process', async () => {
    const code =
      `import { hashKey } from ${JSON.stringify(pathToFileURL(resolve(ROOT, 'src/index.ts')).href)};\n` +
      `process.stdout.write(JSON.stringify(${KEYS_SRC}.map((k) => hashKey(k))));`;
    const stdout = await new Promise<string>((done, fail) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', code],
        { cwd: ROOT, timeout: 30_000 },
        (err, out, stderr) => (err ? fail(new Error(`${err.message}\n${stderr}`)) : done(out)),
      );
    });
    expect(JSON.parse(stdout)).toEqual(PINNED);
  });

  it('returns signed 32-bit integers', () => {
    for (const k of KEYS) {
      const h = hashKey(k);
      expect(Number.isInteger(h)).toBe(true);
      expect(h).toBe(h | 0);
    }
  });

  it('gives equal values equal hashes', () => {
    expect(hashKey(1)).toBe(hashKey(1.0));
    expect(hashKey(1)).toBe(hashKey(Number('1.0')));
    expect(hashKey(1)).toBe(hashKey(1n));
    expect(hashKey(0)).toBe(hashKey(-0));
    expect(hashKey(NaN)).toBe(hashKey(0 / 0));
    expect(hashKey(0.1 + 0.2)).toBe(hashKey(0.30000000000000004));
    expect(hashKey(['a', 1])).toBe(hashKey(['a', 1]));
    expect(hashKey({ x: 1, y: ['z', { q: true }] })).toBe(hashKey({ y: ['z', { q: true }], x: 1 }));
    expect(hashKey(new Date(5))).toBe(hashKey(new Date(5)));
    expect(hashKey(new Uint8Array([1, 2]))).toBe(hashKey(Buffer.from([1, 2])));
    expect(hashKey(Buffer.from([9, 1, 2, 3]).subarray(1))).toBe(hashKey(new Uint8Array([1, 2, 3])));
    expect(hashKey('é😀')).toBe(hashKey('\u00e9\ud83d\ude00'));
  });

  it('property: copies (with keys in any order) hash alike', () => {
    const rand = rng(99);
    for (let i = 0; i < 500; i++) {
      const v = randomValue(rand);
      expect(hashKey(reversedKeys(v))).toBe(hashKey(v));
    }
  });

  it('separates simple different keys', () => {
    const distinct: unknown[] = [
      'a',
      'b',
      'ab',
      'ba',
      '1',
      1,
      2,
      -1,
      1.5,
      true,
      false,
      null,
      undefined,
      [1, 2],
      [2, 1],
      [1],
      ['1'],
      { a: 1 },
      { a: 2 },
      { b: 1 },
    ];
    const hashes = distinct.map((k) => hashKey(k));
    expect(new Set(hashes).size).toBe(distinct.length);
  });

  it('refuses keys that cannot be hashed by value', () => {
    expect(() => hashKey(Symbol('s'))).toThrow(TypeError);
    expect(() => hashKey(() => 1)).toThrow(TypeError);
  });

  it('hashPartition is in [0, n) also for negative hashes', () => {
    const negative = KEYS.filter((k) => hashKey(k) < 0);
    expect(negative.length).toBeGreaterThan(0);
    for (const n of [1, 2, 3, 7, 16, 1000]) {
      for (const k of KEYS) {
        const p = hashPartition(k, n);
        expect(Number.isInteger(p) && p >= 0 && p < n, `${String(k)} → ${p} of ${n}`).toBe(true);
      }
    }
  });
});

describe('KeyMap', () => {
  it('finds compound keys by value', () => {
    const m = new KeyMap<string>();
    m.set(['a', 1], 'pair');
    m.set({ x: 1, y: 2 }, 'object');
    m.set(new Date(10), 'date');
    m.set(new Uint8Array([1, 2]), 'bytes');
    m.set([['nested'], { k: [1] }], 'nested');
    expect(m.get(['a', 1])).toBe('pair');
    expect(m.has(['a', 1])).toBe(true);
    expect(m.get({ y: 2, x: 1 })).toBe('object');
    expect(m.get(new Date(10))).toBe('date');
    expect(m.get(Buffer.from([1, 2]))).toBe('bytes');
    expect(m.get([['nested'], { k: [1] }])).toBe('nested');
    expect(m.size).toBe(5);
  });

  it('treats -0 as 0 and every NaN as one key', () => {
    const m = new KeyMap<number>();
    m.set(0, 1);
    m.set(-0, 2);
    m.set(NaN, 3);
    m.set(0 / 0, 4);
    m.set([-0], 5);
    m.set([0], 6);
    expect(m.size).toBe(3);
    expect(m.get(0)).toBe(2);
    expect(m.get(NaN)).toBe(4);
    expect(m.get([0])).toBe(6);
  });

  it('keeps different keys apart', () => {
    const m = new KeyMap<number>();
    const keys: unknown[] = [
      1,
      '1',
      [1],
      ['1'],
      ['a,b'],
      ['a', 'b'],
      [1, [2]],
      [[1], 2],
      { a: 1 },
      { a: '1' },
      { 'a:1': true },
      null,
      undefined,
      'null',
      [null],
      [],
      {},
      '[]',
      true,
      'true',
      new Date(1),
      [new Date(1)],
      [1n],
    ];
    keys.forEach((k, i) => m.set(k, i));
    expect(m.size).toBe(keys.length);
    keys.forEach((k, i) => expect(m.get(k), `key #${i}`).toBe(i));
    expect(m.get([2])).toBeUndefined();
    expect(m.has({ a: 2 })).toBe(false);
    expect(m.has(undefined)).toBe(true);
  });

  it('overwrites by value, keeps the first key object, and visits every entry once', () => {
    const m = new KeyMap<number>();
    const first = ['k', 1];
    m.set(first, 1);
    m.set(['k', 1], 2);
    m.set('s', 3);
    m.set('s', 4);
    const seen: Array<[unknown, number]> = [];
    m.forEach((v, k) => seen.push([k, v]));
    expect(seen).toHaveLength(2);
    expect(seen).toContainEqual(['s', 4]);
    const compound = seen.find(([k]) => Array.isArray(k))!;
    expect(compound[0]).toBe(first);
    expect(compound[1]).toBe(2);
  });

  it('property: keys equal by value are one entry, and equal keys hash alike', () => {
    const rand = rng(2024);
    const m = new KeyMap<number>();
    const values = Array.from({ length: 300 }, () => randomValue(rand));
    values.forEach((v, i) => m.set(v, i));
    for (const v of values) {
      const copy = reversedKeys(v);
      expect(m.has(copy)).toBe(true);
      expect(hashKey(copy)).toBe(hashKey(v));
    }
    const before = m.size;
    values.forEach((v, i) => m.set(reversedKeys(v), i));
    expect(m.size).toBe(before);
  });
});

describe('Combiners', () => {
  it('makes the first value of a key its combiner and merges later ones, keys by value', () => {
    const firsts: unknown[] = [];
    const merges: Array<[unknown, unknown]> = [];
    const c = new Combiners(
      (v) => {
        firsts.push(v);
        return [v];
      },
      (acc, v) => {
        merges.push([acc, v]);
        return [...(acc as unknown[]), v];
      },
    );
    const input: Array<[unknown, unknown]> = [
      ['a', 1],
      [['k', 1], 2],
      [0, 3],
      ['a', 4],
      [-0, 5],
      [['k', 1], 6],
      [NaN, 7],
      [NaN, 8],
      [null, 9],
      [undefined, 10],
      [{ y: 2, x: 1 }, 11],
      [{ x: 1, y: 2 }, 12],
    ];
    for (const [k, v] of input) c.add(k, v);
    expect(c.size).toBe(7);
    expect(firsts).toEqual([1, 2, 3, 7, 9, 10, 11]);
    expect(merges).toEqual([
      [[1], 4],
      [[3], 5],
      [[2], 6],
      [[7], 8],
      [[11], 12],
    ]);
    const out: Array<[unknown, unknown]> = [];
    c.forEach((v, k) => out.push([k, v]));
    // Primitive keys first, then compound keys, each in first-insertion order.
    expect(out).toEqual([
      ['a', [1, 4]],
      [0, [3, 5]],
      [NaN, [7, 8]],
      [null, [9]],
      [undefined, [10]],
      [
        ['k', 1],
        [2, 6],
      ],
      [{ y: 2, x: 1 }, [11, 12]],
    ]);
  });

  it('merges into a combiner that is undefined, as into any other', () => {
    const c = new Combiners(
      () => undefined,
      (acc, v) => (acc === undefined ? `was undefined, then ${String(v)}` : 'unexpected'),
    );
    for (const [k, v] of [
      [1, 'x'],
      [1, 'y'],
      [[1], 'x'],
      [[1], 'y'],
    ] as const)
      c.add(k, v);
    const out: Array<[unknown, unknown]> = [];
    c.forEach((v, k) => out.push([k, v]));
    expect(out).toEqual([
      [1, 'was undefined, then y'],
      [[1], 'was undefined, then y'],
    ]);
  });
});
