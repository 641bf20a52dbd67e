/**
 * Runs jobs on worker daemons. The client is the *source* of its jobs: it posts them in its own
 * job table, announces `job` records, grants leases at its partition server, and hands out the
 * task (a msgpack TaskDesc) with each grant. Workers run tasks, keep shuffle outputs and
 * persisted blocks, and report completion here.
 *
 * The client posts only the partitions an action wants (the result stage). A worker whose task
 * needs shuffle map outputs that nobody announced becomes the source of those map jobs itself and
 * parks the task (src/worker/map-job-source.ts); it reports them here with `job.event`, which
 * gives the client the progress of every stage, the map tasks' accumulator updates (applied once
 * per map partition and action) and their failures. Stage ids are assigned here, parents first,
 * and travel in each task (`stageIds`). Failure paths of the client's own jobs:
 * - a lease that expires, or whose holder stops heartbeating: the job is re-posted with the next
 *   attempt and announced again; a straggler's late completion is refused (counted);
 * - user code that throws: re-posted until maxTaskFailures, then the action rejects; a map job
 *   that fails for good (reported by its worker source) rejects the action at once;
 * - lost map outputs are recomputed by the workers that need them (bounded per task);
 * - no live worker for the grace period: the action rejects with NoWorkersError.
 */
import { rddPrefix, shufflePrefix } from '../protocol/block-ids.js';
import { randomUUID } from 'node:crypto';
import { decode, encode } from '../protocol/codec.js';
import { FETCH_CHUNK_BYTES } from '../protocol/defaults.js';
import {
  errorFromWire,
  InvalidOperationError,
  JobCancelledError,
  NoWorkersError,
  TaskFailedError,
} from '../protocol/errors.js';
import type { PeerIdentity, Record as WireRecord, Request } from '../protocol/messages.js';
import { EventEmitter } from 'node:events';
import type { JobTableCounters } from '../core/job-table.js';
import { JobSource } from '../core/job-source.js';
import { sleep, systemClock, type Clock, type Timer } from '../core/clock.js';
import { PeerNode } from '../partition-server/peer-node.js';
import type { Transport } from '../partition-server/transport.js';
import type { CurveKeys } from '../partition-server/curve.js';
import type { ShuffleSpec, TaskDesc } from '../rdd/lineage.js';
import { broadcastIds, usesAccumulators } from '../rdd/runner.js';
import type { RunJobOptions } from '../rdd/rdd.js';
import type { Backend, JobSpec } from './backend.js';
import { ProgressBus, stageShape, type TaskMetrics } from './progress.js';
import { MapStages, reportAwaited, taskEvent, unreported, type StageEvent } from './map-stages.js';
import { HostedData } from './hosted-data.js';
import { mapTask, planStages } from './stage-plan.js';
import { RecordDirectory, type SeenRecords, type WorkerStatus } from './record-directory.js';

/** Timeouts and limits of the cluster mode (defaults in src/protocol/defaults.ts). */
export interface ClusterBackendOptions {
  readonly cluster: string;
  readonly host: string;
  readonly heartbeatMs: number;
  readonly deadAfterMs: number;
  /** How liveness is decided (PeerNodeOptions.membership; default `swim`). */
  readonly membership?: 'mesh' | 'swim';
  readonly leaseTtlMs: number;
  readonly reannounceMs: number;
  readonly noWorkerGraceMs: number;
  readonly maxTaskFailures: number;
  /** Cluster CURVE keys (from the secret); required to bind anything but loopback. */
  readonly curve?: CurveKeys;
  /** The network (default: ZeroMQ). */
  readonly transport?: Transport;
  /** Time for every timer of the client (default: the system clock). */
  readonly clock?: Clock;
  /** Node id and incarnation (default: random, now). */
  readonly id?: { readonly node: string; readonly incarnation: number };
}

/** What a task's source remembers about it. */
interface PendingTask {
  readonly owner: string;
  readonly partition: number;
  /** The live worker holding most of what the task reads (RecordDirectory.preferredHolder). */
  readonly prefer?: string;
  readonly desc: TaskDesc;
  readonly job: JobSpec;
  readonly resolve: (r: TaskDone) => void;
  readonly reject: (e: Error) => void;
}

