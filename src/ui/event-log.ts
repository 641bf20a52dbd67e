/**
 * The event log (`eventLog: { dir }`): every progress event of a context as one JSON line, the
 * time it was seen added, between an `application started` line (name, start time, environment)
 * and an `application ended` line. Written as `<appId>.jsonl.inprogress` while the context runs
 * and renamed `<appId>.jsonl` when it stops, as Spark's `.inprogress` files. The history server
 * replays these files into the same {@link StatusStore} the live UI keeps.
 */
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ProgressEvent } from '../client/progress.js';
import { InvalidOperationError } from '../protocol/errors.js';
import type { EnvironmentInfo, UiApplication } from './rest.js';
import { StatusStore, type RetentionLimits } from './status-store.js';

/** The first line of an event log. */
export interface ApplicationStartLine {
  readonly type: 'application';
  readonly state: 'started';
  readonly appId: string;
  readonly name: string;
  readonly time: number;
  readonly environment: EnvironmentInfo;
}

/** The last line of an event log. */
export interface ApplicationEndLine {
  readonly type: 'application';
  readonly state: 'ended';
  readonly time: number;
}

/** Suffix of a log whose context has not stopped (or died). */
export const IN_PROGRESS = '.inprogress';
/** How long lines wait in memory before they are written. */
const FLUSH_MS = 200;
const FLUSH_BYTES = 256 * 1024;

/** Writes one context's event log. `close()` is idempotent. */
export class EventLogWriter {
  private readonly fd: number;
  private buffer: string[] = [];
  private bytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** The file being written (renamed without `.inprogress` by close). */
  readonly path: string;

  constructor(dir: string, start: ApplicationStartLine) {
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, `${start.appId}.jsonl${IN_PROGRESS}`);
    this.fd = openSync(this.path, 'wx');
    this.line(start);
    this.flush();
  }

  /** Appends an event seen at `time`. */
  write(e: ProgressEvent, time: number): void {
    if (this.closed) return;
    this.line({ ...e, time });
  }

  private line(v: unknown): void {
    const s = JSON.stringify(v) + '\n';
    this.buffer.push(s);
    this.bytes += s.length;
    if (this.bytes >= FLUSH_BYTES) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }

  /** Writes what is buffered. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buffer.length === 0) return;
    const text = this.buffer.join('');
    this.buffer = [];
    this.bytes = 0;
    writeSync(this.fd, text);
  }

  /** Writes the end line, closes the file and drops `.inprogress` from its name. */
  close(time: number): void {
    if (this.closed) return;
    this.line({ type: 'application', state: 'ended', time } satisfies ApplicationEndLine);
    this.closed = true;
    this.flush();
    closeSync(this.fd);
    renameSync(this.path, this.path.slice(0, -IN_PROGRESS.length));
  }
}

/**
 * Replays an event log into a new store. A last line cut short (a log still being written, or a
 * context that died) is ignored; such an application shows as not completed.
 */
export function readEventLog(path: string, limits: RetentionLimits = {}): UiApplication {
  const lines = readFileSync(path, 'utf8').split('\n');
  let start: ApplicationStartLine | undefined;
  try {
    start = JSON.parse(lines[0] ?? '') as ApplicationStartLine;
  } catch {
    start = undefined;
  }
  if (start?.type !== 'application' || start.state !== 'started')
    throw new InvalidOperationError(`${basename(path)} is not a MicroSpark event log (no application line)`);
  const store = new StatusStore(start.time, limits);
  let end: number | undefined;
  for (let i = 1; i < lines.length; i++) {
    const text = lines[i]!;
    if (text === '') continue;
    let v: (ProgressEvent & { time: number }) | ApplicationEndLine;
    try {
      v = JSON.parse(text) as typeof v;
    } catch {
      break;
    }
    if (v.type === 'application') end = v.time;
    else store.apply(v, v.time);
  }
  return {
    id: start.appId,
    name: start.name,
    store,
    endTime: () => end,
    environment: start.environment,
  };
}
