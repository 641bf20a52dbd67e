/**
 * `MicroSpark`: the context a program holds (PySpark's SparkContext). It creates source RDDs,
 * broadcast variables and accumulators, plans each action's jobs and hands them to its backend.
 */
import { SparkSession } from '../sql/session.js';
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { inspect } from 'node:util';
import { encode } from '../protocol/codec.js';
import {
  ContextStoppedError,
  InvalidOperationError,
  JobCancelledError,
  SerializationError,
} from '../protocol/errors.js';
import { Accumulator, type AccumulatorParam } from '../rdd/accumulator.js';
import { Broadcast } from '../rdd/broadcast.js';
import { Compiler } from '../rdd/compile.js';
import { KIND, packEnv } from '../rdd/env.js';
import { computeSplits, groupWholeFiles, listInputFiles, recordSplits } from '../rdd/file-input.js';
import { lib, type LibFn } from '../rdd/functions.js';
import { LIBRARY } from '../rdd/library.js';
import { buildNodes, lineageRdds, prepareLineage } from '../rdd/plan.js';
import { RDD, unionOf, type RDDContext, type RunJobOptions } from '../rdd/rdd.js';
import type { Backend, JobSpec } from './backend.js';
import { InProcessBackend } from './in-process-backend.js';
import { blockId } from '../rdd/lineage.js';
import { deriveCurveKeys } from '../partition-server/curve.js';
import { deriveClusterId, requireSecretOffLoopback, Secret } from '../protocol/cluster-identity.js';
import { MdnsDiscovery } from '../discovery/mdns.js';
import { ClusterBackend } from './cluster-backend.js';
import { WasmModule, prepareWasm, type WasmOptions } from '../wasm/module.js';
import { ContextUi, type EventLogOptions, type UiOptions } from '../ui/index.js';
import type { ProgressListener } from './progress.js';
import { userCall } from '../rdd/call-site.js';
import { spawnWorker, stopWorkers, type LocalWorker } from './local-cluster.js';
import {
  HEARTBEAT_INTERVAL_MS,
  JOB_REANNOUNCE_INTERVAL_MS,
  LEASE_TTL_MS,
  MAX_TASK_FAILURES,
  MIN_MEMORY_BYTES,
  NO_WORKER_GRACE_MS,
  PEER_DEAD_AFTER_MS,
} from '../protocol/defaults.js';

/** Options of {@link MicroSpark.inProcess}. */
export interface InProcessOptions {
  /** Default number of partitions for `parallelize` and `range` (default 2). */
  readonly defaultParallelism?: number;
  /** Attempts per task before the action fails (Spark's `spark.task.maxFailures`, default 4). */
  readonly maxTaskFailures?: number;
  /** The web UI (default on, 127.0.0.1:4040 or the next free port; `false` turns it off). See `sc.uiWebUrl`. */
  readonly ui?: UiOptions | false;
  /** Writes every progress event to a JSON-lines file in `dir` (`microspark history DIR` shows them). */
  readonly eventLog?: EventLogOptions;
  /** The application's name in the UI and the event log (default: the main script's file name). */
  readonly appName?: string;
  /**
   * Write what tasks print with console.* to this process's stderr, each line marked with the
   * worker and the task, `[worker 233b22 task 3.0] …` (default true). False silences it; the
   * `log` progress events fire either way.
   */
  readonly taskLogs?: boolean;
}

/** Options of {@link MicroSpark.connect}. Timeouts default to src/protocol/defaults.ts. */
export interface ConnectOptions extends InProcessOptions {
  /** Static peers: partition server endpoints `host:port` of running workers. */
  readonly peers?: readonly string[];
  /** Cluster name (workers refuse a different one). Default 'default'. */
  readonly cluster?: string;
  /** Wait until this many workers have joined before resolving (default 1). */
  readonly minWorkers?: number;
  readonly heartbeatMs?: number;
  readonly deadAfterMs?: number;
  readonly leaseTtlMs?: number;
  readonly noWorkerGraceMs?: number;
  /** How long to wait for `minWorkers` (default 20 s). */
  readonly joinTimeoutMs?: number;
  /**
   * The cluster secret (the same on every peer; default: the MICROSPARK_SECRET environment
   * variable). With it every connection is authenticated; without it everything stays on 127.0.0.1.
   */
  readonly secret?: string;
  /** Address this client binds (default 127.0.0.1); anything else requires a secret. */
  readonly bind?: string;
  /** Find workers with mDNS as well as `peers` (loopback only without a secret). */
  readonly discovery?: 'mdns';
}