/** A task's completion as its source hears it: its result, the worker holding its outputs, its metrics. */
interface TaskDone {
  readonly result: unknown;
  readonly worker: string;
  readonly metrics?: TaskMetrics;
}

export type { StageEvent, SeenRecords, WorkerStatus };

/** Counters, for tests and the console. */
export interface ClusterCounters {
  tasksPosted: number;
  tasksCompleted: number;
  reannounced: number;
  fetchFailures: number;
  mapOutputsRecomputed: number;
  /** Running tasks that workers were told to stop (the action was cancelled or had failed). */
  tasksCancelled: number;
  /** Task results too large for a message, fetched from the worker's block store. */
  resultBlocksFetched: number;
  /** Leases of this client's jobs handed back by a stopping worker (re-posted at once). */
  leasesReleased: number;
  /** Claims refused because the claiming worker was not a member (not known, or declared dead). */
  claimsFromNonMembers: number;
  /** Map partitions run again because their report (their accumulator updates) never came. */
  mapReportsRecomputed: number;
}

/** The cluster execution mode (see module doc). */
export class ClusterBackend extends EventEmitter<{ stage: [StageEvent] }> implements Backend {
  readonly counters: ClusterCounters = {
    tasksPosted: 0,
    tasksCompleted: 0,
    reannounced: 0,
    fetchFailures: 0,
    mapOutputsRecomputed: 0,
    tasksCancelled: 0,
    resultBlocksFetched: 0,
    leasesReleased: 0,
    claimsFromNonMembers: 0,
    mapReportsRecomputed: 0,
  };
  readonly progress = new ProgressBus();
  private readonly source: JobSource<PendingTask>;
  /** The clock every timer of the client runs on. */
  readonly clock: Clock;
  /** Parallelized slices and broadcast values hosted for the tasks. */
  private readonly hosted = new HostedData();
  /** The map stages of running actions (their tasks run as jobs posted by workers). */
  private readonly mapStages: MapStages;
  /**
   * Shuffles each running top-level action reads (action id → shuffle ids): their outputs are
   * dropped on the workers when it ends, unless another running action reads them too.
   */
  private readonly actionShuffles = new Map<number, Set<string>>();
  /** What other peers announced: workers, jobs, blocks, and where persisted partitions are. */
  private readonly directory: RecordDirectory;
  private readonly timers: Timer[] = [];
  private lastWorkerSeen: number;
  private nextStage = 0;
  private stopped = false;

