/**
 * The shuffle map stages of a client's running actions, as the client follows them. Their tasks
 * run as map jobs that workers post (src/worker/map-job-source.ts) and report here with
 * `job.event`: each report moves a stage's progress, applies a map task's accumulator updates
 * once per map partition and action, and a map job failing for good fails its action. Which map
 * outputs were reported done is kept per shuffle while an action reads it. Pure bookkeeping: events
 * go out through the hooks, nothing here has a socket or a timer.
 */
import { errorFromWire, TaskFailedError } from '../protocol/errors.js';
import type { Request } from '../protocol/messages.js';
import type { JobSpec } from './backend.js';
import type { ProgressBus, RetryReason, TaskMetrics } from './progress.js';

/** A stage's progress, for the console and for tests (emitted synchronously, in order). */
export interface StageEvent {
  readonly stageId: number;
  readonly kind: 'shuffle-map' | 'result';
  readonly state: 'submitted' | 'completed';
  readonly tasks: number;
  /** For completed shuffle-map stages: the shuffle and the endpoint holding each map output. */
  readonly shuffleId?: string;
  readonly outputs?: readonly (string | undefined)[];
}

/** A shuffle map stage of a running action, as the client follows it through `job.event`. */
export interface MapStage {
  readonly stageId: number;
  readonly shuffleId: string;
  readonly name: string;
  readonly tasks: number;
  /** Map partitions done: the endpoint of the worker holding each output. */
  readonly outputs: Array<string | undefined>;
  /** Map partitions whose accumulator updates were applied (once per partition and action). */
  readonly applied: Set<number>;
  /** The worker sourcing each map partition's job, from its reports (they stop if it dies). */
  readonly sources: Map<number, string>;
  /**
   * What progress last said of each map partition. Two workers may run the same map job (both
   * posted it); the events of the second are not shown twice.
   */
  readonly shown: Map<number, 'running' | 'done'>;
  readonly job: JobSpec;
  /** Its parent stages and operations, for progress listeners (the web UI's DAG). */
  shape: { readonly parentIds?: readonly number[]; readonly operations?: readonly string[] };
  completed: boolean;
  /** Rejects the action (a map task failed for good). */
  readonly fail: (e: Error) => void;
}

/** The counters of map-stage reports (fields of the backend's ClusterCounters). */
export interface MapStageCounters {
  mapOutputsRecomputed: number;
  fetchFailures: number;
  reannounced: number;
}

/** What the stages need of the backend. */
export interface MapStageHooks {
  readonly progress: ProgressBus;
  /** The backend's synchronous `stage` event. */
  readonly stageEvent: (e: StageEvent) => void;
  /** A member's partition server endpoint (undefined: not a live member). */
  readonly endpointOf: (node: string) => string | undefined;
  readonly counters: MapStageCounters;
  /** The failures a map job had when its source reports it failed for good. */
  readonly maxTaskFailures: number;
}

/** Emits a task's progress event on `bus`. */
export function taskEvent(
  bus: ProgressBus,
  desc: { readonly stageId: number; readonly partition: number },
  attempt: number,
  state: 'running' | 'done' | 'retried' | 'failed',
  worker?: string,
  reason?: RetryReason,
  metrics?: TaskMetrics,
): void {
  bus.emit({
    type: 'task',
    stageId: desc.stageId,
    partition: desc.partition,
    attempt,
    state,
    ...(worker !== undefined && { worker }),
    ...(reason !== undefined && { reason }),
    ...(metrics !== undefined && { metrics }),
  });
}

/**
 * Whether a map task's report (its accumulator updates) is still worth waiting for, `waitedMs`
 * after the action's tasks ended: one whose source is known and live (`isLive`) may still come,
 * and one nothing was heard of gets `graceMs` (it may have been computed by another action's
 * stage and never report here).
 */
export function reportAwaited(
  stages: readonly MapStage[],
  waitedMs: number,
  graceMs: number,
  isLive: (node: string) => boolean,
): boolean {
  return stages.some((st) => {
    for (let m = 0; m < st.tasks; m++) {
      if (st.applied.has(m)) continue;
      const source = st.sources.get(m);
      if (source === undefined ? waitedMs < graceMs : isLive(source)) return true;
    }
    return false;
  });
}

/** The map partitions of a stage whose accumulator updates were not applied (no report came). */
export function unreported(st: MapStage): number[] {
  const out: number[] = [];
  for (let m = 0; m < st.tasks; m++) if (!st.applied.has(m)) out.push(m);
  return out;
}

/** The map stages of running actions, by stage id, and the map outputs reported done (see module doc). */
export class MapStages {
  private readonly stages = new Map<number, MapStage>();
  /** Map outputs reported done while an action that reads them runs: shuffle id → map indexes. */
  private readonly done = new Map<string, Set<number>>();

  /** Stages following the hooks' progress bus and counters. */
  constructor(private readonly hooks: MapStageHooks) {}

