/**
 * Spark's REST API (`/api/v1/...`) over a {@link StatusStore}: the same routes and field names
 * where the concept is the same (an action is a job, a worker is an executor); what MicroSpark
 * adds (retry reasons, its own end state, the DAG's operations) is in extra fields.
 */
import { rddBlockId } from '../protocol/block-ids.js';
import type { WorkerStatus } from '../client/cluster-backend.js';
import type { RetryReason, TaskMetrics } from '../client/progress.js';
import type { MetricCounters } from '../rdd/runner.js';
import { sameShape, sumOperators, type EngineOperator } from '../sql/exec/profile.js';
import {
  finishedTasks,
  type SqlExecutionRecord,
  type JobRecord,
  type StageRecord,
  type StatusStore,
  type TaskRecord,
} from './status-store.js';

/** What a live worker record adds to an executor (absent in the history server): the client's view. */
export type LiveWorker = WorkerStatus;

/** A persisted RDD as the storage page shows it. */
export interface RddStorage {
  readonly id: number;
  readonly name: string;
  readonly numPartitions: number;
  readonly storageLevel: string;
  readonly useMemory: boolean;
  /** Bytes of all its stored partitions. */
  readonly bytes: number;
  /** Stored partitions: index, holder (`host:port`, or `in-process`) and size when known. */
  readonly partitions: ReadonlyArray<{
    readonly index: number;
    readonly holder: string;
    readonly bytes?: number;
  }>;
}

/** The configuration and versions the environment page shows (never the secret itself). */
export interface EnvironmentInfo {
  readonly runtime: Readonly<Record<string, string>>;
  readonly sparkProperties: ReadonlyArray<readonly [string, string]>;
  readonly systemProperties: ReadonlyArray<readonly [string, string]>;
}

/** One application the server shows: a live context or one read back from an event log. */
export interface UiApplication {
  readonly id: string;
  readonly name: string;
  readonly store: StatusStore;
  /** Undefined while it runs. */
  readonly endTime: () => number | undefined;
  readonly environment: EnvironmentInfo;
  /** Live worker records (live UI only). */
  readonly liveWorkers?: () => readonly LiveWorker[];
  /** Persisted RDDs now (live UI only; the history server shows none). */
  readonly storage?: () => readonly RddStorage[];
  /** Cancels job `jobId` if it is running (only where the UI's kill is enabled). */
  readonly kill?: (jobId: number) => boolean;
}

/** Spark's date format in the REST API: `2015-02-03T16:42:40.000GMT`. */
export function sparkDate(ms: number): string {
  return new Date(ms).toISOString().replace('Z', 'GMT');
}

const opt = <K extends string, V>(k: K, v: V | undefined): Partial<Record<K, V>> =>
  (v === undefined ? {} : { [k]: v }) as Partial<Record<K, V>>;

const retriedTotal = (r: Record<RetryReason, number>): number =>
  r.error + r['lease-expired'] + r['worker-lost'] + r['fetch-failed'];

/** `/applications` entry (Spark's ApplicationInfo). */
export function applicationInfo(app: UiApplication): Record<string, unknown> {
  const end = app.endTime();
  const last = end ?? app.store.lastUpdated;
  return {
    id: app.id,
    name: app.name,
    attempts: [
      {
        startTime: sparkDate(app.store.startTime),
        endTime: sparkDate(end ?? -1),
        lastUpdated: sparkDate(last),
        duration: end === undefined ? 0 : end - app.store.startTime,
        sparkUser: process.env.USER ?? '',
        completed: end !== undefined,
        appSparkVersion: '',
        startTimeEpoch: app.store.startTime,
        endTimeEpoch: end ?? -1,
        lastUpdatedEpoch: last,
      },
    ],
  };
}