  private constructor(
    readonly node: PeerNode,
    private readonly options: ClusterBackendOptions,
  ) {
    super();
    this.clock = options.clock ?? systemClock;
    this.lastWorkerSeen = this.clock.now();
    const endpointOf = (n: string) => node.peer(n)?.identity.rpc;
    this.directory = new RecordDirectory(endpointOf);
    this.mapStages = new MapStages({
      progress: this.progress,
      stageEvent: (e) => this.emit('stage', e),
      endpointOf,
      counters: this.counters,
      maxTaskFailures: options.maxTaskFailures,
    });
    this.source = new JobSource<PendingTask>(
      {
        identity: node.identity,
        publish: (r) => node.publish(r),
        isMember: (w) => node.peer(w) !== undefined,
        cancel: (holder, jobIds) => {
          this.counters.tasksCancelled += jobIds.length;
          node.request(holder, { op: 'cancel', jobIds: [...jobIds] }, 2000).catch(() => undefined);
        },
      },
      {
        leaseTtlMs: options.leaseTtlMs,
        maxTaskFailures: options.maxTaskFailures,
        reannounceMs: options.reannounceMs,
        clock: this.clock,
      },
      {
        task: (pending, attempt) =>
          encode({
            ...pending.desc,
            attempt,
            blocks: this.directory.blocksFor(pending.desc),
            poster: this.firstGrant(pending.desc.stageId),
          } satisfies TaskDesc),
        notMember: () => this.counters.claimsFromNonMembers++,
        granted: (_id, pending, attempt, worker) =>
          taskEvent(this.progress, pending.desc, attempt, 'running', worker),
        completed: (_id, pending, attempt, req) => {
          this.counters.tasksCompleted++;
          taskEvent(this.progress, pending.desc, attempt, 'done', req.worker, undefined, req.metrics);
          for (const [id, bytes] of req.blocks ?? []) this.directory.stored(id, req.worker, bytes);
          pending.job.onAccumulators(req.accumulators);
          pending.resolve({
            result: req.result ? decode(req.result) : undefined,
            worker: req.worker,
            ...(req.metrics && { metrics: req.metrics }),
          });
        },
        reposted: (_id, pending, attempt, reason, end) => {
          if (end?.kind === 'worker-stopping') this.counters.leasesReleased++;
          else if (reason === 'lease-expired' || reason === 'worker-lost') this.counters.reannounced++;
          taskEvent(this.progress, pending.desc, attempt, 'retried', undefined, reason);
        },
        failed: (_id, pending, attempt, error, failures) => {
          taskEvent(this.progress, pending.desc, attempt, 'failed');
          pending.reject(
            new TaskFailedError(
              `Task ${pending.desc.partition} in stage ${pending.desc.stageId} failed ${failures} times; ` +
                `most recent failure: ${error.name}: ${error.message}`,
              pending.desc.stageId,
              pending.desc.partition,
              failures,
              errorFromWire(error),
            ),
          );
        },
      },
    );
  }

  /** The job table's counters (grants, refused and stale completions, re-posts, failures). */
  get jobCounters(): Readonly<JobTableCounters> {
    return this.source.tableCounters;
  }

  /** Jobs currently leased: job id → worker node id. */
  leases(): Map<string, string> {
    return this.source.leases();
  }

  /** Jobs this client is the source of, in any state (for invariants and tests). */
  get sourcedJobs(): number {
    return this.source.size;
  }

  /** Starts the client's peer node; `peers` are partition server endpoints to HELLO. */
  static async start(options: ClusterBackendOptions, peers: readonly string[] = []): Promise<ClusterBackend> {
    const ref: { backend?: ClusterBackend } = {};
    let seq = 0;
    const node = await PeerNode.start({
      role: 'client',
      cluster: options.cluster,
      host: options.host,
      heartbeatMs: options.heartbeatMs,
      deadAfterMs: options.deadAfterMs,
      ...(options.membership && { membership: options.membership }),
      ...(options.curve && { curve: options.curve }),
      ...(options.transport && { transport: options.transport }),
      ...(options.clock && { clock: options.clock }),
      ...(options.id && { id: options.id }),
      handler: (req) => {
        if (!ref.backend) return Promise.reject(new InvalidOperationError('client is starting'));
        const backend = ref.backend;
        return new Promise((resolve) => resolve(backend.answer(req)));
      },
      ownRecords: () => (ref.backend ? ref.backend.ownRecords(seq++) : []),
    });
    const backend = new ClusterBackend(node, options);
    ref.backend = backend;
    node.on('record', (r) => backend.onRecord(r));
    node.on('peer-down', (p) => backend.onPeerDown(p));
    node.on('peer-up', (p) => {
      if (p.role !== 'worker') return;
      backend.lastWorkerSeen = backend.clock.now();
      backend.progress.emit({ type: 'worker', state: 'joined', node: p.node, endpoint: p.rpc });
    });
    backend.timers.push(
      backend.clock.setInterval(() => backend.checkWorkers(), Math.min(options.heartbeatMs, 1000)),
    );
    await Promise.all(peers.map((p) => node.keepConnected(p)));
    return backend;
  }

  /** Live workers. */
  workers(): PeerIdentity[] {
    return this.node
      .peers()
      .map((p) => p.identity)
      .filter((p) => p.role === 'worker');
  }

