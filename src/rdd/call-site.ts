/** Where user code created an RDD, for `toDebugString` (Spark's call site: `map at file.ts:12`). */
import { fileURLToPath } from 'node:url';
import { basename } from 'node:path';

// This package's own source folder (src/ when run from source, dist/src/ when built).
const OWN_DIR = fileURLToPath(new URL('..', import.meta.url));

/** `file:line` of the first stack frame outside this package, or `<unknown>`. */
export function callSite(): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 30;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  for (const line of stack.split('\n').slice(1)) {
    const m = /\(?((?:file:\/\/)?[^()\s]+):(\d+):\d+\)?\s*$/.exec(line);
    if (!m) continue;
    const file = m[1]!.startsWith('file://') ? fileURLToPath(m[1]!) : m[1]!;
    if (file.startsWith(OWN_DIR) || file.startsWith('node:') || file.includes('/node_modules/')) continue;
    return `${basename(file)}:${m[2]}`;
  }
  return '<unknown>';
}