/** Options of {@link MicroSpark.local}. */
export interface LocalOptions extends Omit<ConnectOptions, 'peers' | 'cluster' | 'minWorkers'> {
  /** Worker daemons to spawn on 127.0.0.1 (default 2). */
  readonly workers?: number;
  /**
   * Task slots (threads) per worker. Default: the number of CPUs, as for a worker daemon, so that
   * when one worker dies the others can use the cores it leaves idle.
   */
  readonly slotsPerWorker?: number;
  /**
   * Of each worker's slots, how many run JavaScript (RDD) tasks at once (a worker daemon's
   * `--cpus`). Default: as a daemon's, the machine's CPUs shared among the live workers on it (at
   * least 1 each), followed as workers die: with every slot of every worker computing in
   * JavaScript at once, a 2-CPU machine ran 4 tasks on 2 cores, and each took about 1.8x the CPU
   * time it takes alone (W1's map tasks: 1150 ms against 650 ms). SQL tasks, whose DuckDB
   * fragments also wait for files and peers, may still use every slot.
   */
  readonly cpusPerWorker?: number;
  /**
   * Bytes each worker's block store keeps in memory before it spills blocks to disk (a worker
   * daemon's `--memory`; at least 1 MiB). Default: the daemon's default.
   */
  readonly memoryPerWorker?: number;
  /**
   * How long each worker leaves a task whose stored input another live worker holds to that
   * worker (a worker daemon's `--locality-wait-ms`; Spark's `spark.locality.wait`). Default: the
   * daemon's (LOCALITY_WAIT_MS).
   */
  readonly localityWaitMs?: number;
}

/** The signal of the innermost `withSignal` around the current async context. */
const actionSignal = new AsyncLocalStorage<AbortSignal>();

/**
 * The top-level action the current async context runs in (an action started inside another, such
 * as a sortBy's sampling, belongs to it); its id tags the jobs it submits.
 */
const actionScope = new AsyncLocalStorage<number>();

/** A running top-level action (see `MicroSpark.actions`). */
interface ActionState {
  /** Aborted by `cancelJob` of this action's id. */
  readonly controller: AbortController;
  /** The name a DataFrame action gave itself, used when its first job is submitted. */
  readonly pendingName: string | undefined;
  /** Its id and name, once its first job is submitted. */
  action: { id: number; name: string } | undefined;
}

/** `parallelize` data up to this size travels inside the task instead of being served by the client. */
const INLINE_DATA_MAX_BYTES = 64 * 1024;

function assertPositiveInt(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidOperationError(`${what} must be a positive integer, got ${n}`);
}

/** The entry point: creates RDDs and runs their actions. Stop it with `await sc.stop()`. */
export class MicroSpark implements RDDContext {
  /** Brand: the context cannot be passed to functions that run on workers. */
  readonly [KIND] = 'context';
  readonly defaultParallelism: number;
  private rddIds = 0;
  private stopped = false;
  private activeActions = 0;
  /** Ids of top-level actions (see `actionScope`). */
  private nextScope = 0;
  private checkpointRoot: string | undefined;
  private readonly accumulators = new Map<string, Accumulator<any>>();
  private readonly broadcasts = new Map<string, Broadcast<unknown>>();
  private readonly contextId = randomUUID();
  /** RDDs alive per hosted `parallelize` data id (equal data shares one id); dropped at zero. */
  private readonly sliceUsers = new Map<string, number>();
  private readonly slicesRegistry = new FinalizationRegistry<string>((dataId) => {
    const left = (this.sliceUsers.get(dataId) ?? 1) - 1;
    if (left > 0) this.sliceUsers.set(dataId, left);
    else {
      this.sliceUsers.delete(dataId);
      this.backend.dropSlices(dataId);
    }
  });

  private readonly onStop: Array<() => Promise<void>> = [];
  private cancelAll = new AbortController();
  private nextActionId = 0;
  /** RDDs marked persisted, weakly (an unreachable RDD's blocks are dropped by its finalizer). */
  private readonly persisted = new Map<number, WeakRef<RDD<any>>>();
  /**
   * The running top-level actions, by scope: each has its own id (once its first job is
   * submitted), its name and its own cancel signal, so concurrent actions are told apart.
   */
  private readonly actions = new Map<number, ActionState>();

  private constructor(
    private readonly backend: Backend,
    defaultParallelism: number,
  ) {
    assertPositiveInt(defaultParallelism, 'defaultParallelism');
    // Stage events carry the id of the action whose async scope submits them.
    backend.progress.resolveAction = () => this.actions.get(actionScope.getStore() ?? -1)?.action?.id;
    this.defaultParallelism = defaultParallelism;
  }

  /**
   * A context over a backend built by the caller: the deterministic simulation (src/sim) runs a
   * ClusterBackend on the memory transport. Applications use inProcess, connect or local.
   */
  static overBackend(backend: Backend, defaultParallelism = 2): MicroSpark {
    return new MicroSpark(backend, defaultParallelism);
  }

  /**
   * A context that runs every task in this process, one partition at a time, through the same
   * encode → decode → task runner path that workers use.
   */
  static async inProcess(options: InProcessOptions = {}): Promise<MicroSpark> {
    const maxFailures = options.maxTaskFailures ?? MAX_TASK_FAILURES;
    assertPositiveInt(maxFailures, 'maxTaskFailures');
    const sc = new MicroSpark(
      new InProcessBackend(maxFailures),
      options.defaultParallelism ?? 2,
    ).writeTaskLogs(options.taskLogs);
    return sc.startUi(options, 'in-process');
  }