  /** Resolves when at least `n` workers are known, or rejects after `timeoutMs`. */
  async waitForWorkers(n: number, timeoutMs: number): Promise<void> {
    const t0 = this.clock.now();
    while (this.workers().length < n) {
      if (this.clock.now() - t0 > timeoutMs) {
        throw new NoWorkersError(
          `only ${this.workers().length} of ${n} workers joined within ${timeoutMs} ms`,
        );
      }
      await sleep(this.clock, 20);
    }
  }

  // ------------------------------------------------------------------ Backend

  async runJob(job: JobSpec, opts?: RunJobOptions): Promise<unknown[]> {
    return (await this.runStages(job, opts, 'result')).results;
  }

  async runMapStages(job: JobSpec, opts?: RunJobOptions): Promise<Map<string, number>> {
    return (await this.runStages(job, opts, 'map')).sizes;
  }

  /**
   * Runs a job's map stages and then either its result tasks (`result`) or, as Spark's
   * submitMapStage, the map tasks of the shuffles its root reads directly (`map`; posted here,
   * their sizes measured from the tasks' shuffle write metrics, else from the announced blocks).
   */
  private async runStages(
    job: JobSpec,
    opts: RunJobOptions | undefined,
    mode: 'result' | 'map',
  ): Promise<{ results: unknown[]; sizes: Map<string, number> }> {
    for (const id of broadcastIds(job.nodes)) {
      if (!this.hosted.broadcast(id))
        throw new InvalidOperationError(`broadcast ${id} was destroyed and can no longer be used`);
    }
    // The stages, parents first: every shuffle the result stage needs, transitively.
    const fullyStored = (nodeId: string, n: number) => this.directory.fullyStored(nodeId, n);
    let reads = this.actionShuffles.get(job.action);
    if (!reads) this.actionShuffles.set(job.action, (reads = new Set()));
    let failStage!: (e: Error) => void;
    const stageFailed = new Promise<never>((_, reject) => (failStage = reject));
    stageFailed.catch(() => undefined);
    const plan = planStages(job, mode, {
      fullyStored,
      available: (s) => this.mapOutputsAvailable(s),
      nextStageId: () => this.nextStage++,
      fail: (e) => failStage(e),
      reads,
    });
    const { stageIds, resultStageId: stageId, results: descs, maps: mapDescs, tops } = plan;
    const stages = plan.stages.map((p) => p.stage);
    const shapeOf = (rootId: string) =>
      this.progress.listening
        ? stageShape(job.nodes, rootId, job.sites, (id) => stageIds[id], fullyStored)
        : {};
    for (const { stage, shuffle } of plan.stages) stage.shape = shapeOf(shuffle.parent);
    const written = new Map<string, number>();
    try {
      for (const st of stages) this.mapStages.add(st);
      if (mode === 'result')
        this.emit('stage', { stageId, kind: 'result', state: 'submitted', tasks: descs.length });
      const stage = { stageId, kind: 'result', name: job.name, tasks: descs.length, ...shapeOf(job.root) } as const; // prettier-ignore
      const body = async () => {
        let r: TaskDone[];
        if (mode === 'result')
          r = await this.runTasks(descs, job, opts, (i, v) => opts?.onPartition?.(i, v), stageFailed);
        else {
          r = await this.runTasks(mapDescs, job, opts, undefined, stageFailed);
          // The client's own map tasks: their accumulator updates came with their completions.
          mapDescs.forEach((d, i) => {
            const st = this.mapStages.get(d.stageId)!;
            const done = r[i]!;
            st.outputs[d.partition] = this.node.peer(done.worker)?.identity.rpc ?? done.worker;
            st.applied.add(d.partition);
            this.mapStages.markDone(st.shuffleId, d.partition);
            const bytes = done.metrics?.shuffleWriteBytes;
            if (bytes !== undefined) written.set(`${st.shuffleId}/${d.partition}`, bytes);
          });
        }
        // A map task's accumulator updates come in its source's report, which may still be on its
        // way (or being sent again): wait briefly for the missing ones, unless their source died.
        // A partition nothing was heard of may have been computed by another action's stage (a
        // shared shuffle) and will never report: it gets a heartbeat, a known live source longer.
        const t0 = this.clock.now();
        const counts = usesAccumulators(job.nodes); // without accumulators, reports carry nothing needed
        const awaited = () =>
          counts &&
          reportAwaited(stages, this.clock.now() - t0, this.options.heartbeatMs, (n) => !!this.node.peer(n));
        while (awaited() && this.clock.now() - t0 < this.options.deadAfterMs) await sleep(this.clock, 20);
        // Reports that never came (their source died or was cut off): the client runs those map
        // partitions again as jobs of its own, whose completions bring the updates (as Spark, an
        // update in a transformation may count twice when its task runs again: a partition another
        // action's stage computed, reporting there, is such a case; none is lost).
        const reruns: Array<Promise<unknown>> = [];
        for (const { stage: st, shuffle: s } of plan.stages) {
          for (const m of counts ? unreported(st) : []) {
            this.counters.mapReportsRecomputed++;
            const once: JobSpec = {
              ...job,
              onAccumulators: (updates) => {
                if (st.applied.has(m)) return; // the report came after all
                st.applied.add(m);
                job.onAccumulators(updates);
              },
            };
            const desc = mapTask(job, st.stageId, s, m, stageIds);
            reruns.push(this.runTasks([desc], once, opts, undefined, stageFailed));
          }
        }
        await Promise.all(reruns);
        // Map stages whose outputs were all there already (nothing reported) end with the result.
        for (const st of stages) this.mapStages.complete(st);
        return r;
      };
      if (mode === 'map') {
        await body();
        return { results: [], sizes: this.mapOutputBytes(tops, written) };
      }
      const results = await this.progress.stage(stage, body);
      this.emit('stage', { stageId, kind: 'result', state: 'completed', tasks: descs.length });
      return { results: results.map((r) => r.result), sizes: new Map() };
    } catch (e) {
      for (const st of stages) this.mapStages.failed(st);
      throw e;
    } finally {
      for (const st of stages) {
        this.mapStages.remove(st.stageId);
        this.posters.delete(st.stageId);
      }
      this.posters.delete(stageId);
    }
  }

