/**
 * A {@link TaskExecutor} that runs tasks on the calling thread, through the same decode → runTask
 * path a task thread takes: for the deterministic simulation and fast unit tests, where a task's
 * code is trusted and threads would make timing nondeterministic. A task cannot be killed here: an
 * aborted task's outcome is reported as cancelled at once and its late result ignored.
 */
import { decode } from '../protocol/codec.js';
import { errorToWire } from '../protocol/errors.js';
import type { TaskDesc } from '../rdd/lineage.js';
import { runTask, type TaskServices } from '../rdd/runner.js';
import { forgetWasm } from '../wasm/instances.js';
import type { PoolServices, RunOptions, TaskOutcome } from './task-pool.js';
import type { TaskExecutor } from './worker-types.js';

/** Runs tasks in this thread (see module doc). */
export class InThreadExecutor implements TaskExecutor {
  /** Tasks started, for tests. */
  started = 0;

  async run(task: Uint8Array, services: PoolServices, opts?: RunOptions): Promise<TaskOutcome> {
    const signal = opts?.signal;
    const cancelled: TaskOutcome = {
      ok: false,
      userError: false,
      error: { name: 'JobCancelledError', message: 'the task was cancelled' },
    };
    if (signal?.aborted) return cancelled;
    this.started++;
    const failedServices = new WeakSet<object>();
    const guard =
      <A extends unknown[], R>(f: (...a: A) => Promise<R>) =>
      async (...a: A): Promise<R> => {
        try {
          return await f(...a);
        } catch (e) {
          if (typeof e === 'object' && e !== null) failedServices.add(e);
          throw e;
        }
      };
    const svc: TaskServices = {
      readSlice: guard(services.readSlice.bind(services)),
      readShuffle: guard(services.readShuffle.bind(services)),
      readBlock: guard(services.readBlock.bind(services)),
      broadcastValue: guard(async (id: string) =>
        services.broadcastBytes ? decode(await services.broadcastBytes(id)) : services.broadcastValue(id),
      ),
    };
    const run = (async (): Promise<TaskOutcome> => {
      try {
        return { ok: true, result: await runTask(decode<TaskDesc>(task), svc) };
      } catch (e) {
        const service = typeof e === 'object' && e !== null && failedServices.has(e);
        return { ok: false, error: errorToWire(e), userError: !service };
      }
    })();
    if (!signal) return run;
    return Promise.race([
      run,
      new Promise<TaskOutcome>((resolve) =>
        signal.addEventListener('abort', () => resolve(cancelled), { once: true }),
      ),
    ]);
  }

  prestart(): void {}

  /** Drops the modules' compiled code and instances (this thread's, shared by its tasks). */
  forgetWasm(ids: readonly string[]): void {
    for (const id of ids) forgetWasm(id);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
