/**
 * What user code inside a task prints with `console.*`, as lines attributed to the task (Spark's
 * executor logs). `captureConsole` runs a task with a line writer; the console methods, replaced
 * once in the process (or thread), send what is printed within that async context (its awaits,
 * timers and promises included) to the writer, and everything else to the console as before.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { format } from 'node:util';

/** Which stream a line was printed to: log/info/debug are stdout, warn/error/trace stderr. */
export type LogStream = 'stdout' | 'stderr';

/** One printed line (without its newline). */
export interface TaskLogLine {
  readonly stream: LogStream;
  readonly line: string;
}

/** Longest line kept; the rest is cut and marked (a task printing a huge value must not flood the client). */
export const MAX_LOG_LINE_CHARS = 16 * 1024;

const METHODS: ReadonlyArray<readonly [keyof Console, LogStream]> = [
  ['log', 'stdout'],
  ['info', 'stdout'],
  ['debug', 'stdout'],
  ['warn', 'stderr'],
  ['error', 'stderr'],
  ['trace', 'stderr'],
];

const writers = new AsyncLocalStorage<(l: TaskLogLine) => void>();
/** The writer of a thread that runs one task at a time (no AsyncLocalStorage: see setTaskWriter). */
let threadWriter: ((l: TaskLogLine) => void) | undefined;
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  const target = console as unknown as Record<string, (...args: unknown[]) => void>;
  for (const [method, stream] of METHODS) {
    const original = target[method]!.bind(console);
    target[method] = (...args: unknown[]) => {
      const write = threadWriter ?? writers.getStore();
      if (!write) {
        original(...args);
        return;
      }
      let text = format(...args);
      if (method === 'trace') {
        const stack = (new Error().stack ?? '').split('\n').slice(2).join('\n');
        text = `Trace${text ? `: ${text}` : ''}\n${stack}`;
      }
      for (const line of text.split('\n')) {
        write({
          stream,
          line: line.length > MAX_LOG_LINE_CHARS ? `${line.slice(0, MAX_LOG_LINE_CHARS)}… (cut)` : line,
        });
      }
    };
  }
}

/**
 * Sends every `console.*` call of this thread to `write` until it is set to undefined: for a task
 * thread, which runs one task at a time. (AsyncLocalStorage would attribute by async context, but
 * on Node 20 it turns on promise hooks, which slow down every await of the task: async user code
 * ran 3x slower.)
 */
export function setTaskWriter(write: ((l: TaskLogLine) => void) | undefined): void {
  install();
  threadWriter = write;
}

/** Runs `body` with what it prints through `console.*` going to `write`, line by line. */
export function captureConsole<R>(write: (l: TaskLogLine) => void, body: () => Promise<R>): Promise<R> {
  install();
  return writers.run(write, body);
}
