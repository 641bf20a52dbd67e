/**
 * Progress events of a context: what the console and `microspark run` draw. Both execution modes
 * emit the same events, synchronously and in order, through `MicroSpark.onProgress`.
 */
import type { NodeSpec } from '../rdd/lineage.js';
import type { TaskMetrics } from '../rdd/runner.js';

export type { TaskMetrics };

/** Why a task went back to pending. */
export type RetryReason = 'error' | 'lease-expired' | 'worker-lost' | 'fetch-failed';

/** One progress event. */
export type ProgressEvent =
  /** An action (collect, count, saveAsTextFile…) started or ended; `actionId` groups its stages. */
  | {
      readonly type: 'action';
      readonly actionId: number;
      readonly state: 'started' | 'succeeded' | 'failed' | 'cancelled';
      readonly name: string;
      readonly error?: string;
    }
  /** A stage (Spark's sense: the tasks between shuffles) was submitted, completed or failed. */
  | {
      readonly type: 'stage';
      readonly actionId: number;
      readonly stageId: number;
      readonly kind: 'shuffle-map' | 'result';
      readonly state: 'submitted' | 'completed' | 'failed';
      /** Spark-style: `reduceByKey at wordcount.ts:12`. */
      readonly name: string;
      readonly tasks: number;
      /** Stages of this action whose shuffle outputs it reads (Spark's `parentIds`; the web UI's DAG). */
      readonly parentIds?: readonly number[];
      /** The operations it runs, narrow chain in order, its root last (`map at job.ts:9`). */
      readonly operations?: readonly string[];
      /** The content id of the node it computes (a SQL plan stage's, see the `sql` event). */
      readonly node?: string;
    }
  /**
   * A DataFrame query was planned to run (Spark's SQL execution): its physical plan's stages,
   * each with the content id of the node that runs it, so stage events can be matched to them.
   */
  | {
      readonly type: 'sql';
      readonly executionId: number;
      /** The action's name (`show at job.ts:12`). */
      readonly description: string;
      /** The physical plan as `df.explain()` prints it. */
      readonly plan: string;
      readonly stages: readonly SqlPlanStage[];
    }
  /** A task started on a worker, finished, went back to pending (retried) or failed for good. */
  | {
      readonly type: 'task';
      readonly stageId: number;
      readonly partition: number;
      readonly attempt: number;
      readonly state: 'running' | 'done' | 'retried' | 'failed';
      /** The worker node that ran it (cluster mode). */
      readonly worker?: string;
      readonly reason?: RetryReason;
      /** For `done`: what the task measured (bytes, records, shuffle, GC), when its worker sent them. */
      readonly metrics?: TaskMetrics;
    }
  /**
   * A line a task's code printed with console.* (log, info, debug: stdout; warn, error, trace:
   * stderr), attributed to the worker that ran it (`driver` in process) and the task.
   */
  | {
      readonly type: 'log';
      readonly worker: string;
      readonly stageId: number;
      readonly partition: number;
      readonly attempt: number;
      readonly stream: 'stdout' | 'stderr';
      readonly line: string;
    }
  /** A worker joined or was lost (cluster mode). */
  | {
      readonly type: 'worker';
      readonly state: 'joined' | 'lost';
      readonly node: string;
      /** Its partition server, `tcp://host:port`. */
      readonly endpoint: string;
    };

/** A stage of a DataFrame query's physical plan, as the `sql` event carries it. */
export interface SqlPlanStage {
  /** The plan's stage number (`Stage 1` in explain). */
  readonly id: number;
  /** Its part of the plan, as explain prints it. */
  readonly text: string;
  /** The content id of its RDD node. */
  readonly node: string;
  /** Plan stages whose exchanges it reads. */
  readonly inputs: readonly number[];
}

/** What identifies a stage in its events. */
export interface StageInfo {
  readonly stageId: number;
  readonly kind: 'shuffle-map' | 'result';
  readonly name: string;
  readonly tasks: number;
  readonly parentIds?: readonly number[];
  readonly operations?: readonly string[];
  readonly node?: string;
}

