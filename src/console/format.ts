/**
 * How the console prints results and errors: arrays of pairs and Maps as two-column tables, long
 * results cut with a count of what was left out, RDDs by their Spark-style name, errors with the
 * remote message and stack.
 */
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { RemoteError } from '../protocol/errors.js';
import { RDD } from '../rdd/rdd.js';
import { rddTypoHint } from './hints.js';

/** Limits of what is printed. */
export interface FormatOptions {
  /** Rows of a table, items of an array. */
  readonly maxRows: number;
  /** Characters of a cell. */
  readonly maxCell: number;
  readonly width: number;
}

export const DEFAULT_FORMAT: FormatOptions = { maxRows: 20, maxCell: 40, width: 100 };

function cell(v: unknown, max: number): string {
  const s = typeof v === 'string' ? v : inspect(v, { breakLength: Infinity, depth: 2, maxArrayLength: 10 });
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function isPairs(v: unknown): v is Array<[unknown, unknown]> {
  return Array.isArray(v) && v.length > 0 && v.every((e) => Array.isArray(e) && e.length === 2);
}

/** A two-column table with a header, cut to `maxRows` with a `… N more rows` line. */
export function table(
  rows: ReadonlyArray<readonly [unknown, unknown]>,
  header: [string, string],
  o: FormatOptions,
): string {
  const shown = rows.slice(0, o.maxRows).map(([k, v]) => [cell(k, o.maxCell), cell(v, o.maxCell)] as const);
  const w0 = Math.max(header[0].length, ...shown.map((r) => r[0].length));
  const w1 = Math.max(header[1].length, ...shown.map((r) => r[1].length));
  const line = (a: string, b: string) => `│ ${a.padEnd(w0)} │ ${b.padEnd(w1)} │`;
  const out = [
    `┌${'─'.repeat(w0 + 2)}┬${'─'.repeat(w1 + 2)}┐`,
    line(header[0], header[1]),
    `├${'─'.repeat(w0 + 2)}┼${'─'.repeat(w1 + 2)}┤`,
    ...shown.map(([a, b]) => line(a, b)),
    `└${'─'.repeat(w0 + 2)}┴${'─'.repeat(w1 + 2)}┘`,
  ];
  const left = rows.length - shown.length;
  if (left > 0) out.push(`… ${left} more row${left === 1 ? '' : 's'} (${rows.length} in all)`);
  return out.join('\n');
}

/** The printed form of a console result. */
export function formatValue(value: unknown, o: FormatOptions = DEFAULT_FORMAT): string {
  if (value instanceof RDD) return value.toString();
  if (value instanceof Map) {
    if (value.size === 0) return 'Map(0) {}';
    return `Map(${value.size})\n${table([...value.entries()], ['key', 'value'], o)}`;
  }
  if (isPairs(value)) return table(value, ['key', 'value'], o);
  if (Array.isArray(value) && value.length > o.maxRows) {
    const head = inspect(value.slice(0, o.maxRows), {
      depth: 3,
      breakLength: o.width,
      maxArrayLength: o.maxRows,
    });
    const left = value.length - o.maxRows;
    return `${head}\n… ${left} more item${left === 1 ? '' : 's'} (${value.length} in all)`;
  }
  return inspect(value, { depth: 4, breakLength: o.width, maxArrayLength: o.maxRows, maxStringLength: 2000 });
}

/** How {@link formatError} prints. */
export interface ErrorFormatOptions {
  /**
   * Also print the stack frames of errors raised here (not on a worker) that are outside this
   * package and Node's internals: where the user's own code failed (`microspark run`).
   */
  readonly localStack?: boolean;
}

// This package's source folder (src/ from source, dist/src/ when built): its frames are not the user's.
const OWN_DIR = fileURLToPath(new URL('..', import.meta.url));

/** An error as the console shows it: name and message, the remote stack, and the causes. */
export function formatError(err: unknown, options: ErrorFormatOptions = {}): string {
  if (!(err instanceof Error)) return `Uncaught ${inspect(err)}`;
  const lines: string[] = [];
  let e: unknown = err;
  let depth = 0;
  while (e instanceof Error && depth < 5) {
    const prefix = depth === 0 ? '' : 'Caused by: ';
    if (e instanceof RemoteError) {
      lines.push(`${prefix}${e.remoteName}: ${e.message} (on a worker)`);
      if (e.remoteStack) lines.push(...stackFrames(e.remoteStack).map((l) => `    ${l}`));
    } else {
      lines.push(`${prefix}${e.name}: ${e.message}`);
      const hint = rddTypoHint(e);
      if (hint !== undefined) lines.push(hint);
      if (options.localStack && e.stack) lines.push(...userFrames(e.stack).map((l) => `    ${l}`));
    }
    e = e.cause;
    depth++;
  }
  return lines.join('\n');
}

/** The `at …` lines of a stack, at most `max`. */
function stackFrames(stack: string, max = 6): string[] {
  return stack
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('at '))
    .slice(0, max);
}

/** The `at …` lines of a stack outside this package, node_modules and Node's internals, at most 6. */
function userFrames(stack: string): string[] {
  return stackFrames(stack, Infinity)
    .filter((l) => {
      const m = /\(?((?:file:\/\/)?[^()\s]+):\d+:\d+\)?$/.exec(l);
      if (!m) return false;
      const file = m[1]!.startsWith('file://') ? fileURLToPath(m[1]!) : m[1]!;
      return !file.startsWith(OWN_DIR) && !file.startsWith('node:') && !file.includes('/node_modules/');
    })
    .slice(0, 6);
}

/** Bytes in B, KiB, MiB or GiB with one decimal. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/** Milliseconds as `0.8 s`, `12.3 s` or `2:05`. */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
