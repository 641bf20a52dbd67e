/**
 * The console's controller: holds the view model, feeds it progress events and worker snapshots,
 * evaluates inputs and commands, and cancels. The ink components subscribe to it and draw.
 */
import type { MicroSpark } from '../client/context.js';
import { runCommand } from './commands.js';
import { evaluate } from './evaluate.js';
import { formatError, formatValue } from './format.js';
import { appendHistory, loadHistory } from './history.js';
import { initialState, reduce, type ConsoleAction, type ConsoleState } from './view-model.js';

/** How often the workers panel is refreshed from the client's records. */
export const WORKER_POLL_MS = 500;

/** Options of a console session. */
export interface SessionOptions {
  /** The banner's connection line. */
  readonly banner: string;
  /** History file (none: history is not kept). */
  readonly historyFile?: string;
  /** Called once when the user quits (Ctrl-D, :quit). */
  readonly onQuit: () => void;
}

/** One console session over a connected context. */
export class ConsoleSession {
  private current: ConsoleState = initialState;
  private readonly listeners = new Set<() => void>();
  private readonly unsubscribe: () => void;
  private readonly poll: NodeJS.Timeout | undefined;
  /** Inputs of past sessions and this one, oldest first. */
  readonly history: string[];
  /** True while an input is being evaluated. */
  busy = false;
  private quitting = false;

  constructor(
    readonly sc: MicroSpark,
    private readonly options: SessionOptions,
  ) {
    this.history = options.historyFile ? loadHistory(options.historyFile) : [];
    (globalThis as Record<string, unknown>).sc = sc;
    this.unsubscribe = sc.onProgress((event) => this.dispatch({ type: 'progress', event, now: Date.now() }));
    const cluster = sc.cluster;
    if (cluster) {
      this.dispatch({ type: 'workers', workers: cluster.workerStatus() });
      this.poll = setInterval(
        () => this.dispatch({ type: 'workers', workers: cluster.workerStatus() }),
        WORKER_POLL_MS,
      );
      this.poll.unref();
    }
    this.dispatch({ type: 'log', tone: 'info', text: `MicroSpark console — ${options.banner}` });
    this.dispatch({
      type: 'log',
      tone: 'info',
      text: '`sc` is ready. :help for commands, Ctrl-C cancels, Ctrl-D quits.',
    });
  }

  /** The view model now. */
  get state(): ConsoleState {
    return this.current;
  }

  /** For useSyncExternalStore. */
  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getState = (): ConsoleState => this.current;

  dispatch(a: ConsoleAction): void {
    this.current = reduce(this.current, a);
    for (const l of this.listeners) l();
  }

  /** Inputs submitted and not finished: they run one after the other (a paste of several lines). */
  private queued = 0;
  private queue: Promise<void> = Promise.resolve();

  /** Evaluates one complete input (code or a colon command) and logs it and its result, in turn. */
  submit(input: string): Promise<void> {
    this.queued++;
    this.busy = true;
    const run = this.queue.then(() => this.run(input));
    this.queue = run.finally(() => {
      if (--this.queued === 0) this.busy = false;
      for (const l of this.listeners) l();
    });
    return this.queue;
  }

  private async run(input: string): Promise<void> {
    const text = input.trimEnd();
    if (text.trim() === '') return;
    if (this.history.at(-1) !== text) {
      this.history.push(text);
      if (this.options.historyFile) appendHistory(this.options.historyFile, text);
    }
    this.dispatch({ type: 'log', tone: 'input', text: text.split('\n').map((l, i) => `${i === 0 ? '›' : '·'} ${l}`).join('\n') }); // prettier-ignore
    try {
      if (text.trimStart().startsWith(':')) {
        const r = await runCommand(text.trim(), { sc: this.sc, state: this.current });
        if (r.kind === 'quit') return this.quit();
        this.dispatch({ type: 'log', tone: r.tone, text: r.text });
      } else {
        const value = await evaluate(text);
        (globalThis as Record<string, unknown>)._ = value;
        if (value !== undefined) this.dispatch({ type: 'log', tone: 'result', text: formatValue(value) });
      }
    } catch (e) {
      this.dispatch({ type: 'log', tone: 'error', text: formatError(e) });
    }
  }

  /** Ctrl-C: cancels whatever runs (its jobs are withdrawn, workers stop its tasks). */
  cancel(): boolean {
    if (!this.busy && !this.current.action) return false;
    this.sc.cancelAllJobs();
    return true;
  }

  /** Ends the session once: stops listening; the caller stops the context. */
  quit(): void {
    if (this.quitting) return;
    this.quitting = true;
    this.unsubscribe();
    if (this.poll) clearInterval(this.poll);
    this.options.onQuit();
  }
}