  /**
   * The map output bytes of each shuffle: per map output, what its task wrote (`written`, by
   * `shuffle/map`) when this client ran it, else the size its holder announced.
   */
  private mapOutputBytes(
    shuffles: readonly ShuffleSpec[],
    written: Map<string, number>,
  ): Map<string, number> {
    const announced = this.directory.announcedMapBytes();
    const sizes = new Map<string, number>();
    for (const s of shuffles) {
      let total = 0;
      for (let m = 0; m < s.numMaps; m++)
        total += written.get(`${s.id}/${m}`) ?? announced.get(`${s.id}/${m}`) ?? 0;
      sizes.set(s.id, total);
    }
    return sizes;
  }

  /** Whether every map output of `s` is announced by a live worker (or reported done). */
  private mapOutputsAvailable(s: ShuffleSpec): boolean {
    const have = this.directory.announcedMaps(s.id);
    for (const m of this.mapStages.doneMaps(s.id) ?? []) have.add(m);
    for (let m = 0; m < s.numMaps; m++) if (!have.has(m)) return false;
    return true;
  }

  /** Posts tasks as jobs, announces them, and resolves with each one's result and worker. */
  private runTasks(
    descs: readonly TaskDesc[],
    job: JobSpec,
    opts: RunJobOptions | undefined,
    onResult?: (index: number, result: unknown) => void,
    failed?: Promise<never>,
  ): Promise<TaskDone[]> {
    if (this.stopped) return Promise.reject(new InvalidOperationError('the context was stopped'));
    const ids: string[] = [];
    const all = descs.map(
      (desc, i) =>
        new Promise<TaskDone>((resolve, reject) => {
          const id = `${desc.stageId}-${desc.partition}-${randomUUID().slice(0, 8)}`;
          ids.push(id);
          const prefer = this.directory.preferredHolder(desc);
          this.source.post(id, {
            owner: this.node.identity.node,
            partition: desc.partition,
            ...(prefer !== undefined && { prefer }),
            desc,
            job,
            resolve: (r) => {
              onResult?.(i, r.result);
              resolve(r);
            },
            reject,
          });
          this.counters.tasksPosted++;
        }),
    );
    // Workers still running one of these jobs (cancelled, or a straggler) are told to stop.
    const cleanup = () => this.source.remove(ids);
    const signal = opts?.signal;
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      if (!signal) return;
      onAbort = () =>
        reject(
          signal.reason instanceof JobCancelledError
            ? signal.reason
            : new JobCancelledError('the job was cancelled'),
        );
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    const run = Promise.race([Promise.all(all), aborted, ...(failed ? [failed] : [])]);
    return run.finally(() => {
      // A signal from AbortSignal.any() with a listener is kept alive by Node, and the listener
      // would keep this job (and through it the RDD) alive: remove it.
      if (signal && onAbort) signal.removeEventListener('abort', onAbort);
      cleanup();
    });
  }