  /**
   * Joins running workers: HELLO at the static `peers` and wait for `minWorkers` of them. Tasks
   * run on the workers; this process serves its jobs, `parallelize` data and broadcast values.
   */
  static async connect(options: ConnectOptions = {}): Promise<MicroSpark> {
    const cluster = options.cluster ?? 'default';
    const backend = await MicroSpark.startCluster(options, cluster);
    let discovery: MdnsDiscovery | undefined;
    if (options.discovery === 'mdns') {
      const secret = options.secret ?? (process.env.MICROSPARK_SECRET || undefined);
      discovery = MdnsDiscovery.start({
        clusterId: deriveClusterId(cluster, secret ? new Secret(secret) : undefined),
        node: backend.node.identity.node,
        incarnation: backend.node.identity.incarnation,
        authenticated: secret !== undefined,
      });
      discovery.on('hint', (h) => void backend.node.connect(h.endpoint));
      discovery.on('warning', () => undefined);
    }
    try {
      await backend.waitForWorkers(options.minWorkers ?? 1, options.joinTimeoutMs ?? 20_000);
      for (const p of options.peers ?? []) await backend.node.connect(`tcp://${p.replace(/^tcp:\/\//, '')}`);
    } catch (e) {
      await discovery?.stop();
      await backend.stop();
      throw e;
    }
    const sc = new MicroSpark(backend, options.defaultParallelism ?? 2).writeTaskLogs(options.taskLogs);
    sc.clusterName = cluster;
    if (discovery) sc.onStop.push(() => discovery.stop());
    return sc.startUi(options, `cluster ${cluster}`);
  }

  /**
   * Spawns `workers` worker daemons on 127.0.0.1 and connects to them; `sc.stop()` stops them,
   * and they exit by themselves if this process dies.
   */
  static async local(options: LocalOptions = {}): Promise<MicroSpark> {
    const n = options.workers ?? 2;
    assertPositiveInt(n, 'workers');
    const slots = options.slotsPerWorker ?? availableParallelism();
    assertPositiveInt(slots, 'slotsPerWorker');
    const cpus = options.cpusPerWorker;
    if (cpus !== undefined) assertPositiveInt(cpus, 'cpusPerWorker');
    if (cpus !== undefined && cpus > slots)
      throw new InvalidOperationError(
        `cpusPerWorker (${cpus}) must be at most slotsPerWorker (${slots}): a task runs in a slot`,
      );
    const memoryBytes = options.memoryPerWorker;
    if (memoryBytes !== undefined && !(Number.isSafeInteger(memoryBytes) && memoryBytes >= MIN_MEMORY_BYTES))
      throw new InvalidOperationError(
        `memoryPerWorker must be a whole number of bytes of at least ${MIN_MEMORY_BYTES} (1 MiB), got ${memoryBytes}`,
      );
    const wait = options.localityWaitMs;
    if (wait !== undefined && !(Number.isSafeInteger(wait) && wait >= 0 && wait <= 60_000))
      throw new InvalidOperationError(
        `localityWaitMs must be a whole number of milliseconds from 0 to 60000, got ${wait}`,
      );
    const cluster = `local-${randomUUID().slice(0, 8)}`;
    const backend = await MicroSpark.startCluster(options, cluster);
    const spawned: LocalWorker[] = [];
    try {
      const heartbeatMs = options.heartbeatMs ?? HEARTBEAT_INTERVAL_MS;
      for (const w of await Promise.allSettled(
        Array.from({ length: n }, () =>
          spawnWorker({
            clientRpc: backend.node.identity.rpc,
            cluster,
            slots,
            ...(cpus !== undefined && { cpus }),
            ...(memoryBytes !== undefined && { memoryBytes }),
            ...(options.localityWaitMs !== undefined && { localityWaitMs: options.localityWaitMs }),
            heartbeatMs,
            deadAfterMs: options.deadAfterMs ?? PEER_DEAD_AFTER_MS,
            readyTimeoutMs: options.joinTimeoutMs ?? 20_000,
            ...(options.secret !== undefined && { secret: options.secret }),
          }),
        ),
      )) {
        if (w.status === 'fulfilled') spawned.push(w.value);
        else throw w.reason;
      }
      await backend.waitForWorkers(n, options.joinTimeoutMs ?? 20_000);
    } catch (e) {
      await stopWorkers(spawned, 1000);
      await backend.stop();
      throw e;
    }
    const sc = new MicroSpark(backend, options.defaultParallelism ?? 2).writeTaskLogs(options.taskLogs);
    sc.localWorkers = spawned;
    sc.onStop.push(() => stopWorkers(spawned));
    return sc.startUi(options, `local-cluster[${n}]`);
  }

  private static async startCluster(options: ConnectOptions, cluster: string): Promise<ClusterBackend> {
    const secret = options.secret ?? (process.env.MICROSPARK_SECRET || undefined);
    const host = options.bind ?? '127.0.0.1';
    requireSecretOffLoopback(host, secret !== undefined, 'bind');
    const heartbeatMs = options.heartbeatMs ?? HEARTBEAT_INTERVAL_MS;
    const maxTaskFailures = options.maxTaskFailures ?? MAX_TASK_FAILURES;
    assertPositiveInt(maxTaskFailures, 'maxTaskFailures');
    return ClusterBackend.start(
      {
        cluster,
        host,
        heartbeatMs,
        deadAfterMs: options.deadAfterMs ?? PEER_DEAD_AFTER_MS,
        leaseTtlMs: options.leaseTtlMs ?? LEASE_TTL_MS,
        reannounceMs: JOB_REANNOUNCE_INTERVAL_MS,
        noWorkerGraceMs: options.noWorkerGraceMs ?? NO_WORKER_GRACE_MS,
        maxTaskFailures,
        ...(secret && { curve: deriveCurveKeys(secret) }),
      },
      (options.peers ?? []).map((p) => `tcp://${p.replace(/^tcp:\/\//, '')}`),
    );
  }