/** `/jobs` entry (Spark's JobData) with MicroSpark's `state`, `errorMessage` and retries. */
export function jobData(store: StatusStore, job: JobRecord): Record<string, unknown> {
  const stages = job.stageIds.map((id) => store.stages.get(id)).filter((s) => s !== undefined);
  const sum = (f: (s: StageRecord) => number) => stages.reduce((n, s) => n + f(s), 0);
  const retried = sum((s) => retriedTotal(s.counts.retried));
  return {
    jobId: job.jobId,
    name: job.name,
    description: job.name,
    submissionTime: sparkDate(job.submissionTime),
    ...opt('completionTime', job.completionTime === undefined ? undefined : sparkDate(job.completionTime)),
    stageIds: [...job.stageIds],
    status: job.status,
    numTasks: sum((s) => s.numTasks),
    numActiveTasks: sum((s) => s.counts.active),
    numCompletedTasks: sum((s) => s.counts.complete),
    numSkippedTasks: 0,
    numFailedTasks: sum((s) => s.counts.failed),
    numKilledTasks: sum((s) => s.counts.killed),
    numCompletedIndices: sum((s) => s.numCompletedIndices),
    numActiveStages: stages.filter((s) => s.status === 'ACTIVE').length,
    numCompletedStages: stages.filter((s) => s.status === 'COMPLETE').length,
    numSkippedStages: 0,
    numFailedStages: stages.filter((s) => s.status === 'FAILED').length,
    killedTasksSummary: {},
    // MicroSpark's own fields.
    state: job.state,
    ...opt('errorMessage', job.error),
    numRetriedTasks: retried,
    durationMs: (job.completionTime ?? Date.now()) - job.submissionTime,
  };
}

/** A task (Spark's TaskData) with MicroSpark's `retryReason`. */
export function taskData(t: TaskRecord, hostOf: (executor: string) => string): Record<string, unknown> {
  return {
    taskId: t.taskId,
    index: t.partition,
    attempt: t.attempt,
    partitionId: t.partition,
    launchTime: sparkDate(t.launchTime),
    ...opt('duration', t.endTime === undefined ? undefined : t.endTime - t.launchTime),
    executorId: t.executorId,
    host: hostOf(t.executorId),
    status: t.status,
    taskLocality: 'ANY',
    speculative: false,
    accumulatorUpdates: [],
    ...opt('errorMessage', t.retryReason === undefined ? undefined : `retried: ${t.retryReason}`),
    ...opt('retryReason', t.retryReason),
    ...opt('taskMetrics', t.metrics && sparkTaskMetrics(t.metrics)),
  };
}

/**
 * A task's metrics in Spark's TaskMetrics shape. What MicroSpark does not measure is 0
 * (deserialization, result size, peak memory, remote bytes read to disk; spills are per worker,
 * see {@link executorSummary}); `executorCpuTime` (ns) is there only where it was measured
 * (docs/WEB-UI.md). Shuffle reads are split into local (the task's own worker's store; in process,
 * all of it) and remote bytes and blocks (non-empty buckets). `sqlRows` and `sqlBytes` (of SQL
 * output batches) and `parkedTime` are MicroSpark's own.
 */
export function sparkTaskMetrics(m: TaskMetrics): Record<string, unknown> {
  return {
    executorDeserializeTime: 0,
    executorDeserializeCpuTime: 0,
    executorRunTime: m.executorRunTime,
    ...opt('executorCpuTime', m.executorCpuTime),
    resultSize: 0,
    jvmGcTime: m.gcTime,
    resultSerializationTime: 0,
    memoryBytesSpilled: 0,
    diskBytesSpilled: 0,
    peakExecutionMemory: 0,
    inputMetrics: { bytesRead: m.inputBytes, recordsRead: m.inputRecords },
    outputMetrics: { bytesWritten: m.outputBytes, recordsWritten: m.outputRecords },
    shuffleReadMetrics: {
      remoteBlocksFetched: m.shuffleRemoteBlocksFetched,
      localBlocksFetched: m.shuffleLocalBlocksFetched,
      fetchWaitTime: m.shuffleFetchWaitTime,
      remoteBytesRead: m.shuffleRemoteBytesRead,
      remoteBytesReadToDisk: 0,
      localBytesRead: m.shuffleLocalBytesRead,
      recordsRead: m.shuffleReadRecords,
      readBytes: m.shuffleReadBytes,
    },
    shuffleWriteMetrics: {
      bytesWritten: m.shuffleWriteBytes,
      writeTime: 0,
      recordsWritten: m.shuffleWriteRecords,
    },
    sqlRows: m.sqlRows,
    sqlBytes: m.sqlBytes,
    parkedTime: m.parkedTime,
  };
}

