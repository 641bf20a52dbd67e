/**
 * A pool of long-lived worker threads that run tasks, one task per thread at a time, so that user
 * code that throws, loops forever (task timeout) or calls `process.exit` kills the task, not the
 * worker daemon (DESIGN.md §7).
 *
 * A task travels to its thread as encoded TaskDesc bytes; the thread (task-thread.ts) decodes it
 * and calls `runTask` with a proxy of the {@link PoolServices}: every service call is a message
 * to this thread, answered with bytes. The thread sends back the TaskResult with its result value
 * and accumulator updates encoded by the codec (so any value the codec takes survives) and its
 * shuffle buckets and blocks as bytes.
 *
 * Bytes cross threads by transfer, never by structured clone of a view (which would copy the
 * view's whole backing store, often a much larger codec or Buffer pool): a view that is the only
 * user of its exclusively owned ArrayBuffer is transferred as it is; anything else is first copied
 * to an exact-size buffer, which is transferred. Bytes this thread hands out (the task, service
 * replies) are always copied, because the caller may keep them: a retried task is re-sent, and a
 * slice, shuffle output or block belongs to the store that served it.
 *
 * Threads are created on demand (or all at once by `prestart()`, as the worker daemon does), up
 * to `threads`, and replaced when they die, and when a task left a thread's V8 heap larger than
 * `recycleHeapMb` and no task waits for it (a heap that grew stays grown: the thread is what
 * gives it back to the OS). Their young generation is small by default (records die young). A
 * thread that is idle does not keep the process alive. At most `cpus` CPU-bound tasks (RDD tasks,
 * which compute in JavaScript for all of their life) run at once; the others wait in the queue
 * while SQL tasks may take the free threads.
 *
 * WebAssembly modules (sc.wasm) are compiled here, once per pool (so once per worker daemon), the
 * first time a thread asks for one (`wasmModule`), and posted to threads as compiled modules, which
 * each thread instantiates once.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, type ResourceLimits, type WorkerOptions } from 'node:worker_threads';
import { decode, encode } from '../protocol/codec.js';
import { InvalidOperationError } from '../protocol/errors.js';
import { isWasmSpec } from '../wasm/guest.js';
import { WebAssemblyApi, type WasmCompiled } from '../wasm/wasm-api.js';
import { errorToWire, type WireError } from '../protocol/errors.js';
import type { ShuffleRead, TaskMetrics, TaskResult, TaskSection, TaskServices } from '../rdd/runner.js';
import type { MapOutput } from '../rdd/map-output.js';
import type { TaskLogLine } from '../rdd/task-console.js';

/** What a thread's task may ask of the pool's thread (same shape as TaskServices, bytes in/out). */

export interface PoolServices extends TaskServices {
  /**
   * The broadcast value as the codec bytes it travelled in, if the caller has them: passed to the
   * thread as they are, so values the codec only keeps in their original encoding (Maps) survive.
   */
  broadcastBytes?(id: string): Promise<Uint8Array>;
}

/** The service methods a task thread can call. */
export type ServiceMethod = keyof TaskServices;

/**
 * What a task thread can ask the pool's thread: a service, or `wasmModule` (args: the broadcast
 * id of a WebAssembly module's spec), answered with the module compiled by the pool.
 */
export type ThreadRequest = ServiceMethod | 'wasmModule';

/** Counters of the pool's WebAssembly work, for tests and diagnostics. */
export interface WasmPoolStats {
  /** Modules compiled by the pool (once per module while it stays cached). */
  readonly compiled: number;
  /** Instances created in the pool's threads (once per module and thread, again after a trap or timeout). */
  readonly instantiated: number;
  /** Instances whose module the thread compiled itself rather than getting it from the pool (0 normally). */
  readonly compiledInThreads: number;
  /** Compiled modules the pool holds now. */
  readonly cached: number;
  /** Compiled modules dropped from the pool's cache because their module was destroyed on the client. */
  readonly dropped: number;
  /** Instances the threads dropped (with their module) because their module was destroyed. */
  readonly instancesDropped: number;
}

/** How many compiled modules a pool keeps (least recently used dropped first). */
const WASM_CACHE_SIZE = 32;

