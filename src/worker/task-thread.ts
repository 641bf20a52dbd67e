/**
 * The entry of a task thread, started by {@link TaskPool}. Runs one task at a time: decodes the
 * TaskDesc bytes, runs it with `runTask` and services that are calls to the pool's thread, and
 * posts back the result as bytes (transferred). A task whose code throws is reported as a user
 * error; one whose service call failed (a fetch, not its code) is reported as such.
 *
 * User code runs here, so whatever it does to this thread (process.exit, an uncaught exception in
 * a timer, an endless loop) ends this thread only; the pool replaces it.
 */
import { getHeapStatistics } from 'node:v8';
import { parentPort } from 'node:worker_threads';
import { decode, encode } from '../protocol/codec.js';
import { errorFromWire, errorToWire } from '../protocol/errors.js';
import type { TaskDesc } from '../rdd/lineage.js';
import { runTask, type ShuffleRead, type TaskServices } from '../rdd/runner.js';
import { isWasmSpec } from '../wasm/guest.js';
import { forgetWasm, hasCompiledWasm, provideCompiledWasm, setWasmWatchdog } from '../wasm/instances.js';
import type { WasmCompiled } from '../wasm/wasm-api.js';
import { setTaskWriter, type TaskLogLine } from '../rdd/task-console.js';
import {
  transferable,
  type FromThread,
  type ServiceMethod,
  type ThreadRequest,
  type ToThread,
  type WireTaskResult,
} from './task-pool.js';

if (!parentPort) throw new Error('task-thread must run in a worker thread started by TaskPool');
const port = parentPort;

interface Pending {
  readonly method: ServiceMethod;
  readonly resolve: (value: Uint8Array | ShuffleRead | WasmCompiled | undefined) => void;
  readonly reject: (e: Error) => void;
}

const pending = new Map<number, Pending>();
/** Errors that came from a failed service call, with the method that failed. */
const serviceErrors = new WeakMap<object, ServiceMethod>();
let nextReq = 1;

function post(msg: FromThread, transfer: Set<ArrayBuffer>): void {
  port.postMessage(msg, [...transfer]);
}

function call(taskId: number, method: ThreadRequest, args: Array<string | number>) {
  return new Promise<Uint8Array | ShuffleRead | WasmCompiled | undefined>((resolve, reject) => {
    const reqId = nextReq++;
    // A failed module request is a failed broadcast fetch (the module is a broadcast).
    pending.set(reqId, { method: method === 'wasmModule' ? 'broadcastValue' : method, resolve, reject });
    post({ kind: 'svc', taskId, reqId, method, args }, new Set());
  });
}

/** A broadcast's value; for a WebAssembly module, also gets it compiled from the pool (once per thread). */
async function broadcastValue(taskId: number, id: string): Promise<unknown> {
  const value = decode((await call(taskId, 'broadcastValue', [id])) as Uint8Array);
  if (isWasmSpec(value) && !hasCompiledWasm(id))
    provideCompiledWasm(id, (await call(taskId, 'wasmModule', [id])) as WasmCompiled);
  return value;
}

/** The task's services: each call is a request to the pool's thread. */
function services(taskId: number): TaskServices {
  return {
    readSlice: async (dataId, slice) => (await call(taskId, 'readSlice', [dataId, slice])) as Uint8Array,
    readShuffle: async (shuffleId, part, numMaps) =>
      (await call(taskId, 'readShuffle', [shuffleId, part, numMaps])) as ShuffleRead,
    readBlock: async (id) => (await call(taskId, 'readBlock', [id])) as Uint8Array | undefined,
    broadcastValue: (id) => broadcastValue(taskId, id),
  };
}

/** Lines a task printed not yet posted, flushed in batches (and before its `done`). */
const LOG_BATCH_LINES = 256;
const LOG_FLUSH_MS = 20;
let logTask = 0;
let logLines: TaskLogLine[] = [];
let logTimer: NodeJS.Timeout | undefined;

function flushLogs(): void {
  if (logTimer) clearTimeout(logTimer);
  logTimer = undefined;
  if (logLines.length === 0) return;
  const lines = logLines;
  logLines = [];
  post({ kind: 'log', taskId: logTask, lines }, new Set());
}

/** The writer of task `taskId`'s console lines (set while it runs; after, console.* is the thread's own). */
function logWriter(taskId: number): (l: TaskLogLine) => void {
  return (l) => {
    if (logTask !== taskId) flushLogs();
    logTask = taskId;
    logLines.push(l);
    if (logLines.length >= LOG_BATCH_LINES) flushLogs();
    else logTimer ??= setTimeout(flushLogs, LOG_FLUSH_MS).unref();
  };
}

async function runOne(taskId: number, task: Uint8Array): Promise<void> {
  const transfer = new Set<ArrayBuffer>();
  let msg: FromThread;
  setTaskWriter(logWriter(taskId));
  try {
    const r = await runTask(decode<TaskDesc>(task), services(taskId));
    const result: WireTaskResult = {
      ...('result' in r && { value: transferable(encode(r.result), transfer, true) }),
      ...(r.mapOutput && {
        mapOutput: { data: transferable(r.mapOutput.data, transfer, true), index: r.mapOutput.index },
      }),
      blocks: r.blocks.map(([id, b]) => [id, transferable(b, transfer, true)]),
      accumulators: transferable(encode(r.accumulators), transfer, true),
      ...(r.sections && r.sections.length > 0 && { sections: [...r.sections] }),
      ...(r.metrics && { metrics: r.metrics }),
    };
    msg = { kind: 'done', taskId, ok: true, result, heapBytes: getHeapStatistics().total_heap_size };
  } catch (e) {
    transfer.clear();
    const service = typeof e === 'object' && e !== null ? serviceErrors.get(e) : undefined;
    msg = {
      kind: 'done',
      taskId,
      ok: false,
      error: errorToWire(e),
      userError: service === undefined,
      ...(service !== undefined && { service }),
      heapBytes: getHeapStatistics().total_heap_size,
    };
  }
  setTaskWriter(undefined);
  flushLogs();
  try {
    post(msg, transfer);
  } catch (e) {
    post(
      { kind: 'done', taskId, ok: false, error: errorToWire(e), userError: false, heapBytes: msg.heapBytes },
      new Set(),
    );
  }
}

port.on('message', (msg: ToThread) => {
  if (msg.kind === 'run') {
    void runOne(msg.taskId, msg.task);
    return;
  }
  if (msg.kind === 'wasm-forget') {
    let instances = 0;
    for (const id of msg.ids) if (forgetWasm(id)) instances++;
    post({ kind: 'wasm-forgot', instances }, new Set());
    return;
  }
  const p = pending.get(msg.reqId);
  if (!p) return;
  pending.delete(msg.reqId);
  if (msg.ok) p.resolve(msg.value);
  else {
    const err = errorFromWire(msg.error);
    serviceErrors.set(err, p.method);
    p.reject(err);
  }
});

// WebAssembly calls in this thread are timed by the pool, which terminates the thread on a timeout.
setWasmWatchdog((cells, info) =>
  post(
    {
      kind: 'wasm-watch',
      cells,
      id: info.id,
      module: info.module,
      calls: info.calls,
      timeoutMs: info.timeoutMs,
      shared: info.shared,
    },
    new Set(),
  ),
);

post({ kind: 'ready' }, new Set());