  private ui: ContextUi | undefined;

  /** Starts the web UI and event log the options ask for (stopping the context if that fails). */
  private async startUi(options: InProcessOptions & { secret?: string }, master: string): Promise<this> {
    const secret = options.secret ?? (process.env.MICROSPARK_SECRET || undefined);
    const properties: Array<[string, string]> = [['microspark.master', master]];
    const add = (prefix: string, o: object) => {
      for (const [k, v] of Object.entries(o)) {
        if (k === 'secret') continue;
        if (typeof v === 'object' && v !== null && !Array.isArray(v)) add(`${prefix}${k}.`, v as object);
        else if (v !== undefined)
          properties.push([`${prefix}${k}`, Array.isArray(v) ? v.join(',') : String(v)]);
      }
    };
    add('microspark.', { ...options, defaultParallelism: this.defaultParallelism });
    if (secret) properties.push(['microspark.secret', '*********(redacted)']);
    properties.sort((a, b) => a[0].localeCompare(b[0]));
    try {
      this.ui = await ContextUi.start(
        {
          name: options.appName ?? (process.argv[1] ? basename(process.argv[1]) : 'microspark'),
          onProgress: (l) => this.onProgress(l),
          workers: () => this.cluster?.workerStatus() ?? [],
          storage: () =>
            [...this.getPersistentRDDs().values()].flatMap((rdd) => {
              const info = this.storageInfo(rdd);
              if (!info) return [];
              const level = rdd.getStorageLevel();
              const sizes = this.partitionSizes(rdd);
              return [
                {
                  id: rdd.id,
                  name: rdd.name() ?? String(rdd),
                  numPartitions: rdd.getNumPartitions(),
                  storageLevel: level.toString(),
                  useMemory: level.useMemory,
                  bytes: info.bytes,
                  partitions: [...this.cacheLocations(rdd)]
                    .sort((a, b) => a[0] - b[0])
                    .map(([index, holder]) => ({
                      index,
                      holder: holder.replace(/^tcp:\/\//, ''),
                      ...(sizes.has(index) && { bytes: sizes.get(index)! }),
                    })),
                },
              ];
            }),
          cancelJob: (jobId) => this.cancelJob(jobId),
          properties,
        },
        options.ui,
        options.eventLog,
        secret,
      );
    } catch (e) {
      await this.stop();
      throw e;
    }
    return this;
  }

  /** The web UI's address (`http://127.0.0.1:4040/`), or null when it is off (PySpark's `sc.uiWebUrl`). */
  get uiWebUrl(): string | null {
    return this.ui?.url ?? null;
  }

  /** The worker daemons `local()` spawned (for tests and the console). */
  localWorkers: readonly LocalWorker[] = [];
  /** The cluster name `connect()` joined (for inspect). */
  private clusterName: string | undefined;

  /** The execution mode's counters and peers, for tests and the console. */
  get cluster(): ClusterBackend | undefined {
    return this.backend instanceof ClusterBackend ? this.backend : undefined;
  }

  /**
   * One line, as spark-shell prints a context: `MicroSpark(local cluster, 2 workers)`,
   * `MicroSpark(in-process, parallelism 2)`, `MicroSpark(cluster lab, 3 workers, stopped)`.
   */
  [inspect.custom](): string {
    const c = this.cluster;
    const n = c?.workerStatus().length ?? 0;
    const workers = `${n} worker${n === 1 ? '' : 's'}`;
    const mode =
      c === undefined
        ? `in-process, parallelism ${this.defaultParallelism}`
        : this.localWorkers.length > 0
          ? `local cluster, ${workers}`
          : `cluster ${this.clusterName ?? 'default'}, ${workers}`;
    return `MicroSpark(${mode}${this.stopped ? ', stopped' : ''})`;
  }

  /** Stops the context (and any workers `local()` spawned): later actions reject. Idempotent. */
  private sessionValue: SparkSession | undefined;

  /** The context's SparkSession: DataFrames and SQL (`sc.session.sql('SELECT 1')`). */
  get session(): SparkSession {
    return (this.sessionValue ??= new SparkSession(this));
  }

  /** Unless `enabled` is false, writes tasks' `log` events to stderr, marked (see `taskLogs`). */
  private writeTaskLogs(enabled: boolean | undefined): this {
    if (enabled === false) return this;
    this.backend.progress.logWriter = (e) => {
      const worker = e.worker === 'driver' ? e.worker : e.worker.slice(0, 6);
      process.stderr.write(`[worker ${worker} task ${e.partition}.${e.attempt}] ${e.line}\n`);
    };
    return this;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.backend.stop();
    for (const f of this.onStop) await f();
    await this.ui?.stop();
  }

  private assertActive(): void {
    if (this.stopped) throw new ContextStoppedError('this MicroSpark context was stopped; create a new one');
  }

  // ---------------------------------------------------------------- RDDContext

  get checkpointDir(): string | undefined {
    return this.checkpointRoot;
  }

  /** @internal */
  newRddId(): number {
    this.assertActive();
    return this.rddIds++;
  }

  /** @internal */
  async withAction<R>(body: () => Promise<R>, name?: string): Promise<R> {
    this.assertActive();
    const outer = actionScope.getStore();
    const scope = outer ?? this.nextScope++;
    // A DataFrame action names itself (`show at job.ts:12`): its jobs run after awaits, where the
    // user's frame is no longer on the stack.
    if (outer === undefined)
      this.actions.set(scope, { controller: new AbortController(), pendingName: name, action: undefined });
    this.activeActions++;
    let failure: unknown;
    try {
      return await (outer === undefined ? actionScope.run(scope, body) : body());
    } catch (e) {
      failure = e;
      throw e;
    } finally {
      const last = --this.activeActions === 0;
      // Each top-level action releases its shuffle outputs when it ends (those another running
      // action reads stay).
      if (outer === undefined) this.backend.endAction(scope, last);
      if (outer === undefined) {
        const action = this.actions.get(scope)?.action;
        this.actions.delete(scope);
        if (action) {
          this.backend.progress.emit({
            type: 'action',
            actionId: action.id,
            name: action.name,
            state:
              failure === undefined
                ? 'succeeded'
                : failure instanceof JobCancelledError
                  ? 'cancelled'
                  : 'failed',
            ...(failure !== undefined && { error: errorLine(failure) }),
          });
        }
      }
    }
  }

  private nextSqlExecution = 0;

  /** @internal A DataFrame query's plan, as a `sql` progress event (only when someone listens). */
  reportSqlPlan(
    plan: string,
    stages: ReadonlyArray<{ id: number; text: string; node: string; inputs: readonly number[] }>,
  ): void {
    if (!this.backend.progress.listening) return;
    const state = this.actions.get(actionScope.getStore() ?? -1);
    this.backend.progress.emit({
      type: 'sql',
      executionId: this.nextSqlExecution++,
      description: state?.pendingName ?? state?.action?.name ?? 'query',
      plan,
      stages: stages.map((s) => ({ ...s, inputs: [...s.inputs] })),
    });
  }

  /**
   * Subscribes to progress events (actions, stages, tasks, workers), delivered synchronously and
   * in order; returns the function that unsubscribes. A listener's exceptions are ignored.
   */
  onProgress(listener: ProgressListener): () => void {
    return this.backend.progress.subscribe(listener);
  }

  /** @internal */
  submitJob(
    rdd: RDD<any>,
    fn: LibFn,
    partitions?: readonly number[],
    opts?: RunJobOptions,
  ): Promise<unknown[]> {
    return this.withAction(async () => {
      const n = rdd.getNumPartitions();
      const parts = partitions ?? Array.from({ length: n }, (_, i) => i);
      for (const p of parts) {
        if (!Number.isInteger(p) || p < 0 || p >= n)
          throw new InvalidOperationError(`partition ${p} out of range [0, ${n})`);
      }
      const { job, signal, lineage } = await this.jobOf(rdd, fn, parts, opts);
      const results = await this.backend.runJob(job, { ...opts, signal });
      for (const r of lineage) {
        if (r.checkpointPending)
          await r.writeCheckpoint(join(this.checkpointRoot!, this.contextId, `rdd-${r.id}`));
        if (r.isLocallyCheckpointed()) r.noteLocalCheckpoint(this.storageInfo(r)?.partitions);
      }
      return results;
    });
  }

  /**
   * @internal Runs the map stages of the shuffles `rdd` reads directly (Spark's submitMapStage),
   * not `rdd`'s own tasks, and resolves with each one's map output bytes, in the order of its
   * shuffle dependencies. Outputs already computed in the action are not recomputed; all are kept
   * until the action ends, for the jobs after it (adaptive SQL planning reads the sizes).
   */
  submitMapStages(rdd: RDD<any>, opts?: RunJobOptions): Promise<number[]> {
    return this.withAction(async () => {
      const { job, signal } = await this.jobOf(rdd, lib('collect'), [], opts);
      const sizes = await this.backend.runMapStages(job, { ...opts, signal });
      return (job.nodes[job.root]?.shuffles ?? []).map((s) => sizes.get(s.id) ?? 0);
    });
  }

  /** The job of `partitions` of `rdd` (its lineage prepared), with the signal that cancels it; starts the action's progress. */
  private async jobOf(
    rdd: RDD<any>,
    fn: LibFn,
    parts: readonly number[],
    opts: RunJobOptions | undefined,
  ): Promise<{ job: JobSpec; signal: AbortSignal; lineage: RDD<any>[] }> {
    // The job stops on the action's own signal, a withSignal() around it, its action's
    // cancelJob(), or cancelAllJobs().
    const state = this.actions.get(actionScope.getStore() ?? -1);
    const signals = [
      this.cancelAll.signal,
      state?.controller.signal,
      actionSignal.getStore(),
      opts?.signal,
    ].filter((s): s is AbortSignal => s !== undefined);
    const signal = AbortSignal.any(signals);
    if (signal.aborted) throw new JobCancelledError('the job was cancelled before it started');
    // Named as the user called it (`sum at job.ts:3`), not by its sink (`fold`).
    const call = this.backend.progress.listening ? userCall() : undefined;
    const actionName = state?.pendingName ?? `${call?.method ?? fn.name} at ${call?.site ?? '<unknown>'}`;
    if (state && !state.action) {
      state.action = { id: this.nextActionId++, name: actionName };
      this.backend.progress.actionId = state.action.id;
      this.backend.progress.emit({
        type: 'action',
        actionId: state.action.id,
        state: 'started',
        name: state.action.name,
      });
    }
    await prepareLineage(rdd);
    const lineage = lineageRdds(rdd);
    const job: JobSpec = {
      nodes: buildNodes(rdd),
      root: rdd.contentId,
      fn,
      name: actionName,
      sites: this.backend.progress.listening
        ? Object.fromEntries(lineage.map((r) => [r.contentId, r.creationSite]))
        : {},
      partitions: parts,
      action: actionScope.getStore() ?? -1,
      onAccumulators: (updates) => {
        for (const [id, v] of updates) this.accumulators.get(id)?.applyUpdate(v);
      },
    };
    return { job, signal, lineage };
  }

  /**
   * Cancels every running action: their jobs are withdrawn, workers stop their tasks, and the
   * actions reject with JobCancelledError. Actions started afterwards run normally.
   */
  cancelAllJobs(): void {
    const old = this.cancelAll;
    this.cancelAll = new AbortController();
    old.abort(new JobCancelledError('cancelled by cancelAllJobs()'));
  }

  /**
   * Cancels one running action, by its id (the `actionId` of progress events, the web UI's job
   * id; Spark's `cancelJob`): its jobs are withdrawn and it rejects with JobCancelledError, other
   * actions run on. Returns whether such an action was running.
   */
  cancelJob(jobId: number): boolean {
    for (const state of this.actions.values()) {
      if (state.action?.id !== jobId) continue;
      state.controller.abort(new JobCancelledError(`job ${jobId} was cancelled`));
      return true;
    }
    return false;
  }

  /**
   * Runs `body` with `signal` applied to every action it starts (also in nested async calls):
   * aborting it cancels them, `await sc.withSignal(AbortSignal.timeout(5000), () => rdd.count())`.
   */
  withSignal<R>(signal: AbortSignal, body: () => Promise<R>): Promise<R> {
    return actionSignal.run(signal, body);
  }

  /** @internal */
  localCompiler(): Promise<Compiler> {
    return Promise.resolve(
      new Compiler(LIBRARY, {
        broadcastValue: (id) => {
          const b = this.broadcasts.get(id);
          if (!b) throw new InvalidOperationError(`broadcast ${id} is unknown`);
          return b.value;
        },
        // Client-side merges (reduce, fold, …) add to the real accumulators, as PySpark's driver does.
        accumulator: (id) => this.accumulators.get(id),
      }),
    );
  }

  /** @internal */
  registerPersisted(rdd: RDD<any>): void {
    this.persisted.set(rdd.id, new WeakRef(rdd));
  }

  /** The RDDs marked persisted and still reachable, by id (Spark's `getPersistentRDDs`). */
  getPersistentRDDs(): Map<number, RDD<any>> {
    const out = new Map<number, RDD<any>>();
    for (const [id, ref] of [...this.persisted]) {
      const rdd = ref.deref();
      if (rdd?.isCached) out.set(id, rdd);
      else this.persisted.delete(id);
    }
    return out;
  }

  /** Where the stored partitions of a persisted RDD are: partition → holder endpoint (or `in-process`). */
  cacheLocations(rdd: RDD<any>): Map<number, string> {
    return this.backend.blockLocations(rdd.contentId);
  }

  /** @internal */
  unpersistRdd(rdd: RDD<any>): void {
    this.backend.dropBlocks(rdd.contentId);
  }

  /**
   * The size of each stored partition of a persisted RDD (partition → bytes): in process from
   * the blocks, on a cluster from the block records of the holders `cacheLocations` names.
   */
  private partitionSizes(rdd: RDD<any>): Map<number, number> {
    if (this.backend instanceof InProcessBackend) return this.backend.blockSizes(rdd.contentId);
    const out = new Map<number, number>();
    const cluster = this.cluster;
    if (!cluster) return out;
    const prefix = blockId(rdd.contentId, 0).slice(0, -1);
    const where = this.cacheLocations(rdd);
    for (const b of cluster.seenRecords().blocks) {
      if (!b.blockId.startsWith(prefix)) continue;
      const p = Number(b.blockId.slice(prefix.length));
      if (where.get(p) === b.holder) out.set(p, b.bytes);
    }
    return out;
  }

  /** @internal */
  storageInfo(rdd: RDD<any>): { partitions: number; bytes: number } | undefined {
    return rdd.isCached ? this.backend.storageInfo(rdd.contentId) : undefined;
  }

  // ---------------------------------------------------------------- sources

  /**
   * Distributes a local collection: slice i of n items into k partitions holds items
   * [floor(i·n/k), floor((i+1)·n/k)). Elements must be msgpack-serializable plain data.
   */
  parallelize<T>(data: Iterable<T>, numSlices?: number): RDD<T> {
    this.assertActive();
    const arr = Array.isArray(data) ? (data as T[]) : [...data];
    const k = numSlices ?? this.defaultParallelism;
    assertPositiveInt(k, 'parallelize: numSlices');
    const n = arr.length;
    const fnAt = findFunction(arr);
    if (fnAt !== undefined) {
      throw new SerializationError(
        `parallelize: the data holds a function at ${fnAt}; data elements travel as msgpack, where a ` +
          'function would arrive as undefined. Functions are shipped as code, not data: pass plain values ' +
          'and give the function to a transformation (rdd.map((x, env) => env.f(x), { f })).',
      );
    }
    const hash = createHash('sha256');
    const slices: Uint8Array[] = [];
    let bytes = 0;
    for (let i = 0; i < k; i++) {
      let enc: Uint8Array;
      try {
        enc = encode(arr.slice(Math.floor((i * n) / k), Math.floor(((i + 1) * n) / k)));
      } catch (e) {
        throw new SerializationError(
          `parallelize: the data cannot be sent to workers: ${(e as Error).message}`,
        );
      }
      slices.push(enc);
      bytes += enc.byteLength;
      hash.update(enc);
    }
    const dataId = hash.digest('base64url').slice(0, 22);
    const inline = bytes <= INLINE_DATA_MAX_BYTES;
    const rdd = new RDD<T>(this, {
      className: 'ParallelCollectionRDD',
      op: 'parallelize',
      method: 'parallelize',
      numPartitions: k,
      identity: ['parallelize', dataId],
      params: inline ? { dataId, inline: slices } : { dataId },
    });
    if (!inline) {
      this.backend.putSlices(dataId, slices);
      this.sliceUsers.set(dataId, (this.sliceUsers.get(dataId) ?? 0) + 1);
      this.slicesRegistry.register(rdd, dataId);
    }
    return rdd;
  }

  /** Numbers from `start` (inclusive) to `end` (exclusive) by `step`; `range(n)` is 0..n-1. No data travels. */
  range(start: number, end?: number, step = 1, numSlices?: number): RDD<number> {
    this.assertActive();
    if (end === undefined) [start, end] = [0, start];
    if (step === 0 || !Number.isFinite(step))
      throw new InvalidOperationError('range: step must be a non-zero number');
    const count = Math.max(0, Math.ceil((end - start) / step));
    const k = numSlices ?? this.defaultParallelism;
    assertPositiveInt(k, 'range: numSlices');
    return new RDD<number>(this, {
      className: 'ParallelCollectionRDD',
      op: 'range',
      method: 'range',
      numPartitions: k,
      params: { start, step, count },
    });
  }

  /**
   * Lines of text files: a file, a directory, a glob or a comma-separated list. Files are split
   * into byte ranges (at most 32 MiB, at least `minPartitions` splits in all) with correct line
   * boundaries; `.gz` files are read whole. Lines end at \n or \r\n.
   */
  textFile(path: string, minPartitions?: number): RDD<string> {
    this.assertActive();
    const files = listInputFiles(path);
    const splits = computeSplits(files, minPartitions ?? this.defaultMinPartitions);
    return new RDD<string>(this, {
      className: 'HadoopRDD',
      op: 'textFile',
      method: 'textFile',
      numPartitions: splits.length,
      identity: ['textFile', files, splits],
      params: { splits },
      name: path,
    });
  }

  /** Whole files as pairs [path, content]. */
  wholeTextFiles(path: string, minPartitions?: number): RDD<[string, string]> {
    return this.wholeFiles(path, minPartitions, false, 'wholeTextFiles', 'WholeTextFileRDD') as RDD<
      [string, string]
    >;
  }

  /** Whole files as pairs [path, bytes]. */
  binaryFiles(path: string, minPartitions?: number): RDD<[string, Buffer]> {
    return this.wholeFiles(path, minPartitions, true, 'binaryFiles', 'BinaryFileRDD') as RDD<
      [string, Buffer]
    >;
  }

  private wholeFiles(
    path: string,
    minPartitions: number | undefined,
    binary: boolean,
    method: string,
    className: string,
  ): RDD<unknown> {
    this.assertActive();
    const files = listInputFiles(path);
    const groups = groupWholeFiles(files, minPartitions ?? this.defaultMinPartitions);
    return new RDD(this, {
      className,
      op: 'wholeFiles',
      method,
      numPartitions: groups.length,
      identity: [method, files, groups],
      params: { groups, binary },
      name: path,
    });
  }

  /** Fixed-length binary records of `recordLength` bytes each. */
  binaryRecords(path: string, recordLength: number): RDD<Buffer> {
    this.assertActive();
    assertPositiveInt(recordLength, 'binaryRecords: recordLength');
    const files = listInputFiles(path);
    const splits = recordSplits(files, recordLength, this.defaultMinPartitions);
    return new RDD<Buffer>(this, {
      className: 'BinaryRecordsRDD',
      op: 'binaryRecords',
      method: 'binaryRecords',
      numPartitions: splits.length,
      identity: ['binaryRecords', files, splits, recordLength],
      params: { splits, recordLength },
      name: path,
    });
  }

  /** An RDD with no partitions and no elements. */
  emptyRDD<T = never>(): RDD<T> {
    this.assertActive();
    return new RDD<T>(this, {
      className: 'EmptyRDD',
      op: 'empty',
      method: 'emptyRDD',
      numPartitions: 0,
      params: {},
    });
  }

  /** The union of several RDDs (partitions concatenated, duplicates kept). */
  union<T>(rdds: readonly RDD<T>[]): RDD<T> {
    this.assertActive();
    if (rdds.length === 0) throw new InvalidOperationError('union: at least one RDD is required');
    return unionOf<T>(this, rdds, 'union');
  }

  /** A broadcast variable: the value is sent to each worker once; pass it in env and read `.value`. */
  broadcast<T>(value: T): Broadcast<T> {
    this.assertActive();
    const id = randomUUID();
    // Packed like an env (Maps survive, RDDs and class instances are refused), but without functions.
    const packed = packEnv(value, 'sc.broadcast');
    if (packed.refs) {
      throw new SerializationError(
        'sc.broadcast: the value holds functions, broadcasts or accumulators; broadcast plain data',
      );
    }
    let bytes: Uint8Array;
    try {
      bytes = encode(packed.v);
    } catch (e) {
      throw new SerializationError(`broadcast: the value cannot be sent to workers: ${(e as Error).message}`);
    }
    this.backend.putBroadcast(id, bytes);
    const b = new Broadcast<T>(id, value, {
      releaseBroadcast: (bid, destroy) => {
        this.backend.dropBroadcast(bid);
        if (destroy) this.broadcasts.delete(bid);
        else this.backend.putBroadcast(bid, bytes);
      },
    });
    this.broadcasts.set(id, b);
    return b;
  }

  /**
   * Loads a WebAssembly module (a file path or its bytes), checks it against the ABI (docs/WASM.md)
   * and the grants in `options`, and returns a handle to pass in env: its bytes reach each worker
   * once, and each task thread instantiates it once. `rdd.map((x, env) => env.m.score(x), { m })`.
   */
  async wasm(pathOrBytes: string | Uint8Array | ArrayBuffer, options?: WasmOptions): Promise<WasmModule> {
    this.assertActive();
    const spec = await prepareWasm(pathOrBytes, options);
    return new WasmModule(spec, this.broadcast(spec));
  }

  /** An accumulator: tasks `.add()` to it through env; read `.value` here. Numbers add by default. */
  accumulator<T>(value: T, param?: AccumulatorParam<T>): Accumulator<T> {
    this.assertActive();
    const acc = new Accumulator<T>(randomUUID(), value, param);
    this.accumulators.set(acc.id, acc);
    return acc;
  }

  /** The directory under which `rdd.checkpoint()` saves partitions (created if missing). */
  setCheckpointDir(dir: string): void {
    const abs = resolve(dir);
    mkdirSync(abs, { recursive: true });
    this.checkpointRoot = abs;
  }

  /** Default minimum number of partitions for textFile and the other file sources: min(defaultParallelism, 2). */
  get defaultMinPartitions(): number {
    return Math.min(this.defaultParallelism, 2);
  }

  /** The checkpoint directory, or null (PySpark's None) when none was set. */
  getCheckpointDir(): string | null {
    return this.checkpointRoot ?? null;
  }

  /**
   * Runs `partitionFunc` over the iterator of each given partition and returns all it yields
   * (PySpark's `sc.runJob`).
   */
  async runJob<T, U, E = undefined>(
    rdd: RDD<T>,
    partitionFunc: (it: Iterator<T> & Iterable<T>, env: E) => Iterable<U>,
    partitions?: readonly number[],
    env?: E,
  ): Promise<U[]> {
    const mapped = rdd.mapPartitions(partitionFunc, env);
    const parts = (await this.submitJob(mapped, lib('collect'), partitions)) as U[][];
    return parts.flat(1);
  }
}

/** The path (`data[3].f`) of the first function inside `data`, or undefined (looks 32 levels deep). */
function findFunction(data: readonly unknown[]): string | undefined {
  const visit = (v: unknown, path: string, depth: number): string | undefined => {
    if (typeof v === 'function') return path;
    if (typeof v !== 'object' || v === null || depth > 32 || ArrayBuffer.isView(v)) return undefined;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const x: unknown = v[i];
        if (typeof x === 'object' || typeof x === 'function') {
          const r = visit(x, `${path}[${i}]`, depth + 1);
          if (r !== undefined) return r;
        }
      }
      return undefined;
    }
    if (v instanceof Map || v instanceof Set) {
      let i = 0;
      for (const x of v instanceof Map ? v.values() : v) {
        const r = visit(x, `${path} entry ${i++}`, depth + 1);
        if (r !== undefined) return r;
      }
      return undefined;
    }
    for (const k of Object.keys(v)) {
      const r = visit((v as Record<string, unknown>)[k], `${path}.${k}`, depth + 1);
      if (r !== undefined) return r;
    }
    return undefined;
  };
  return visit(data, 'data', 0);
}

/** The first line of an error, for progress events: `Name: message`. */
function errorLine(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message.split('\n')[0] ?? ''}`;
  return String(e);
}