  private ownRecords(seq: number): WireRecord[] {
    const shuffles = new Set<string>();
    for (const reads of this.actionShuffles.values()) for (const id of reads) shuffles.add(id);
    const own: WireRecord = { kind: 'client', peer: this.node.identity, seq, shuffles: [...shuffles] };
    return [own, ...this.source.openRecords()];
  }

  // ------------------------------------------------------------------ partition server

  /** Answers a request synchronously (throws on refusal). */
  private answer(req: Request): unknown {
    switch (req.op) {
      case 'job.claim':
      case 'job.renew':
      case 'job.fail':
        // A lease goes only to a member: a worker this client dropped (dead after a pause, say)
        // would not be noticed dying with it; it is told to HELLO again (`not-member`).
        return this.source.answer(req);
      case 'job.complete':
        if (req.resultBlock) return this.completeWithResultBlock(req, req.resultBlock);
        return this.source.answer(req);
      case 'job.event':
        return this.mapStages.onJobEvent(req);
      case 'task.log': {
        const { worker, stageId, partition, attempt } = req;
        for (const l of req.lines)
          this.progress.emit({ type: 'log', worker, stageId, partition, attempt, ...l });
        return { ok: true };
      }
      case 'fetch':
        if (req.what === 'block') throw new InvalidOperationError(`block ${req.id} is not hosted here`);
        return this.hosted.chunk(
          req.what,
          req.id,
          req.index ?? 0,
          req.offset,
          Math.min(req.length, FETCH_CHUNK_BYTES),
        );
      case 'cancel':
        return { ok: true };
      default:
        throw new InvalidOperationError(`a client does not serve ${req.op}`);
    }
  }

  /**
   * A completion whose result is stored on the worker: fetch it in chunks while the lease still
   * holds, tell the worker to drop it, then complete as usual. A fetch that fails leaves the job
   * leased; its lease runs out and it is re-broadcast.
   */
  private async completeWithResultBlock(
    req: Extract<Request, { op: 'job.complete' }>,
    block: { id: string; bytes: number },
  ): Promise<{ ok: boolean }> {
    if (!this.source.isLeased(req.jobId)) return { ok: false };
    let bytes: Uint8Array;
    try {
      bytes = await this.node.fetchAll(req.worker, 'block', block.id, 0, 30_000);
      if (bytes.byteLength !== block.bytes)
        throw new InvalidOperationError(
          `result block ${block.id}: ${bytes.byteLength} bytes, expected ${block.bytes}`,
        );
      this.counters.resultBlocksFetched++;
    } finally {
      this.node.request(req.worker, { op: 'drop', prefixes: [block.id] }, 2000).catch(() => undefined);
    }
    const { resultBlock: _, ...rest } = req;
    return this.answer({ ...rest, result: bytes }) as { ok: boolean };
  }

  /** Stages whose first task was granted (that task posts the stage's missing map jobs). */
  private readonly posters = new Set<number>();

  private firstGrant(stageId: number): boolean {
    if (this.posters.has(stageId)) return false;
    this.posters.add(stageId);
    return true;
  }

  // ------------------------------------------------------------------ records and liveness

  private onRecord(r: WireRecord): void {
    if (this.directory.heard(r)) this.lastWorkerSeen = this.clock.now();
  }