  /** Follows `st` until {@link remove}d: announces it submitted. */
  add(st: MapStage): void {
    this.stages.set(st.stageId, st);
    this.hooks.stageEvent({ stageId: st.stageId, kind: 'shuffle-map', state: 'submitted', tasks: st.tasks, shuffleId: st.shuffleId }); // prettier-ignore
    this.progressEvent(st, 'submitted');
  }

  /** The stage of this id, while its action runs. */
  get(stageId: number): MapStage | undefined {
    return this.stages.get(stageId);
  }

  /** Stops following a stage (its action ended). */
  remove(stageId: number): void {
    this.stages.delete(stageId);
  }

  /** Map output `map` of `shuffleId` is done (reported, or a task of this client's wrote it). */
  markDone(shuffleId: string, map: number): void {
    let set = this.done.get(shuffleId);
    if (!set) this.done.set(shuffleId, (set = new Set()));
    set.add(map);
  }

  /** The map indexes of `shuffleId` reported done. */
  doneMaps(shuffleId: string): ReadonlySet<number> | undefined {
    return this.done.get(shuffleId);
  }

  /** Forgets what was reported done of these shuffles (every shuffle with `all`). */
  forgetDone(shuffleIds: Iterable<string>, all = false): void {
    for (const id of shuffleIds) this.done.delete(id);
    if (all) this.done.clear();
  }

  /** Ends a stage as completed (once): its progress event and the backend's `stage` event. */
  complete(st: MapStage): void {
    if (st.completed) return;
    st.completed = true;
    this.progressEvent(st, 'completed');
    this.hooks.stageEvent({
      stageId: st.stageId,
      kind: 'shuffle-map',
      state: 'completed',
      tasks: st.tasks,
      shuffleId: st.shuffleId,
      outputs: [...st.outputs],
    });
  }

  /** Ends a stage that did not complete as failed (its action failed). */
  failed(st: MapStage): void {
    if (!st.completed) this.progressEvent(st, 'failed');
  }

  /** A worker reports a map job it is the source of (or a task's lost map output). */
  onJobEvent(ev: Extract<Request, { op: 'job.event' }>): { ok: boolean } {
    const { progress, counters } = this.hooks;
    const st = this.stages.get(ev.stageId);
    const desc = { stageId: ev.stageId, partition: ev.partition };
    if (st && ev.source !== undefined) st.sources.set(ev.partition, ev.source);
    switch (ev.state) {
      case 'posted':
        this.done.get(ev.shuffleId)?.delete(ev.partition);
        if (ev.recomputed) counters.mapOutputsRecomputed++;
        if (st && ev.recomputed) {
          st.outputs[ev.partition] = undefined;
          st.shown.delete(ev.partition);
        }
        break;
      case 'running':
        if (st && st.shown.get(ev.partition) === undefined) {
          st.shown.set(ev.partition, 'running');
          taskEvent(progress, desc, ev.attempt, 'running', ev.worker);
        }
        break;
      case 'done': {
        this.markDone(ev.shuffleId, ev.partition);
        if (!st) break;
        st.outputs[ev.partition] = ev.worker && this.hooks.endpointOf(ev.worker);
        if (!st.applied.has(ev.partition)) {
          st.applied.add(ev.partition);
          st.job.onAccumulators(ev.accumulators ?? []);
        }
        if (st.shown.get(ev.partition) !== 'done') {
          st.shown.set(ev.partition, 'done');
          taskEvent(progress, desc, ev.attempt, 'done', ev.worker, undefined, ev.metrics);
        }
        if (st.outputs.every((o) => o !== undefined)) this.complete(st);
        break;
      }
      case 'retried':
        if (ev.reason === 'fetch-failed') counters.fetchFailures++;
        else if (ev.reason === 'lease-expired' || ev.reason === 'worker-lost') counters.reannounced++;
        if (st?.shown.get(ev.partition) === 'running') st.shown.delete(ev.partition);
        if (st || ev.reason === 'fetch-failed')
          taskEvent(progress, desc, ev.attempt, 'retried', undefined, ev.reason);
        break;
      case 'failed': {
        if (!st) break;
        taskEvent(progress, desc, ev.attempt, 'failed', ev.worker);
        const error = ev.error ?? { name: 'Error', message: 'map task failed' };
        const failures = this.hooks.maxTaskFailures;
        st.fail(
          new TaskFailedError(
            `Task ${ev.partition} in stage ${ev.stageId} failed ${failures} times; ` +
              `most recent failure: ${error.name}: ${error.message}`,
            ev.stageId,
            ev.partition,
            failures,
            errorFromWire(error),
          ),
        );
        break;
      }
    }
    return { ok: true };
  }

  private progressEvent(st: MapStage, state: 'submitted' | 'completed' | 'failed'): void {
    const { progress } = this.hooks;
    progress.emit({
      type: 'stage',
      actionId: progress.actionId,
      stageId: st.stageId,
      kind: 'shuffle-map',
      state,
      name: st.name,
      tasks: st.tasks,
      ...st.shape,
    });
  }
}
