/**
 * The UI's state of one application (a context): actions (Spark's jobs), stages, tasks and
 * workers (executors), built only from progress events, each stamped with the time it was seen.
 * The live UI and the history server feed it the same way (live events, or an event log's lines).
 * Memory is bounded: finished tasks are kept per stage up to `retainedTasks` (Spark's
 * `spark.ui.retainedTasks`), finished stages and actions up to `retainedStages`/`retainedJobs`;
 * the counts stay exact whatever was dropped.
 */
import type { ProgressEvent, RetryReason, TaskMetrics } from '../client/progress.js';
import { zeroMetrics, type MetricCounters } from '../rdd/runner.js';
import { sumOperators, type EngineOperator } from '../sql/exec/profile.js';

/** Sums of task metrics (a stage's, an executor's): every field of {@link TaskMetrics}. */
export type MetricTotals = MetricCounters;

function addMetrics(into: MetricTotals, m: TaskMetrics): void {
  for (const k of Object.keys(into) as Array<keyof MetricTotals>) {
    const v = m[k];
    if (typeof v === 'number' && Number.isFinite(v)) into[k] += v;
  }
}

/** Limits of a store (Spark's `spark.ui.retained*`). */
export interface RetentionLimits {
  /** Finished tasks kept per stage (default 1000); counts stay exact beyond it. */
  readonly retainedTasks?: number;
  /** Finished stages kept (default 1000). */
  readonly retainedStages?: number;
  /** Finished actions kept (default 1000). */
  readonly retainedJobs?: number;
  /** Recent task log lines kept per worker (default 100). */
  readonly retainedLogLines?: number;
}

/** A line a task printed, as the executors page shows it. */
export interface LogLineRecord {
  readonly time: number;
  readonly stream: 'stdout' | 'stderr';
  readonly stageId: number;
  readonly partition: number;
  readonly attempt: number;
  readonly line: string;
}

/** A task attempt as the UI knows it. */
export interface TaskRecord {
  readonly taskId: number;
  readonly stageId: number;
  readonly partition: number;
  readonly attempt: number;
  readonly executorId: string;
  readonly launchTime: number;
  endTime: number | undefined;
  status: 'RUNNING' | 'SUCCESS' | 'FAILED' | 'KILLED';
  /** Why it went back to pending (retried), when it did. */
  retryReason: RetryReason | undefined;
  /** What the task measured (successful attempts whose worker sent them). */
  metrics?: TaskMetrics;
}

/** Task counts of a stage, exact whatever was retained. */
export interface TaskCounts {
  active: number;
  complete: number;
  failed: number;
  killed: number;
  /** Attempts that went back to pending (each also counts in `failed`), by reason. */
  retried: Record<RetryReason, number>;
}

/** A stage as the UI knows it. */
export interface StageRecord {
  readonly stageId: number;
  readonly actionId: number;
  readonly kind: 'shuffle-map' | 'result';
  readonly name: string;
  readonly numTasks: number;
  /** Stages whose shuffle outputs it reads (Spark's `parentIds`). */
  readonly parentIds: readonly number[];
  /** The operations it runs, the root last (`map at job.ts:3`). */
  readonly operations: readonly string[];
  status: 'ACTIVE' | 'COMPLETE' | 'FAILED';
  readonly submissionTime: number;
  firstTaskLaunchedTime: number | undefined;
  completionTime: number | undefined;
  readonly counts: TaskCounts;
  /** One bit per partition: finished successfully at least once. */
  readonly doneIndices: Uint8Array;
  numCompletedIndices: number;
  /** Sum of finished attempts' durations (Spark's executorRunTime). */
  executorRunTime: number;
  /** Sums of the successful attempts' measured metrics (exact whatever was retained). */
  readonly metrics: MetricTotals;
  /**
   * DuckDB's operators of the successful attempts' fragments, summed position by position
   * (`spark.microspark.sql.operatorMetrics`); undefined when no attempt sent any.
   */
  operators: EngineOperator[] | undefined;
  /** Successful attempts summed into `operators`; `operatorsSkipped` sent a list of another shape. */
  operatorTasks: number;
  operatorsSkipped: number;
  /** Running attempts by partition. */
  readonly running: Map<number, TaskRecord>;
  /** Finished attempts, at most `retainedTasks`, as a ring starting at `ringHead` (see {@link finishedTasks}). */
  readonly finished: TaskRecord[];
  ringHead: number;
  /** Finished attempts dropped to stay within `retainedTasks`. */
  droppedTasks: number;
  /** Per executor: attempts and time in this stage. */
  readonly executors: Map<string, { taskTime: number; succeeded: number; failed: number; killed: number }>;
}