  /** Live workers with their slots, stored blocks, memory and last heartbeat, by endpoint. */
  workerStatus(): WorkerStatus[] {
    const workers = this.node.peers().filter((p) => p.identity.role === 'worker');
    return this.directory.workerStatus(workers, this.clock.now(), (n) => this.node.suspectedForMs(n));
  }

  /** Job and block records other peers have announced and not withdrawn. */
  seenRecords(): SeenRecords {
    return this.directory.seenRecords();
  }

  /** Where each stored partition of a persisted node is: partition → holder endpoint. */
  blockLocations(nodeId: string): Map<number, string> {
    return this.directory.blockLocations(nodeId);
  }

  private onPeerDown(p: PeerIdentity): void {
    if (p.role !== 'worker') return;
    this.progress.emit({ type: 'worker', state: 'lost', node: p.node, endpoint: p.rpc });
    this.directory.peerDown(p.node);
    this.source.holderDead(p.node);
  }

  /** No live worker for the grace period: the open jobs reject with NoWorkersError. */
  private checkWorkers(): void {
    const open = this.source.open();
    if (open.length === 0 || this.workers().length > 0) {
      if (this.workers().length > 0) this.lastWorkerSeen = this.clock.now();
      return;
    }
    if (this.clock.now() - this.lastWorkerSeen > this.options.noWorkerGraceMs) {
      for (const j of open) {
        this.source
          .job(j.id)
          ?.reject(
            new NoWorkersError(
              `no live worker for ${this.options.noWorkerGraceMs} ms: start workers (microspark-worker) or check --peers`,
            ),
          );
      }
      this.source.remove(open.map((j) => j.id));
    }
  }

  // ------------------------------------------------------------------ hosted data

  putSlices(dataId: string, slices: readonly Uint8Array[]): void {
    this.hosted.putSlices(dataId, slices);
  }
  dropSlices(dataId: string): void {
    this.hosted.dropSlices(dataId);
  }
  putBroadcast(id: string, bytes: Uint8Array): void {
    this.hosted.putBroadcast(id, bytes);
  }
  dropBroadcast(id: string): void {
    this.hosted.dropBroadcast(id);
    this.dropOnWorkers([], [id]);
  }
  dropBlocks(nodeId: string): void {
    this.directory.unpersist(nodeId);
    this.dropOnWorkers([rddPrefix(nodeId)]);
  }

  /**
   * Asks every worker to drop blocks by id prefix and its copies of broadcasts (fire and forget:
   * the client already forgot them).
   */
  private dropOnWorkers(prefixes: string[], broadcasts: string[] = []): void {
    if ((prefixes.length === 0 && broadcasts.length === 0) || this.stopped) return;
    const req = { op: 'drop' as const, prefixes, ...(broadcasts.length > 0 && { broadcasts }) };
    for (const w of this.workers()) this.node.request(w.node, req, 2000).catch(() => undefined);
  }
  storageInfo(nodeId: string): { partitions: number; bytes: number } | undefined {
    return this.directory.storageInfo(nodeId);
  }
  endAction(action: number, last: boolean): void {
    // The action's shuffle outputs are released on the workers, except those another running
    // action reads; cached blocks stay.
    const ended = this.actionShuffles.get(action) ?? new Set<string>();
    this.actionShuffles.delete(action);
    if (last) this.actionShuffles.clear();
    const still = new Set<string>();
    for (const reads of this.actionShuffles.values()) for (const id of reads) still.add(id);
    const released = [...ended].filter((id) => !still.has(id));
    const prefixes = released.map(shufflePrefix);
    this.dropOnWorkers(prefixes);
    // Their records are withdrawn soon; the next action must not plan on them meanwhile.
    this.directory.forgetAnnounced(prefixes);
    this.mapStages.forgetDone(released, last);
  }
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) t.cancel();
    for (const id of this.source.activeIds())
      this.source.job(id)?.reject(new InvalidOperationError('the context was stopped'));
    this.source.stop();
    await this.node.stop();
  }
}