export interface TaskPoolOptions {
  /** Number of threads (slots); a positive integer. */
  readonly threads: number;
  /** A task running longer than this is killed with its thread (TaskTimeoutError). Default: none. */
  readonly taskTimeoutMs?: number;
  /**
   * V8 heap limits of each thread (a task exceeding them kills its thread: WorkerThreadDied).
   * The young generation defaults to {@link DEFAULT_YOUNG_GENERATION_MB}.
   */
  readonly resourceLimits?: ResourceLimits;
  /**
   * A thread whose V8 heap is larger than this (MiB) after a task, with no task waiting for it,
   * is replaced by a fresh thread, so that the heap a big task grew goes back to the OS instead
   * of staying with an idle thread. Default {@link DEFAULT_RECYCLE_HEAP_MB}; 0 never replaces.
   */
  readonly recycleHeapMb?: number;
  /**
   * CPU-bound tasks (see {@link RunOptions.cpuBound}) that run at once, at most `threads`
   * (default `threads`); the others wait in the queue while other tasks may take free threads.
   */
  readonly cpus?: number;
}

/**
 * The default young generation of a task thread, in MiB (V8 makes each semi-space a third): half
 * of V8's default for a 64-bit heap (48), which keeps each busy thread's resident memory about
 * 16 MiB lower; records die young, so collections cost about the same (12 made W1's map tasks
 * spend about twice as long in GC: lines still in use got promoted).
 */
export const DEFAULT_YOUNG_GENERATION_MB = 24;

/** The default of {@link TaskPoolOptions.recycleHeapMb}. */
export const DEFAULT_RECYCLE_HEAP_MB = 64;

/** How a task ended. `userError` says whether its own code failed (counts toward task.maxFailures). */
export type TaskOutcome =
  | { readonly ok: true; readonly result: TaskResult }
  | {
      readonly ok: false;
      readonly error: WireError;
      readonly userError: boolean;
      /** Set when the task failed because a service call failed (a fetch, not the user's code). */
      readonly service?: ServiceMethod;
    };

export interface RunOptions {
  /** Aborting kills the thread running the task (or drops it from the queue): JobCancelledError. */
  readonly signal?: AbortSignal;
  /** Receives what the task's code prints with console.*, in order, in batches, before its outcome. */
  readonly onLog?: (lines: readonly TaskLogLine[]) => void;
  /**
   * The task computes in JavaScript on its thread for all of its life (an RDD task): it counts
   * against the pool's `cpus`. A SQL stage's task, whose DuckDB fragment also waits for files and
   * peers, does not.
   */
  readonly cpuBound?: boolean;
}

/** Messages from the pool to a task thread. */
export type ToThread =
  | { readonly kind: 'run'; readonly taskId: number; readonly task: Uint8Array }
  | {
      readonly kind: 'reply';
      readonly reqId: number;
      readonly ok: true;
      readonly value: Uint8Array | ShuffleRead | WasmCompiled | undefined;
    }
  | { readonly kind: 'reply'; readonly reqId: number; readonly ok: false; readonly error: WireError }
  /** Drop these WebAssembly modules (broadcast ids): compiled module and instance. */
  | { readonly kind: 'wasm-forget'; readonly ids: readonly string[] };

/** A TaskResult as bytes: `value` and `accumulators` are codec-encoded. */
export interface WireTaskResult {
  /** The encoded result value; absent for shuffle map tasks. */
  readonly value?: Uint8Array;
  /** A shuffle map task's output (its data transferred, its index structured-cloned). */
  readonly mapOutput?: MapOutput;
  readonly blocks: Array<[string, Uint8Array]>;
  readonly accumulators: Uint8Array;
  /** Column sections of SQL batches (plain data: structured-cloned). */
  readonly sections?: TaskSection[];
  /** What the task measured (plain data). */
  readonly metrics?: TaskMetrics;
}