/** An action (Spark's job). */
export interface JobRecord {
  readonly jobId: number;
  readonly name: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  /** MicroSpark's own end state: `cancelled` is a FAILED job in Spark's terms. */
  state: 'running' | 'succeeded' | 'failed' | 'cancelled';
  readonly submissionTime: number;
  completionTime: number | undefined;
  readonly stageIds: number[];
  error: string | undefined;
}

/** A worker (Spark's executor) as progress events tell it. */
export interface ExecutorRecord {
  readonly id: string;
  hostPort: string;
  isActive: boolean;
  readonly addTime: number;
  removeTime: number | undefined;
  activeTasks: number;
  completedTasks: number;
  failedTasks: number;
  totalDuration: number;
  /** Sums of its successful attempts' measured metrics. */
  readonly metrics: MetricTotals;
  /** Attempts that went back to pending while on it, by reason. */
  readonly retried: Record<RetryReason, number>;
  /** The newest lines its tasks printed, oldest first, at most `retainedLogLines`. */
  readonly logs: LogLineRecord[];
  /** Lines dropped to stay within `retainedLogLines`; `logs.length + droppedLogLines` were printed. */
  droppedLogLines: number;
}

/** A stage of a DataFrame query's physical plan and the stages (UI) that ran it. */
export interface SqlPlanStageRecord {
  readonly id: number;
  readonly text: string;
  readonly node: string;
  readonly inputs: readonly number[];
  /** Stages whose node is this plan stage's (usually one; more if the query ran again). */
  readonly stageIds: number[];
}

/** A DataFrame query (Spark's SQL execution). */
export interface SqlExecutionRecord {
  readonly id: number;
  readonly description: string;
  readonly plan: string;
  readonly submissionTime: number;
  readonly stages: readonly SqlPlanStageRecord[];
  /** The actions its stages ran in. */
  readonly jobIds: number[];
}

/** The executor id of tasks run in this process (in-process mode), as Spark names the driver. */
export const DRIVER_EXECUTOR = 'driver';

const noRetries = (): Record<RetryReason, number> => ({
  error: 0,
  'lease-expired': 0,
  'worker-lost': 0,
  'fetch-failed': 0,
});

/** The state of one application, updated by {@link StatusStore.apply}. */
export class StatusStore {
  readonly jobs = new Map<number, JobRecord>();
  readonly stages = new Map<number, StageRecord>();
  readonly executors = new Map<string, ExecutorRecord>();
  /** DataFrame queries, at most `retainedJobs`. */
  readonly sql = new Map<number, SqlExecutionRecord>();
  /** Node content id → the plan stage of the newest query that runs it. */
  private readonly sqlNodes = new Map<string, { exec: SqlExecutionRecord; stage: SqlPlanStageRecord }>();
  private nextTaskId = 0;
  /** Bumped on every change (the live page's update stream sends it). */
  version = 0;
  /** The last event's time. */
  lastUpdated: number;
  private readonly retainedTasks: number;
  private readonly retainedStages: number;
  private readonly retainedJobs: number;
  private readonly retainedLogLines: number;

  constructor(
    readonly startTime: number,
    limits: RetentionLimits = {},
  ) {
    this.lastUpdated = startTime;
    this.retainedTasks = limits.retainedTasks ?? 1000;
    this.retainedStages = limits.retainedStages ?? 1000;
    this.retainedJobs = limits.retainedJobs ?? 1000;
    this.retainedLogLines = limits.retainedLogLines ?? 100;
  }

  /** Applies one progress event seen at `time` (ms since the epoch). */
  apply(e: ProgressEvent, time: number): void {
    this.version++;
    this.lastUpdated = time;
    switch (e.type) {
      case 'action':
        return this.onAction(e, time);
      case 'stage':
        return this.onStage(e, time);
      case 'task':
        return this.onTask(e, time);
      case 'worker':
        return this.onWorker(e, time);
      case 'log':
        return this.onLog(e, time);
      case 'sql':
        return this.onSql(e, time);
    }
  }

  private onAction(e: Extract<ProgressEvent, { type: 'action' }>, time: number): void {
    if (e.state === 'started') {
      this.jobs.set(e.actionId, {
        jobId: e.actionId,
        name: e.name,
        status: 'RUNNING',
        state: 'running',
        submissionTime: time,
        completionTime: undefined,
        stageIds: [],
        error: undefined,
      });
      return;
    }
    const job = this.jobs.get(e.actionId);
    if (!job) return;
    job.state = e.state;
    job.status = e.state === 'succeeded' ? 'SUCCEEDED' : 'FAILED';
    job.completionTime = time;
    job.error = e.error;
    this.trimJobs();
  }

