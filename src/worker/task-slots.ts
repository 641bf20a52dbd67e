/**
 * A worker's task slots: where each task on the worker is, and who gets the next free slot.
 *
 * ```
 *   claim sent ──granted──▶ running ──outputs missing──▶ parked ──outputs there──▶ waiting
 *       │                    │  ▲                                                   │
 *    refused                 │  └───────────────── a slot is free (serveWaiters) ───┘
 *       ▼                    ▼
 *     (gone)            reporting ──reported──▶ (gone)
 * ```
 *
 * Only `claiming` and `running` hold one of the worker's slots: a `parked` task waits for map
 * outputs, a `waiting` one (its outputs are there) for a slot, served before new claims, and a
 * `reporting` one has computed and stores and reports its outcome. Pure bookkeeping, no timers.
 */

/** A claimed task: how to stop it, whose it is, and whether it was stopped to hand its lease back. */
export interface RunningTask {
  readonly abort: AbortController;
  /** The client whose action the task serves. */
  readonly owner: string;
  /** The worker is stopping: the task was aborted to hand its lease back to the source. */
  released: boolean;
  /**
   * While the task is parked (or waiting for a slot after): the shuffles it belongs to (those it
   * reads and writes, and those of its job's stages) and when it parked. A client's record that
   * lists none of them says its action ended.
   */
  parkedOn?: { readonly shuffles: readonly string[]; readonly since: number } | undefined;
}

/** The states of a claimed task (see module doc). */
export type ClaimedState = 'running' | 'parked' | 'waiting' | 'reporting';

/** Where a task on this worker is (see module doc); a claim in flight has no task yet. */
export type TaskSlot = { readonly state: 'claiming' } | { state: ClaimedState; readonly task: RunningTask };

/** Counts of {@link TaskSlots.status}: `running` counts every claimed task, `parked` those not running. */
export interface SlotStatus {
  readonly running: number;
  readonly parked: number;
  readonly claiming: number;
}

/** Every task on a worker by job id, and the tasks waiting for a slot, in order (see module doc). */
export class TaskSlots {
  private readonly tasks = new Map<string, TaskSlot>();
  /** Waiting tasks, in order: each takes a slot when one is free. */
  private readonly waiters: Array<() => void> = [];

  /** A worker with `slots` slots. */
  constructor(readonly slots: number) {}

  /** Free slots: not running, not being claimed (a parked, waiting or reporting task holds none); may be negative. */
  get free(): number {
    let held = 0;
    for (const t of this.tasks.values()) if (t.state === 'claiming' || t.state === 'running') held++;
    return this.slots - held;
  }

  /** Tasks on the worker, claims in flight included. */
  get size(): number {
    return this.tasks.size;
  }

  /** Whether a task (or a claim) of this job is on the worker. */
  has(jobId: string): boolean {
    return this.tasks.has(jobId);
  }

  /** A claim of this job was sent: it holds a slot until it is granted or refused. */
  claiming(jobId: string): void {
    this.tasks.set(jobId, { state: 'claiming' });
  }

  /** The claim was granted: the task runs (in the slot its claim held). */
  granted(jobId: string, task: RunningTask): void {
    this.tasks.set(jobId, { state: 'running', task });
  }

  /** Moves a claimed task to `state`; a claim in flight (or an unknown job) is left as it is. */
  move(jobId: string, state: ClaimedState): void {
    const t = this.tasks.get(jobId);
    if (t && t.state !== 'claiming') t.state = state;
  }

  /** The task (or claim) of this job left the worker. */
  end(jobId: string): void {
    this.tasks.delete(jobId);
  }

  /** The claimed task of this job (undefined for a claim in flight or an unknown job). */
  task(jobId: string): RunningTask | undefined {
    const t = this.tasks.get(jobId);
    return t && t.state !== 'claiming' ? t.task : undefined;
  }

  /** The claimed tasks (not claims in flight). */
  *claimed(): Generator<RunningTask> {
    for (const t of this.tasks.values()) if (t.state !== 'claiming') yield t.task;
  }

  /** The claimed tasks with their states (not claims in flight). */
  *states(): Generator<{ readonly state: ClaimedState; readonly task: RunningTask }> {
    for (const t of this.tasks.values()) if (t.state !== 'claiming') yield t;
  }

  /**
   * Puts a parked task in line for a slot (state `waiting`): resolves once {@link serveWaiters}
   * gives it one (it is `running` again), or at once when `signal` aborts (its place is given up).
   * The caller serves the line right after (a slot may be free already).
   */
  waitForSlot(jobId: string, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const waiter = () => {
        signal.removeEventListener('abort', onAbort);
        this.move(jobId, 'running');
        resolve();
      };
      // Aborted while waiting (cancelled, or the worker stops): give up the place in line.
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.move(jobId, 'waiting');
      this.waiters.push(waiter);
    });
  }

  /** Gives free slots to the waiting tasks, first in line first; the slot is taken synchronously. */
  serveWaiters(): void {
    while (this.free > 0 && this.waiters.length > 0) this.waiters.shift()!();
  }

  /** Claimed tasks (all, and those not running) and claims in flight. */
  status(): SlotStatus {
    let running = 0;
    let parked = 0;
    for (const t of this.tasks.values()) {
      if (t.state === 'claiming') continue;
      running++;
      if (t.state !== 'running') parked++;
    }
    return { running, parked, claiming: this.tasks.size - running };
  }
}