/** Messages from a task thread to the pool. */
export type FromThread =
  | { readonly kind: 'ready' }
  | { readonly kind: 'log'; readonly taskId: number; readonly lines: readonly TaskLogLine[] }
  | {
      readonly kind: 'svc';
      readonly taskId: number;
      readonly reqId: number;
      readonly method: ThreadRequest;
      readonly args: ReadonlyArray<string | number>;
    }
  | {
      readonly kind: 'done';
      readonly taskId: number;
      readonly ok: true;
      readonly result: WireTaskResult;
      /** The thread's V8 heap (total_heap_size) when the task ended, in bytes. */
      readonly heapBytes: number;
    }
  | {
      readonly kind: 'done';
      readonly taskId: number;
      readonly ok: false;
      readonly error: WireError;
      readonly userError: boolean;
      readonly service?: ServiceMethod;
      readonly heapBytes: number;
    }
  | {
      /** A WebAssembly instance's call cells (src/wasm/guest.ts WatchGuard): watched while tasks run. */
      readonly kind: 'wasm-watch';
      readonly cells: SharedArrayBuffer;
      /** The module's broadcast id. */
      readonly id: string;
      readonly module: string;
      readonly calls: readonly string[];
      readonly timeoutMs: number;
      /** The instance's module came compiled from the pool. */
      readonly shared: boolean;
    }
  /** The answer to `wasm-forget`: how many instances the thread dropped. */
  | { readonly kind: 'wasm-forgot'; readonly instances: number };

/**
 * Returns `bytes` in a form that can be transferred: the same view if it is the only view of its
 * (non-shared) ArrayBuffer and `owned` is true, else an exact-size copy. Adds the buffer to `transfer`.
 */
export function transferable(bytes: Uint8Array, transfer: Set<ArrayBuffer>, owned: boolean): Uint8Array {
  const buf = bytes.buffer;
  const whole =
    owned && buf instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === buf.byteLength;
  const out = whole && !transfer.has(buf) ? bytes : new Uint8Array(bytes);
  transfer.add(out.buffer as ArrayBuffer);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Thread entry

/** How to start a task thread: a Worker filename (or eval source) and its options. */
export interface ThreadEntry {
  /** The thread entry file that runs (task-thread.js, or task-thread.ts through tsx). */
  readonly file: URL;
  readonly typescript: boolean;
  /** Arguments for `new Worker(filename, options)`. */
  readonly filename: string | URL;
  readonly options: WorkerOptions;
}

// Loads tsx's ESM hooks in the thread, then the TypeScript entry. tsx's own `--import tsx` only
// registers in worker threads on Node >= 22.22.3 / 24.11.1 (it checks isInternalThread), so on the
// Node 20 this project supports, `execArgv: ['--import', 'tsx']` leaves the thread without a loader.
const TSX_BOOTSTRAP = `'use strict';
const { workerData } = require('node:worker_threads');
import(workerData.tsxApi)
  .then((api) => { api.register(); return import(workerData.entry); })
  .catch((e) => { process.nextTick(() => { throw e; }); });
`;

/** The inherited Node flags minus tsx's loader flags (the bootstrap registers tsx itself). */
function withoutTsxFlags(argv: readonly string[]): string[] {
  const out: string[] = [];
  const loaderFlags = new Set(['--import', '--require', '-r', '--loader', '--experimental-loader']);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (loaderFlags.has(a) && /tsx/.test(argv[i + 1] ?? '')) {
      i++;
      continue;
    }
    if (/^(--import|--require|--loader|--experimental-loader)=.*tsx/.test(a)) continue;
    out.push(a);
  }
  return out;
}

/**
 * Resolves the task thread's entry relative to `base` (this module's URL): `task-thread.js` when it
 * exists (the built dist), else `task-thread.ts` (source, run through tsx, which must be installed).
 */
