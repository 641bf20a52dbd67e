/**
 * Tab completion for the console: colon commands, properties of a global (`sc.par…`), and RDD
 * method names after any other expression (`sc.parallelize(xs).redu…`), without running code.
 */
import { RDD } from '../rdd/rdd.js';
import { COMMAND_NAMES } from './commands.js';
import { RDD_METHODS } from './hints.js';

export { RDD_METHODS };

/** What to insert: the partial word starts at `start`; `candidates` share the prefix typed. */
export interface Completion {
  readonly start: number;
  readonly candidates: readonly string[];
}

function methodNames(proto: object | null): string[] {
  const names = new Set<string>();
  for (let p = proto; p && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    for (const n of Object.getOwnPropertyNames(p)) {
      if (n !== 'constructor' && !n.startsWith('_')) names.add(n);
    }
  }
  return [...names];
}

function propertyNames(value: unknown): string[] {
  if (value === null || value === undefined) return [];
  const names = new Set<string>();
  for (const n of Object.keys(Object(value) as object)) names.add(n);
  for (const n of methodNames(Object.getPrototypeOf(value) as object | null)) names.add(n);
  return [...names].filter((n) => !n.startsWith('_'));
}

/** Resolves `a.b.c` against the global object without calling anything; undefined if it cannot. */
function resolvePath(path: string): unknown {
  let v: unknown = globalThis;
  for (const part of path.split('.')) {
    if (v === null || v === undefined) return undefined;
    const d = Object.getOwnPropertyDescriptor(v, part) ?? findDescriptor(v, part);
    if (!d || d.get) return undefined; // never run a getter
    v = d.value;
  }
  return v;
}

function findDescriptor(v: unknown, name: string): PropertyDescriptor | undefined {
  for (let p = Object.getPrototypeOf(v) as object | null; p; p = Object.getPrototypeOf(p) as object | null) {
    const d = Object.getOwnPropertyDescriptor(p, name);
    if (d) return d;
  }
  return undefined;
}

/** Completes the word before `cursor` in `line`. */
export function complete(line: string, cursor: number): Completion {
  const before = line.slice(0, cursor);
  if (/^\s*:\w*$/.test(before)) {
    const start = before.indexOf(':');
    const word = before.slice(start);
    return { start, candidates: COMMAND_NAMES.filter((c) => c.startsWith(word)) };
  }
  const m = /([A-Za-z_$][\w$]*)?$/.exec(before)!;
  const word = m[1] ?? '';
  const start = cursor - word.length;
  let pool: string[];
  if (before[start - 1] === '.') {
    const obj = /([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)$/.exec(before.slice(0, start - 1));
    const isCall = /[)\]]$/.test(before.slice(0, start - 1));
    const target = !isCall && obj ? resolvePath(obj[1]!) : undefined;
    pool = target instanceof RDD || target === undefined ? [...RDD_METHODS] : propertyNames(target);
  } else {
    pool = [...Object.getOwnPropertyNames(globalThis), 'await', 'const', 'let', 'function', 'return'];
  }
  return { start, candidates: [...new Set(pool.filter((n) => n.startsWith(word)))].sort() };
}

/** The longest prefix all candidates share. */
export function commonPrefix(words: readonly string[]): string {
  if (words.length === 0) return '';
  let p = words[0]!;
  for (const w of words) while (!w.startsWith(p)) p = p.slice(0, -1);
  return p;
}
