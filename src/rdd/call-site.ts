/** Where user code created an RDD, for `toDebugString` (Spark's call site: `map at file.ts:12`). */
import { fileURLToPath } from 'node:url';
import { basename } from 'node:path';

// This package's own source folder (src/ when run from source, dist/src/ when built).
const OWN_DIR = fileURLToPath(new URL('..', import.meta.url));

/** The user's frame and the public method of this package it called (Spark's call site). */
export interface UserCall {
  /** `file:line` of the first stack frame outside this package, or `<unknown>`. */
  readonly site: string;
  /** The method the user called (`sum`, `sortBy`), not the internal it delegates to; if known. */
  readonly method: string | undefined;
}

/** The first stack frame outside this package, and the name of the last frame inside it. */
export function userCall(): UserCall {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 40;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  let method: string | undefined;
  for (const line of stack.split('\n').slice(1)) {
    const m = /\(?((?:file:\/\/)?[^()\s]+):(\d+):\d+\)?\s*$/.exec(line);
    if (!m) continue;
    const file = m[1]!.startsWith('file://') ? fileURLToPath(m[1]!) : m[1]!;
    if (file.startsWith('node:') || file.includes('/node_modules/')) continue;
    if (file.startsWith(OWN_DIR)) {
      // `at RDD.sum (…)`, `at async PairRDD.top (…)`: the method name, not constructors.
      const name = /^\s*at (?:async )?([\w$.]+) \(/.exec(line)?.[1]?.split('.').at(-1);
      if (name !== undefined && /^[a-z_$][\w$]*$/.test(name)) method = name;
      continue;
    }
    return { site: `${basename(file)}:${m[2]}`, method };
  }
  return { site: '<unknown>', method };
}

/** `file:line` of the first stack frame outside this package, or `<unknown>`. */
export function callSite(): string {
  return userCall().site;
}