  private onStage(e: Extract<ProgressEvent, { type: 'stage' }>, time: number): void {
    if (e.state === 'submitted') {
      const st: StageRecord = {
        stageId: e.stageId,
        actionId: e.actionId,
        kind: e.kind,
        name: e.name,
        numTasks: e.tasks,
        parentIds: e.parentIds ?? [],
        operations: e.operations ?? [],
        status: 'ACTIVE',
        submissionTime: time,
        firstTaskLaunchedTime: undefined,
        completionTime: undefined,
        counts: { active: 0, complete: 0, failed: 0, killed: 0, retried: noRetries() },
        doneIndices: new Uint8Array(Math.ceil(e.tasks / 8)),
        numCompletedIndices: 0,
        executorRunTime: 0,
        metrics: zeroMetrics(),
        operators: undefined,
        operatorTasks: 0,
        operatorsSkipped: 0,
        running: new Map(),
        finished: [],
        ringHead: 0,
        droppedTasks: 0,
        executors: new Map(),
      };
      this.stages.set(e.stageId, st);
      this.jobs.get(e.actionId)?.stageIds.push(e.stageId);
      const planned = e.node === undefined ? undefined : this.sqlNodes.get(e.node);
      if (planned) {
        planned.stage.stageIds.push(e.stageId);
        if (!planned.exec.jobIds.includes(e.actionId)) planned.exec.jobIds.push(e.actionId);
      }
      return;
    }
    const st = this.stages.get(e.stageId);
    if (!st) return;
    st.status = e.state === 'completed' ? 'COMPLETE' : 'FAILED';
    st.completionTime = time;
    if (e.state === 'failed') {
      // Attempts still running when a stage fails are stopped (Spark's KILLED).
      for (const t of [...st.running.values()]) this.finish(st, t, 'KILLED', time);
    }
    this.trimStages();
  }

  private onTask(e: Extract<ProgressEvent, { type: 'task' }>, time: number): void {
    const st = this.stages.get(e.stageId);
    if (!st) return;
    if (e.state === 'running') {
      const previous = st.running.get(e.partition);
      // A second `running` for a partition without an end: the first attempt was superseded.
      if (previous) this.finish(st, previous, 'KILLED', time);
      const t: TaskRecord = {
        taskId: this.nextTaskId++,
        stageId: e.stageId,
        partition: e.partition,
        attempt: e.attempt,
        executorId: e.worker ?? DRIVER_EXECUTOR,
        launchTime: time,
        endTime: undefined,
        status: 'RUNNING',
        retryReason: undefined,
      };
      st.running.set(e.partition, t);
      st.counts.active++;
      st.firstTaskLaunchedTime ??= time;
      const ex = this.executor(t.executorId, time);
      ex.activeTasks++;
      return;
    }
    let t = st.running.get(e.partition);
    if (!t) {
      // An end without a start seen (a retry noticed before the attempt reported running).
      t = {
        taskId: this.nextTaskId++,
        stageId: e.stageId,
        partition: e.partition,
        attempt: e.attempt,
        executorId: e.worker ?? DRIVER_EXECUTOR,
        launchTime: time,
        endTime: undefined,
        status: 'RUNNING',
        retryReason: undefined,
      };
      st.running.set(e.partition, t);
      st.counts.active++;
      this.executor(t.executorId, time).activeTasks++;
    }
    if (e.state === 'done') {
      if (e.metrics) {
        // The operators are summed per stage, not kept per retained task.
        const { sqlOperators, ...counters } = e.metrics;
        t.metrics = counters;
        addMetrics(st.metrics, counters);
        addMetrics(this.executor(t.executorId, time).metrics, counters);
        if (sqlOperators && sqlOperators.length > 0) {
          const summed = sumOperators(st.operators ? [st.operators, sqlOperators] : [sqlOperators]);
          st.operators = summed.operators;
          if (summed.skipped > 0) st.operatorsSkipped++;
          else st.operatorTasks++;
        }
      }
      this.finish(st, t, 'SUCCESS', time);
    } else {
      if (e.state === 'retried') {
        t.retryReason = e.reason ?? 'error';
        st.counts.retried[t.retryReason]++;
        this.executor(t.executorId, time).retried[t.retryReason]++;
      }
      this.finish(st, t, 'FAILED', time);
    }
  }