export function threadEntry(base: string | URL = import.meta.url): ThreadEntry {
  const js = new URL('./task-thread.js', base);
  if (existsSync(fileURLToPath(js))) return { file: js, typescript: false, filename: js, options: {} };
  const ts = new URL('./task-thread.ts', base);
  let tsxApi: string;
  try {
    tsxApi = import.meta.resolve('tsx/esm/api');
  } catch (e) {
    throw new Error(
      `the task thread ${fileURLToPath(ts)} is TypeScript and needs tsx, which cannot be resolved: ${(e as Error).message}`,
    );
  }
  return {
    file: ts,
    typescript: true,
    filename: TSX_BOOTSTRAP,
    options: {
      eval: true,
      execArgv: withoutTsxFlags(process.execArgv),
      workerData: { tsxApi, entry: ts.href },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The pool

interface Job {
  readonly id: number;
  readonly task: Uint8Array;
  readonly services: PoolServices;
  readonly signal: AbortSignal | undefined;
  readonly onLog: ((lines: readonly TaskLogLine[]) => void) | undefined;
  readonly resolve: (o: TaskOutcome) => void;
  readonly cpuBound: boolean;
  onAbort?: () => void;
  timer?: NodeJS.Timeout;
  slot?: Slot;
  settled: boolean;
}

interface Slot {
  readonly worker: Worker;
  state: 'starting' | 'idle' | 'busy' | 'dead';
  job?: Job;
  /** The last uncaught error reported by the thread (explains its exit). */
  lastError?: unknown;
  /** The thread's WebAssembly instances' call cells, watched for calls past their timeout. */
  watches?: WasmWatch[];
  watchTimer?: NodeJS.Timeout;
  /** When the thread last finished a task (the pool's count of finished tasks then); 0 never. */
  finishedAt: number;
}

interface WasmWatch {
  /** [0]: 0 idle, else the running call's index + 1; [1]: the call's sequence number. */
  readonly cells: Int32Array;
  /** The module's broadcast id. */
  readonly id: string;
  readonly module: string;
  readonly calls: readonly string[];
  readonly timeoutMs: number;
  seq?: number;
  since?: number;
}

function failure(
  name: string,
  message: string,
  userError: boolean,
  data?: Record<string, unknown>,
): TaskOutcome {
  return { ok: false, userError, error: data ? { name, message, data } : { name, message } };
}

function describe(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

function asBytes(v: unknown, what: string): Uint8Array {
  if (v instanceof Uint8Array) return v;
  throw new TypeError(`${what} must resolve to a Uint8Array, got ${v === null ? 'null' : typeof v}`);
}

/** Runs encoded tasks on worker threads (see module doc). */
export class TaskPool {
  readonly size: number;
  /** CPU-bound tasks that run at once (see {@link TaskPoolOptions.cpus}; {@link setCpus} changes it). */
  private cpuLimit: number;
  private readonly timeoutMs: number | undefined;
  private readonly entry: ThreadEntry;
  private readonly resourceLimits: ResourceLimits;
  private readonly recycleHeapBytes: number;
  /** prestart() was called: a replaced thread's successor is started at once. */
  private prestarted = false;
  private readonly slots: Slot[] = [];
  /** Every thread not yet exited, including those being terminated. */
  private readonly threads = new Set<Worker>();
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closing: Promise<void> | undefined;
  /** Compiled WebAssembly modules by broadcast id, in least recently used order. */
  private readonly wasmModules = new Map<string, Promise<WasmCompiled>>();
  private readonly wasm = {
    compiled: 0,
    instantiated: 0,
    compiledInThreads: 0,
    dropped: 0,
    instancesDropped: 0,
  };

  constructor(options: TaskPoolOptions) {
    const { threads, taskTimeoutMs } = options;
    if (!Number.isInteger(threads) || threads < 1)
      throw new RangeError(`TaskPool: threads must be a positive integer, got ${String(threads)}`);
    if (taskTimeoutMs !== undefined && !(taskTimeoutMs > 0 && Number.isFinite(taskTimeoutMs)))
      throw new RangeError(`TaskPool: taskTimeoutMs must be a positive number, got ${String(taskTimeoutMs)}`);
    this.size = threads;
    const cpus = options.cpus ?? threads;
    if (!Number.isInteger(cpus) || cpus < 1 || cpus > threads)
      throw new RangeError(
        `TaskPool: cpus must be an integer from 1 to threads (${threads}), got ${String(cpus)}`,
      );
    this.cpuLimit = cpus;
    this.timeoutMs = taskTimeoutMs;
    const recycleMb = options.recycleHeapMb ?? DEFAULT_RECYCLE_HEAP_MB;
    if (!(recycleMb >= 0 && Number.isFinite(recycleMb)))
      throw new RangeError(`TaskPool: recycleHeapMb must be a number >= 0, got ${String(recycleMb)}`);
    this.recycleHeapBytes = recycleMb * 1024 ** 2;
    this.resourceLimits = {
      maxYoungGenerationSizeMb: DEFAULT_YOUNG_GENERATION_MB,
      ...options.resourceLimits,
    };
    this.entry = threadEntry();
  }

  /** Threads running a task now. */
  get busy(): number {
    let n = 0;
    for (const s of this.slots) if (s.state === 'busy') n++;
    return n;
  }

  /** Threads replaced after a task because their heap outgrew `recycleHeapMb`. */
  get recycled(): number {
    return this.recycledCount;
  }
  private recycledCount = 0;

  /** Threads alive now (started, running, idle, or being terminated). */
  get live(): number {
    return this.threads.size;
  }

  /** CPU-bound tasks that may run at once. */
  get cpus(): number {
    return this.cpuLimit;
  }

  /**
   * Changes how many CPU-bound tasks may run at once (clamped to 1..threads); running tasks go on,
   * and queued ones start at once when the limit rose.
   */
  setCpus(cpus: number): void {
    const n = Math.min(this.size, Math.max(1, Math.floor(cpus)));
    if (!Number.isFinite(n) || n === this.cpuLimit) return;
    this.cpuLimit = n;
    this.pump();
  }

  /** Tasks waiting for a free thread. */
  get queued(): number {
    return this.queue.length;
  }

  /** What the pool did with WebAssembly modules so far (a snapshot). */
  get wasmStats(): WasmPoolStats {
    return { ...this.wasm, cached: this.wasmModules.size };
  }

  /**
   * Drops WebAssembly modules (by broadcast id; their module was destroyed on the client): the
   * compiled modules from the cache, and from every thread its compiled module and instance
   * (each thread drops them when it is next idle, and counts them in `instancesDropped`).
   */
  forgetWasm(ids: readonly string[]): void {
    for (const id of ids) if (this.wasmModules.delete(id)) this.wasm.dropped++;
    const gone = new Set(ids);
    for (const slot of this.slots) {
      if (slot.state === 'dead') continue;
      if (slot.watches) slot.watches = slot.watches.filter((w) => !gone.has(w.id));
      this.post(slot, { kind: 'wasm-forget', ids }, new Set());
    }
  }

  /** Runs one encoded TaskDesc on a free thread (FIFO when all are busy). Never rejects. */
  run(task: Uint8Array, services: PoolServices, opts?: RunOptions): Promise<TaskOutcome> {
    if (this.closing)
      return Promise.resolve(failure('TaskPoolClosedError', 'the task pool is closed', false));
    const signal = opts?.signal;
    if (signal?.aborted) return Promise.resolve(cancelled());
    return new Promise<TaskOutcome>((resolve) => {
      const job: Job = {
        id: this.nextId++,
        task,
        services,
        signal,
        onLog: opts?.onLog,
        resolve,
        cpuBound: opts?.cpuBound === true,
        settled: false,
      };
      if (signal) {
        job.onAbort = () => this.abort(job);
        signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.queue.push(job);
      this.pump();
    });
  }

  /**
   * Starts every thread now rather than on first use: a daemon's first tasks (and the first
   * time it runs `threads` tasks at once) then do not wait for a thread to load the runner.
   */
  prestart(): void {
    if (this.closing) return;
    this.prestarted = true;
    while (this.slots.length < this.size) this.spawn();
  }

  /** Terminates all threads; running and queued tasks resolve as worker errors. Idempotent. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    const closed = failure('TaskPoolClosedError', 'the task pool was closed', false);
    for (const job of this.queue.splice(0)) this.settle(job, closed);
    for (const slot of this.slots.splice(0)) {
      slot.state = 'dead';
      if (slot.job) this.settle(slot.job, closed);
      slot.job = undefined;
    }
    this.closing = Promise.all([...this.threads].map((w) => w.terminate().catch(() => 0))).then(() => {});
    return this.closing;
  }

  // --- scheduling

  /** The first queued job that may start now: CPU-bound ones only while fewer than `cpus` run. */
  private nextRunnable(): number {
    if (this.cpuLimit >= this.size) return this.queue.length > 0 ? 0 : -1;
    let cpuBusy = 0;
    for (const s of this.slots) if (s.job?.cpuBound) cpuBusy++;
    return this.queue.findIndex((j) => !j.cpuBound || cpuBusy < this.cpuLimit);
  }

  /**
   * The idle thread that finished a task last: its heap has already grown to what tasks need (and
   * holds their compiled code), so one task after another grows one heap, not each thread's.
   */
  private warmestIdle(): Slot | undefined {
    let best: Slot | undefined;
    for (const s of this.slots) if (s.state === 'idle' && (!best || s.finishedAt > best.finishedAt)) best = s;
    return best;
  }

  /** Tasks finished by this pool's threads, to order them by {@link Slot.finishedAt}. */
  private finishedCount = 0;

  private pump(): void {
    if (this.closing) return;
    for (;;) {
      const slot = this.warmestIdle();
      if (!slot) break;
      const i = this.nextRunnable();
      if (i < 0) break;
      this.assign(slot, this.queue.splice(i, 1)[0]!);
    }
    let starting = 0;
    for (const s of this.slots) if (s.state === 'starting') starting++;
    while (this.nextRunnable() >= 0 && this.queue.length > starting && this.slots.length < this.size) {
      this.spawn();
      starting++;
    }
  }

  private spawn(): void {
    const worker = new Worker(this.entry.filename, {
      ...this.entry.options,
      resourceLimits: this.resourceLimits,
    });
    const slot: Slot = { worker, state: 'starting', finishedAt: 0 };
    this.slots.push(slot);
    this.threads.add(worker);
    worker.on('message', (msg: FromThread) => this.onMessage(slot, msg));
    worker.on('error', (err) => {
      slot.lastError = err;
    });
    worker.on('exit', (code) => {
      this.threads.delete(worker);
      this.onExit(slot, code);
    });
  }

  private assign(slot: Slot, job: Job): void {
    slot.state = 'busy';
    slot.job = job;
    job.slot = slot;
    slot.worker.ref();
    if (this.timeoutMs !== undefined) {
      const ms = this.timeoutMs;
      job.timer = setTimeout(() => {
        this.kill(job, failure('TaskTimeoutError', `task exceeded ${ms} ms`, true, { timeoutMs: ms }));
      }, ms);
    }
    const transfer = new Set<ArrayBuffer>();
    const task = transferable(job.task, transfer, false);
    this.post(slot, { kind: 'run', taskId: job.id, task }, transfer);
    this.watchWasm(slot);
  }

  /**
   * While the slot runs a task, checks its WebAssembly call cells every fifth of the shortest
   * timeout: a call whose sequence number has not moved for its `timeoutMs` gets the thread
   * terminated and the task failed with TaskTimeoutError (the task's fault; the pool carries on).
   */
  private watchWasm(slot: Slot): void {
    const watches = slot.watches;
    if (!watches || watches.length === 0 || slot.watchTimer) return;
    const period = Math.max(1, Math.min(...watches.map((w) => w.timeoutMs)) / 5);
    for (const w of watches) w.since = undefined;
    slot.watchTimer = setInterval(() => {
      const job = slot.job;
      if (slot.state !== 'busy' || !job) {
        clearInterval(slot.watchTimer);
        slot.watchTimer = undefined;
        return;
      }
      const now = performance.now();
      for (const w of watches) {
        const running = Atomics.load(w.cells, 0);
        const seq = Atomics.load(w.cells, 1);
        if (running === 0) w.since = undefined;
        else if (w.since === undefined || w.seq !== seq) {
          w.seq = seq;
          w.since = now;
        } else if (now - w.since >= w.timeoutMs) {
          clearInterval(slot.watchTimer);
          slot.watchTimer = undefined;
          const fn = `${w.module}.${w.calls[running - 1] ?? '?'}`;
          this.kill(
            job,
            failure(
              'TaskTimeoutError',
              `WebAssembly call ${fn} exceeded its timeout of ${w.timeoutMs} ms and was stopped (its task thread was terminated)`,
              true,
              { timeoutMs: w.timeoutMs, fn },
            ),
          );
          return;
        }
      }
    }, period);
    slot.watchTimer.unref();
  }

  private post(slot: Slot, msg: ToThread, transfer: Set<ArrayBuffer>): void {
    try {
      slot.worker.postMessage(msg, [...transfer]);
    } catch (e) {
      // Not cloneable (cannot happen for bytes) or the thread is gone: fail the task, drop the thread.
      if (slot.job)
        this.kill(
          slot.job,
          failure('WorkerThreadDied', `cannot post to the task thread: ${describe(e)}`, false),
        );
    }
  }

  private settle(job: Job, outcome: TaskOutcome): void {
    if (job.settled) return;
    job.settled = true;
    if (job.timer) clearTimeout(job.timer);
    if (job.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
    job.resolve(outcome);
  }

  /** Ends a running (or queued) job with `outcome`; a running job's thread is terminated. */
  private kill(job: Job, outcome: TaskOutcome): void {
    const slot = job.slot;
    if (!slot) {
      const i = this.queue.indexOf(job);
      if (i >= 0) this.queue.splice(i, 1);
    } else if (slot.job === job) {
      this.retire(slot);
      slot.worker.terminate().catch(() => 0);
    }
    this.settle(job, outcome);
    this.pump();
  }

  private abort(job: Job): void {
    this.kill(job, cancelled());
  }

  /** Removes a slot from the pool (its thread is dead or being terminated). */
  private retire(slot: Slot): void {
    slot.state = 'dead';
    if (slot.watchTimer) clearInterval(slot.watchTimer);
    slot.watchTimer = undefined;
    slot.job = undefined;
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
  }

  // --- thread events

  private onMessage(slot: Slot, msg: FromThread): void {
    if (slot.state === 'dead') return;
    switch (msg.kind) {
      case 'ready':
        if (slot.state === 'starting') {
          slot.state = 'idle';
          slot.worker.unref();
          this.pump();
        }
        return;
      case 'wasm-watch':
        this.wasm.instantiated++;
        if (!msg.shared) this.wasm.compiledInThreads++;
        (slot.watches ??= []).push({
          cells: new Int32Array(msg.cells),
          id: msg.id,
          module: msg.module,
          calls: msg.calls,
          timeoutMs: msg.timeoutMs,
        });
        if (slot.state === 'busy') {
          if (slot.watchTimer) clearInterval(slot.watchTimer);
          slot.watchTimer = undefined;
          this.watchWasm(slot);
        }
        return;
      case 'wasm-forgot':
        this.wasm.instancesDropped += msg.instances;
        return;
      case 'log': {
        const job = slot.job;
        if (job && job.id === msg.taskId) {
          try {
            job.onLog?.(msg.lines);
          } catch {
            // A failing log consumer must not fail the task.
          }
        }
        return;
      }
      case 'svc': {
        const job = slot.job;
        if (job && job.id === msg.taskId) void this.serve(slot, job, msg);
        return;
      }
      case 'done': {
        const job = slot.job;
        if (!job || job.id !== msg.taskId) return;
        slot.job = undefined;
        slot.state = 'idle';
        slot.finishedAt = ++this.finishedCount;
        slot.worker.unref();
        this.settle(job, this.outcome(msg));
        // Kept while tasks wait, even for a CPU: the next one runs on a thread that compiled its code.
        if (this.recycleHeapBytes > 0 && msg.heapBytes > this.recycleHeapBytes && this.queue.length === 0)
          this.recycle(slot);
        this.pump();
        return;
      }
    }
  }

  /**
   * Replaces an idle thread whose heap outgrew `recycleHeapMb`: terminating it frees its heap. A
   * prestarted pool starts the successor at once (it loads while other tasks run); otherwise a
   * thread is started when a task needs one.
   */
  private recycle(slot: Slot): void {
    this.recycledCount++;
    this.retire(slot);
    slot.worker.terminate().catch(() => 0);
    if (this.prestarted && !this.closing) this.spawn();
  }

  private outcome(msg: Extract<FromThread, { kind: 'done' }>): TaskOutcome {
    if (!msg.ok) {
      return {
        ok: false,
        error: msg.error,
        userError: msg.userError,
        ...(msg.service !== undefined && { service: msg.service }),
      };
    }
    const r = msg.result;
    try {
      const result: TaskResult = {
        ...(r.value !== undefined && { result: decode(r.value) }),
        ...(r.mapOutput !== undefined && { mapOutput: r.mapOutput }),
        blocks: r.blocks,
        accumulators: decode<Array<[string, unknown]>>(r.accumulators),
        ...(r.sections !== undefined && { sections: r.sections }),
        ...(r.metrics !== undefined && { metrics: r.metrics }),
      };
      return { ok: true, result };
    } catch (e) {
      return { ok: false, error: errorToWire(e), userError: false };
    }
  }

  private onExit(slot: Slot, code: number): void {
    if (slot.state === 'dead') return; // retired on purpose (timeout, abort, close)
    const wasStarting = slot.state === 'starting';
    const job = slot.job;
    this.retire(slot);
    const why =
      slot.lastError !== undefined ? `uncaught ${describe(slot.lastError)}` : `exited with code ${code}`;
    const oom = (slot.lastError as { code?: unknown } | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY';
    if (job && oom) {
      // The task's own allocations hit the thread's heap limit: its fault (counted, retried).
      const mb = this.resourceLimits.maxOldGenerationSizeMb;
      this.settle(
        job,
        failure(
          'TaskOutOfMemoryError',
          mb !== undefined
            ? `the task ran out of memory: a task thread's heap is limited to ${mb} MiB by the worker's --task-heap (MICROSPARK_TASK_HEAP); raise it, or use more partitions so each task holds less`
            : "the task ran out of memory (Node's default heap limit); set the worker's --task-heap (MICROSPARK_TASK_HEAP), or use more partitions so each task holds less",
          true,
          { heapMb: mb ?? 0 },
        ),
      );
    } else if (job) {
      this.settle(
        job,
        failure('WorkerThreadDied', `the task thread died: ${why}`, false, { exitCode: code }),
      );
    } else if (wasStarting) {
      // A thread that cannot start would fail every replacement too: fail what waits instead of looping.
      const dead = failure('WorkerThreadDied', `the task thread failed to start: ${why}`, false, {
        exitCode: code,
      });
      for (const j of this.queue.splice(0)) this.settle(j, dead);
    }
    this.pump();
  }

  /** Answers one service call of the task running on `slot`. Never rejects. */
  private async serve(slot: Slot, job: Job, msg: Extract<FromThread, { kind: 'svc' }>): Promise<void> {
    const transfer = new Set<ArrayBuffer>();
    let reply: ToThread;
    try {
      const s = job.services;
      const [a, b, c] = msg.args;
      let value: Uint8Array | ShuffleRead | WasmCompiled | undefined;
      switch (msg.method) {
        case 'wasmModule':
          value = await this.compiledWasm(a as string, s);
          break;
        case 'readSlice':
          value = asBytes(await s.readSlice(a as string, b as number), 'readSlice');
          break;
        case 'readShuffle': {
          const read = await s.readShuffle(a as string, b as number, c as number);
          if (!Array.isArray((read as Partial<ShuffleRead> | undefined)?.buckets))
            throw new TypeError('readShuffle must resolve to a ShuffleRead (buckets: Uint8Array[])');
          value = {
            ...read,
            buckets: read.buckets.map((x) => transferable(asBytes(x, 'readShuffle'), transfer, false)),
          };
          break;
        }
        case 'readBlock': {
          const block = await s.readBlock(a as string);
          value = block === undefined ? undefined : asBytes(block, 'readBlock');
          break;
        }
        case 'broadcastValue':
          value = s.broadcastBytes
            ? asBytes(await s.broadcastBytes(a as string), 'broadcastBytes')
            : encode(await s.broadcastValue(a as string));
          break;
        default:
          throw new TypeError(`unknown service method ${String(msg.method)}`);
      }
      if (value instanceof Uint8Array) value = transferable(value, transfer, false);
      reply = { kind: 'reply', reqId: msg.reqId, ok: true, value };
    } catch (e) {
      transfer.clear();
      reply = { kind: 'reply', reqId: msg.reqId, ok: false, error: errorToWire(e) };
    }
    if (slot.job !== job) return; // the task ended (timeout, abort, close) while the service ran
    this.post(slot, reply, transfer);
  }

  /**
   * The module of broadcast `id` compiled, once per pool: compiled off the event loop
   * (`WebAssembly.compile`) the first time, then from the cache. A failed fetch is not cached.
   */
  private compiledWasm(id: string, services: PoolServices): Promise<WasmCompiled> {
    let p = this.wasmModules.get(id);
    if (p) {
      this.wasmModules.delete(id);
      this.wasmModules.set(id, p);
      return p;
    }
    p = (async () => {
      const spec = await services.broadcastValue(id);
      if (!isWasmSpec(spec)) throw new InvalidOperationError(`broadcast ${id} is not a WebAssembly module`);
      const module = await WebAssemblyApi.compile(spec.bytes);
      this.wasm.compiled++;
      return module;
    })();
    this.wasmModules.set(id, p);
    p.catch(() => {
      if (this.wasmModules.get(id) === p) this.wasmModules.delete(id);
    });
    while (this.wasmModules.size > WASM_CACHE_SIZE) {
      const oldest = this.wasmModules.keys().next().value as string;
      this.wasmModules.delete(oldest);
    }
    return p;
  }
}

function cancelled(): TaskOutcome {
  return failure('JobCancelledError', 'the task was cancelled', false);
}