/** A stage attempt (Spark's StageData); `withTasks` adds `tasks` and `executorSummary`. */
export function stageData(store: StatusStore, st: StageRecord, withTasks: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {
    status: st.status,
    stageId: st.stageId,
    attemptId: 0,
    numTasks: st.numTasks,
    numActiveTasks: st.counts.active,
    numCompleteTasks: st.counts.complete,
    numFailedTasks: st.counts.failed,
    numKilledTasks: st.counts.killed,
    numCompletedIndices: st.numCompletedIndices,
    submissionTime: sparkDate(st.submissionTime),
    ...opt('firstTaskLaunchedTime', st.firstTaskLaunchedTime === undefined ? undefined : sparkDate(st.firstTaskLaunchedTime)), // prettier-ignore
    ...opt('completionTime', st.completionTime === undefined ? undefined : sparkDate(st.completionTime)),
    executorRunTime: st.executorRunTime,
    // A sum over the tasks that measured it (MicroSpark's `numCpuMeasuredTasks` in the summary).
    executorCpuTime: st.metrics.executorCpuTime,
    inputBytes: st.metrics.inputBytes,
    inputRecords: st.metrics.inputRecords,
    outputBytes: st.metrics.outputBytes,
    outputRecords: st.metrics.outputRecords,
    shuffleReadBytes: st.metrics.shuffleReadBytes,
    shuffleReadRecords: st.metrics.shuffleReadRecords,
    shuffleLocalBlocksFetched: st.metrics.shuffleLocalBlocksFetched,
    shuffleRemoteBlocksFetched: st.metrics.shuffleRemoteBlocksFetched,
    shuffleLocalBytesRead: st.metrics.shuffleLocalBytesRead,
    shuffleRemoteBytesRead: st.metrics.shuffleRemoteBytesRead,
    shuffleFetchWaitTime: st.metrics.shuffleFetchWaitTime,
    shuffleWriteBytes: st.metrics.shuffleWriteBytes,
    shuffleWriteRecords: st.metrics.shuffleWriteRecords,
    jvmGcTime: st.metrics.gcTime,
    memoryBytesSpilled: 0,
    diskBytesSpilled: 0,
    name: st.name,
    details: st.operations.join('\n'),
    schedulingPool: 'default',
    rddIds: [],
    accumulatorUpdates: [],
    killedTasksSummary: {},
    // MicroSpark's own fields.
    jobId: st.actionId,
    kind: st.kind,
    parentIds: [...st.parentIds],
    operations: [...st.operations],
    numRetriedTasks: retriedTotal(st.counts.retried),
    retryReasons: { ...st.counts.retried },
    numRetainedTasks: st.finished.length + st.running.size,
    numDroppedTasks: st.droppedTasks,
    sqlRows: st.metrics.sqlRows,
    sqlBytes: st.metrics.sqlBytes,
    parkedTime: st.metrics.parkedTime,
  };
  if (withTasks) {
    const host = hostOf(store);
    const tasks: Record<string, unknown> = {};
    for (const t of allTasks(st)) tasks[String(t.taskId)] = taskData(t, host);
    out.tasks = tasks;
    const summary: Record<string, unknown> = {};
    for (const [id, e] of st.executors) {
      summary[id] = {
        taskTime: e.taskTime,
        failedTasks: e.failed,
        succeededTasks: e.succeeded,
        killedTasks: e.killed,
      };
    }
    out.executorSummary = summary;
  }
  return out;
}

/** The retained attempts of a stage, by task id. */
export function allTasks(st: StageRecord): TaskRecord[] {
  return [...finishedTasks(st), ...st.running.values()].sort((a, b) => a.taskId - b.taskId);
}

/** Executor id → `host:port`. */
export function hostOf(store: StatusStore): (executor: string) => string {
  return (id) => store.executors.get(id)?.hostPort ?? id;
}

/** Filters of `taskList`. */
export interface TaskListQuery {
  readonly offset: number;
  readonly length: number;
  /** Spark's: `ID`, `-ID`, `runtime`, `-runtime`; also `index`, `executor`, `launchTime`. */
  readonly sortBy: string;
  readonly status?: string;
  readonly executor?: string;
}