/**
 * The shape of the stage that computes `rootId`: the operations of its narrow chain (parents
 * first, the root last; a persisted node fully stored ends the walk) and the stages of the
 * shuffles it reads, by `stageOf` (those it does not know are left out).
 */
export function stageShape(
  nodes: Readonly<Record<string, NodeSpec>>,
  rootId: string,
  sites: Readonly<Record<string, string>>,
  stageOf: (shuffleId: string) => number | undefined,
  fullyStored: (nodeId: string, numPartitions: number) => boolean,
): { parentIds: number[]; operations: string[]; node: string } {
  const operations: string[] = [];
  const parentIds = new Set<number>();
  const seen = new Set<string>();
  const visit = (id: string): void => {
    if (seen.has(id)) return;
    seen.add(id);
    const node = nodes[id];
    if (!node) return;
    const stored = node.persist === true && id !== rootId && fullyStored(id, node.n);
    if (!stored) {
      for (const p of node.parents) visit(p);
      for (const s of node.shuffles) {
        const st = stageOf(s.id);
        if (st !== undefined) parentIds.add(st);
      }
    }
    operations.push(sites[id] ?? node.op);
  };
  visit(rootId);
  return { parentIds: [...parentIds].sort((a, b) => a - b), operations, node: rootId };
}

/** A progress listener. Exceptions it throws are swallowed, never break a job. */
export type ProgressListener = (e: ProgressEvent) => void;

/** Where backends publish progress; delivers to every listener, isolating their failures. */
export class ProgressBus {
  private readonly listeners = new Set<ProgressListener>();
  private lastActionId = -1;
  /**
   * The action of the current async context (set by the context, which keeps each concurrent
   * action's id in its async scope); undefined outside any action.
   */
  resolveAction: (() => number | undefined) | undefined;
  /** The action each submitted stage belongs to, until it completes or fails. */
  private readonly stageActions = new Map<number, number>();

  /**
   * The id stamped on stage events: the action of the current async context, else the last one
   * set. A stage's completed or failed event carries its submitted event's id, wherever it is emitted.
   */
  get actionId(): number {
    return this.resolveAction?.() ?? this.lastActionId;
  }
  set actionId(id: number) {
    this.lastActionId = id;
  }
  /**
   * Receives `log` events besides the listeners (the context's stderr writer); not a listener,
   * so it does not make {@link listening} true.
   */
  logWriter: ((e: Extract<ProgressEvent, { type: 'log' }>) => void) | undefined;

  /** Whether anyone listens (naming stages costs a stack trace per job: skipped when nobody does). */
  get listening(): boolean {
    return this.listeners.size > 0;
  }

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: ProgressListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Emits the stage's submitted event, runs `body`, then its completed or failed event. */
  async stage<R>(s: StageInfo, body: () => Promise<R>): Promise<R> {
    const actionId = this.actionId;
    this.emit({ type: 'stage', actionId, ...s, state: 'submitted' });
    try {
      const r = await body();
      this.emit({ type: 'stage', actionId, ...s, state: 'completed' });
      return r;
    } catch (e) {
      this.emit({ type: 'stage', actionId, ...s, state: 'failed' });
      throw e;
    }
  }

  emit(e: ProgressEvent): void {
    if (e.type === 'stage') {
      if (e.state === 'submitted') this.stageActions.set(e.stageId, e.actionId);
      else {
        // Emitted where the action's scope is unknown (a worker's report): the submitted event's id.
        const actionId = this.stageActions.get(e.stageId);
        this.stageActions.delete(e.stageId);
        if (actionId !== undefined && actionId !== e.actionId) e = { ...e, actionId };
      }
    }
    if (e.type === 'log' && this.logWriter) {
      try {
        this.logWriter(e);
      } catch {
        // A closed stderr must not fail the job.
      }
    }
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // A drawing bug must not fail the job.
      }
    }
  }
}