  private finish(st: StageRecord, t: TaskRecord, status: TaskRecord['status'], time: number): void {
    st.running.delete(t.partition);
    st.counts.active--;
    t.status = status;
    t.endTime = time;
    const duration = time - t.launchTime;
    st.executorRunTime += duration;
    const ex = this.executor(t.executorId, time);
    ex.activeTasks--;
    ex.totalDuration += duration;
    let perEx = st.executors.get(t.executorId);
    if (!perEx) st.executors.set(t.executorId, (perEx = { taskTime: 0, succeeded: 0, failed: 0, killed: 0 }));
    perEx.taskTime += duration;
    if (status === 'SUCCESS') {
      st.counts.complete++;
      ex.completedTasks++;
      perEx.succeeded++;
      const byte = t.partition >> 3;
      const bit = 1 << (t.partition & 7);
      if (byte < st.doneIndices.length && (st.doneIndices[byte]! & bit) === 0) {
        st.doneIndices[byte]! |= bit;
        st.numCompletedIndices++;
      }
    } else if (status === 'FAILED') {
      st.counts.failed++;
      ex.failedTasks++;
      perEx.failed++;
    } else {
      st.counts.killed++;
      perEx.killed++;
    }
    // A ring of the newest `retainedTasks` finished attempts: O(1) per task, exact bound.
    if (st.finished.length < this.retainedTasks) st.finished.push(t);
    else if (this.retainedTasks > 0) {
      st.finished[st.ringHead] = t;
      st.ringHead = (st.ringHead + 1) % this.retainedTasks;
      st.droppedTasks++;
    } else st.droppedTasks++;
  }

  private executor(id: string, time: number): ExecutorRecord {
    let ex = this.executors.get(id);
    if (!ex) {
      ex = {
        id,
        hostPort: id === DRIVER_EXECUTOR ? 'in-process' : id,
        isActive: true,
        addTime: time,
        removeTime: undefined,
        activeTasks: 0,
        completedTasks: 0,
        failedTasks: 0,
        totalDuration: 0,
        metrics: zeroMetrics(),
        retried: noRetries(),
        logs: [],
        droppedLogLines: 0,
      };
      this.executors.set(id, ex);
    }
    return ex;
  }

  private onSql(e: Extract<ProgressEvent, { type: 'sql' }>, time: number): void {
    const exec: SqlExecutionRecord = {
      id: e.executionId,
      description: e.description,
      plan: e.plan,
      submissionTime: time,
      stages: e.stages.map((s) => ({
        id: s.id,
        text: s.text,
        node: s.node,
        inputs: [...s.inputs],
        stageIds: [],
      })),
      jobIds: [],
    };
    this.sql.set(exec.id, exec);
    for (const stage of exec.stages) if (stage.node) this.sqlNodes.set(stage.node, { exec, stage });
    while (this.sql.size > this.retainedJobs) {
      const oldest = this.sql.values().next().value!;
      this.sql.delete(oldest.id);
      for (const s of oldest.stages)
        if (this.sqlNodes.get(s.node)?.exec === oldest) this.sqlNodes.delete(s.node);
    }
  }

  private onLog(e: Extract<ProgressEvent, { type: 'log' }>, time: number): void {
    const ex = this.executor(e.worker, time);
    const { stream, stageId, partition, attempt, line } = e;
    ex.logs.push({ time, stream, stageId, partition, attempt, line });
    // A small bound: shifting it costs less than keeping a ring's head.
    while (ex.logs.length > this.retainedLogLines) {
      ex.logs.shift();
      ex.droppedLogLines++;
    }
  }

  private onWorker(e: Extract<ProgressEvent, { type: 'worker' }>, time: number): void {
    const hostPort = e.endpoint.replace(/^tcp:\/\//, '');
    if (e.state === 'joined') {
      const ex = this.executor(e.node, time);
      ex.hostPort = hostPort;
      ex.isActive = true;
      ex.removeTime = undefined;
      return;
    }
    const ex = this.executors.get(e.node);
    if (!ex) return;
    ex.hostPort = hostPort;
    ex.isActive = false;
    ex.removeTime = time;
  }

  private trimStages(): void {
    if (this.stages.size <= this.retainedStages) return;
    for (const [id, st] of this.stages) {
      if (this.stages.size <= this.retainedStages) break;
      if (st.status !== 'ACTIVE') this.stages.delete(id);
    }
  }

  private trimJobs(): void {
    if (this.jobs.size <= this.retainedJobs) return;
    for (const [id, job] of this.jobs) {
      if (this.jobs.size <= this.retainedJobs) break;
      if (job.status !== 'RUNNING') this.jobs.delete(id);
    }
  }

  /** The action running now, if any (the newest one still running). */
  runningJob(): JobRecord | undefined {
    let out: JobRecord | undefined;
    for (const j of this.jobs.values()) if (j.status === 'RUNNING') out = j;
    return out;
  }
}

/** The retained finished attempts of a stage, oldest first. */
export function finishedTasks(st: StageRecord): TaskRecord[] {
  return st.ringHead === 0
    ? st.finished.slice()
    : [...st.finished.slice(st.ringHead), ...st.finished.slice(0, st.ringHead)];
}