/** `/stages/{id}/{attempt}/taskList`: one page of tasks and how many match in all. */
export function taskList(
  store: StatusStore,
  st: StageRecord,
  q: TaskListQuery,
): { total: number; page: unknown[] } {
  let tasks = allTasks(st);
  if (q.status) tasks = tasks.filter((t) => t.status === q.status!.toUpperCase());
  if (q.executor) tasks = tasks.filter((t) => t.executorId === q.executor);
  const now = Date.now();
  const runtime = (t: TaskRecord) => (t.endTime ?? now) - t.launchTime;
  const desc = q.sortBy.startsWith('-');
  const key = q.sortBy.replace(/^-/, '').toLowerCase();
  const by: (a: TaskRecord, b: TaskRecord) => number =
    key === 'runtime' || key === 'duration'
      ? (a, b) => runtime(a) - runtime(b)
      : key === 'index'
        ? (a, b) => a.partition - b.partition || a.taskId - b.taskId
        : key === 'executor'
          ? (a, b) => a.executorId.localeCompare(b.executorId) || a.taskId - b.taskId
          : key === 'launchtime'
            ? (a, b) => a.launchTime - b.launchTime || a.taskId - b.taskId
            : (a, b) => a.taskId - b.taskId;
  tasks.sort(desc ? (a, b) => by(b, a) : by);
  const host = hostOf(store);
  return {
    total: tasks.length,
    page: tasks.slice(q.offset, q.offset + q.length).map((t) => taskData(t, host)),
  };
}

/** Quantile `q` of sorted `xs` (Spark's: the value at index floor(q·(n−1)) rounded). */
function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return 0;
  return xs[Math.min(xs.length - 1, Math.max(0, Math.round(q * (xs.length - 1))))]!;
}

/**
 * `/stages/{id}/{attempt}/taskSummary` (Spark's TaskMetricDistributions): quantiles of the
 * retained successful attempts' duration and measured metrics (a metric its worker did not send
 * counts as 0; MicroSpark's `numTasks` says how many attempts, `numMeasuredTasks` how many sent them).
 */
export function taskSummary(st: StageRecord, quantiles: readonly number[]): Record<string, unknown> {
  const succeeded = finishedTasks(st).filter((t) => t.status === 'SUCCESS');
  const dist = (f: (t: TaskRecord) => number): number[] => {
    const xs = succeeded.map(f).sort((a, b) => a - b);
    return quantiles.map((q) => quantile(xs, q));
  };
  const m = (k: keyof MetricCounters) => dist((t) => t.metrics?.[k] ?? 0);
  const zeros = quantiles.map(() => 0);
  const measured = succeeded.filter((t) => t.metrics !== undefined).length;
  // CPU time only over the tasks that measured it; absent when none did (not a fake 0).
  const cpu = succeeded.flatMap((t) => (t.metrics?.executorCpuTime === undefined ? [] : [t.metrics.executorCpuTime])); // prettier-ignore
  cpu.sort((a, b) => a - b);
  return {
    quantiles: [...quantiles],
    duration: dist((t) => t.endTime! - t.launchTime),
    executorDeserializeTime: zeros,
    executorDeserializeCpuTime: zeros,
    executorRunTime: dist((t) => t.metrics?.executorRunTime ?? t.endTime! - t.launchTime),
    ...opt('executorCpuTime', cpu.length === 0 ? undefined : quantiles.map((q) => quantile(cpu, q))),
    resultSize: zeros,
    jvmGcTime: m('gcTime'),
    resultSerializationTime: zeros,
    gettingResultTime: zeros,
    schedulerDelay: zeros,
    peakExecutionMemory: zeros,
    memoryBytesSpilled: zeros,
    diskBytesSpilled: zeros,
    inputMetrics: { bytesRead: m('inputBytes'), recordsRead: m('inputRecords') },
    outputMetrics: { bytesWritten: m('outputBytes'), recordsWritten: m('outputRecords') },
    shuffleReadMetrics: {
      readBytes: m('shuffleReadBytes'),
      readRecords: m('shuffleReadRecords'),
      remoteBlocksFetched: m('shuffleRemoteBlocksFetched'),
      localBlocksFetched: m('shuffleLocalBlocksFetched'),
      fetchWaitTime: m('shuffleFetchWaitTime'),
      remoteBytesRead: m('shuffleRemoteBytesRead'),
      remoteBytesReadToDisk: zeros,
      totalBlocksFetched: dist(
        (t) => (t.metrics?.shuffleLocalBlocksFetched ?? 0) + (t.metrics?.shuffleRemoteBlocksFetched ?? 0),
      ),
    },
    shuffleWriteMetrics: {
      writeBytes: m('shuffleWriteBytes'),
      writeRecords: m('shuffleWriteRecords'),
      writeTime: zeros,
    },
    // MicroSpark's own.
    sqlRows: m('sqlRows'),
    sqlBytes: m('sqlBytes'),
    parkedTime: m('parkedTime'),
    numTasks: succeeded.length,
    numMeasuredTasks: measured,
    numCpuMeasuredTasks: cpu.length,
  };
}

/**
 * `/executors` entry (Spark's ExecutorSummary), live worker records merged in when there are any:
 * their blocks, memory and disk use, and spills (MicroSpark's `memoryBytesSpilled`,
 * `diskBytesSpilled`, `numSpills`: a worker's, since a task's outputs are stored after it ends).
 */
export function executorSummary(
  store: StatusStore,
  id: string,
  live: LiveWorker | undefined,
): Record<string, unknown> {
  const ex = store.executors.get(id)!;
  return {
    id,
    hostPort: live ? live.endpoint.replace(/^tcp:\/\//, '') : ex.hostPort,
    isActive: ex.isActive,
    rddBlocks: live?.blocks ?? 0,
    memoryUsed: live?.memoryBytes ?? 0,
    diskUsed: live?.diskBytes ?? 0,
    totalCores: live?.slots ?? (id === 'driver' ? 1 : 0),
    maxTasks: live?.slots ?? (id === 'driver' ? 1 : 0),
    activeTasks: ex.activeTasks,
    failedTasks: ex.failedTasks,
    completedTasks: ex.completedTasks,
    totalTasks: ex.activeTasks + ex.failedTasks + ex.completedTasks,
    totalDuration: ex.totalDuration,
    totalGCTime: ex.metrics.gcTime,
    totalInputBytes: ex.metrics.inputBytes,
    totalShuffleRead: ex.metrics.shuffleReadBytes,
    totalShuffleWrite: ex.metrics.shuffleWriteBytes,
    isBlacklisted: false,
    isExcluded: false,
    maxMemory: 0,
    addTime: sparkDate(ex.addTime),
    ...opt('removeTime', ex.removeTime === undefined ? undefined : sparkDate(ex.removeTime)),
    executorLogs: {},
    // MicroSpark's own fields.
    ...opt('busySlots', live ? live.slots - live.free : undefined),
    ...opt('heartbeatAgeMs', live?.lastSeenMs),
    ...opt('suspectMs', live?.suspectMs),
    // Its block store's spills since it started (live only): blocks are spilled as the bytes they
    // are, so the memory and disk sizes of what spilled are the same number.
    ...opt('memoryBytesSpilled', live?.spilledBytes),
    ...opt('diskBytesSpilled', live?.spilledBytes),
    ...opt('numSpills', live?.spills),
    retryReasons: { ...ex.retried },
    numLogLines: ex.logs.length + ex.droppedLogLines,
  };
}

/** `/executors/{id}/logs` (MicroSpark's): the newest lines the worker's tasks printed, oldest first. */
export function executorLogs(store: StatusStore, id: string): Record<string, unknown> | undefined {
  const ex = store.executors.get(id);
  if (!ex) return undefined;
  return {
    executorId: id,
    numLines: ex.logs.length + ex.droppedLogLines,
    numDroppedLines: ex.droppedLogLines,
    lines: ex.logs.map((l) => ({
      time: sparkDate(l.time),
      timeEpoch: l.time,
      stream: l.stream,
      stageId: l.stageId,
      partition: l.partition,
      attempt: l.attempt,
      line: l.line,
    })),
  };
}

/** `/storage/rdd` entry (Spark's RDDStorageInfo); `withPartitions` adds where each partition is. */
export function rddStorageInfo(r: RddStorage, withPartitions: boolean): Record<string, unknown> {
  const bytes = r.bytes;
  const out: Record<string, unknown> = {
    id: r.id,
    name: r.name,
    numPartitions: r.numPartitions,
    numCachedPartitions: r.partitions.length,
    storageLevel: r.storageLevel,
    memoryUsed: r.useMemory ? bytes : 0,
    diskUsed: r.useMemory ? 0 : bytes,
  };
  if (withPartitions) {
    // Memory or disk as the level says (a worker that spilled a block to disk still counts it in memory).
    const split = (bytes: number) => (r.useMemory ? { memoryUsed: bytes, diskUsed: 0 } : { memoryUsed: 0, diskUsed: bytes }); // prettier-ignore
    const byHolder = new Map<string, { blocks: number; bytes: number }>();
    for (const p of r.partitions) {
      const h = byHolder.get(p.holder) ?? { blocks: 0, bytes: 0 };
      h.blocks++;
      h.bytes += p.bytes ?? 0;
      byHolder.set(p.holder, h);
    }
    out.dataDistribution = [...byHolder].map(([address, h]) => ({
      address,
      ...split(h.bytes),
      numBlocks: h.blocks,
    }));
    out.partitions = r.partitions.map((p) => ({
      blockName: rddBlockId(String(r.id), p.index),
      storageLevel: r.storageLevel,
      ...split(p.bytes ?? 0),
      executors: [p.holder],
      // MicroSpark's own: the partition's index.
      index: p.index,
    }));
  }
  return out;
}

/**
 * `/sql` entry (Spark's ExecutionData): a DataFrame query, its plan, its jobs by state, and per
 * plan stage (Spark's `nodes`, here stages, not operators) the rows and bytes of its output batches
 * and its shuffle write, summed over the stages that ran it; `edges` are the exchanges.
 */
export function sqlExecutionData(store: StatusStore, x: SqlExecutionRecord): Record<string, unknown> {
  const jobs = x.jobIds.map((id) => store.jobs.get(id)).filter((j) => j !== undefined);
  const running = jobs.filter((j) => j.status === 'RUNNING').map((j) => j.jobId);
  const failed = jobs.filter((j) => j.status === 'FAILED').map((j) => j.jobId);
  const succeeded = jobs.filter((j) => j.status === 'SUCCEEDED').map((j) => j.jobId);
  const status =
    running.length > 0 || jobs.length === 0 ? 'RUNNING' : failed.length > 0 ? 'FAILED' : 'COMPLETED';
  const end = Math.max(0, ...jobs.map((j) => j.completionTime ?? Date.now()));
  const stages = x.stages.map((s) => {
    const ran = s.stageIds.map((id) => store.stages.get(id)).filter((st) => st !== undefined);
    const sum = (f: (st: StageRecord) => number) => ran.reduce((n, st) => n + f(st), 0);
    return {
      id: s.id,
      text: s.text,
      stageIds: [...s.stageIds],
      inputs: [...s.inputs],
      numTasks: sum((st) => st.numTasks),
      numCompleteTasks: sum((st) => st.counts.complete),
      rows: sum((st) => st.metrics.sqlRows),
      bytes: sum((st) => st.metrics.sqlBytes),
      shuffleWriteBytes: sum((st) => st.metrics.shuffleWriteBytes),
      inputBytes: sum((st) => st.metrics.inputBytes),
      ...engineOperators(ran),
    };
  });
  const withOperators = stages.map((s) => ({ ...s, operators: planOperators(s, stages) }));
  return {
    id: x.id,
    status,
    description: x.description,
    planDescription: x.plan,
    submissionTime: sparkDate(x.submissionTime),
    duration: (jobs.length > 0 && running.length === 0 ? end : Date.now()) - x.submissionTime,
    runningJobIds: running,
    successJobIds: succeeded,
    failedJobIds: failed,
    nodes: stages.map((s) => ({
      nodeId: s.id,
      nodeName: s.text.split('\n')[0] ?? `Stage ${s.id}`,
      metrics: [
        { name: 'number of output rows', value: String(s.rows) },
        { name: 'output size', value: String(s.bytes) },
        { name: 'shuffle bytes written', value: String(s.shuffleWriteBytes) },
      ],
    })),
    edges: stages.flatMap((s) => s.inputs.map((from) => ({ fromId: from, toId: s.id }))),
    // MicroSpark's own: the plan's stages with the stages that ran them.
    stages: withOperators,
  };
}

/**
 * A plan stage's `engineOperators` (`spark.microspark.sql.operatorMetrics`): DuckDB's operators of
 * its fragment, pre-order with depths, summed over the successful tasks of the stages that ran it
 * (`engineOperatorTasks` of them; a stage whose list has another shape, such as a range exchange's
 * sampling job, is left out). Nothing when no task was profiled.
 */
export function engineOperators(ran: readonly StageRecord[]): {
  engineOperators?: EngineOperator[];
  engineOperatorTasks?: number;
} {
  const profiled = ran.filter((st) => st.operators !== undefined);
  if (profiled.length === 0) return {};
  // The stage that ran the plan stage's own fragment is the last one (a sampling job runs first).
  const main = profiled[profiled.length - 1]!;
  const same = profiled.filter((st) => sameShape(st.operators!, main.operators!));
  return {
    engineOperators: sumOperators(same.map((st) => st.operators!)).operators,
    engineOperatorTasks: same.reduce((n, st) => n + st.operatorTasks, 0),
  };
}

/** The measured numbers of one line of a plan stage's text (see {@link planOperators}). */
export interface PlanOperatorMetrics {
  /** Index of the line in the stage's `text` (0: the stage's exchange or result). */
  readonly line: number;
  /** `exchange` (the stage's output), `shuffle-read` (an input stage's output), `scan` (files). */
  readonly kind: 'exchange' | 'shuffle-read' | 'scan';
  /** Rows and bytes of the SQL batches: the stage's output, or the input stage's it reads. */
  readonly rows?: number;
  readonly bytes?: number;
  readonly shuffleWriteBytes?: number;
  /** The files' bytes a scan read (the stage's input; only when it has a single file scan). */
  readonly inputBytes?: number;
}

/**
 * Per-operator numbers of a plan stage from what its runs recorded (each stage's output batches'
 * `sqlRows`/`sqlBytes`; no per-operator profiling): its exchange (line 0) gets its output; each
 * `ShuffleRead stage N` the output of stage N it reads (a broadcast is read whole by every task);
 * its file scan (`Relation …`) the input bytes, when it is the stage's only one.
 */
export function planOperators(
  s: { readonly text: string; readonly rows: number; readonly bytes: number; readonly shuffleWriteBytes: number; readonly inputBytes: number }, // prettier-ignore
  stages: ReadonlyArray<{ readonly id: number; readonly rows: number; readonly bytes: number }>,
): PlanOperatorMetrics[] {
  const lines = s.text.split('\n');
  const out: PlanOperatorMetrics[] = [
    { line: 0, kind: 'exchange', rows: s.rows, bytes: s.bytes, shuffleWriteBytes: s.shuffleWriteBytes },
  ];
  const scans = lines.flatMap((l, i) => (/(^|[-:] )Relation /.test(l.trimStart()) ? [i] : []));
  lines.forEach((l, i) => {
    const read = /ShuffleRead stage (\d+)/.exec(l);
    const from = read ? stages.find((x) => x.id === Number(read[1])) : undefined;
    if (from) out.push({ line: i, kind: 'shuffle-read', rows: from.rows, bytes: from.bytes });
    else if (scans.length === 1 && scans[0] === i)
      out.push({ line: i, kind: 'scan', inputBytes: s.inputBytes });
  });
  return out;
}

/** `/environment` (Spark's ApplicationEnvironmentInfo). */
export function environmentInfo(env: EnvironmentInfo): Record<string, unknown> {
  return {
    runtime: { ...env.runtime },
    sparkProperties: env.sparkProperties.map((p) => [...p]),
    hadoopProperties: [],
    systemProperties: env.systemProperties.map((p) => [...p]),
    metricsProperties: [],
    classpathEntries: [],
    resourceProfiles: [],
  };
}
