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
import { parseBlockId, rddPrefix, shufflePrefix } from '../protocol/block-ids.js';
import type { ColumnSection } from '../sql/exec/sections.js';
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
import { blockId, parseMapOutputId, type ShuffleSpec, type TaskDesc } from '../rdd/lineage.js';
import { broadcastIds, usesAccumulators } from '../rdd/runner.js';
import { stageShuffles } from '../rdd/plan.js';
import type { RunJobOptions } from '../rdd/rdd.js';
import type { Backend, JobSpec } from './backend.js';
import type { WasmPoolStats } from '../worker/task-pool.js';
import { ProgressBus, stageShape, type RetryReason, type TaskMetrics } from './progress.js';

/** A shuffle map stage of a running action, as the client follows it through `job.event`. */
interface MapStage {
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
  readonly shape: { readonly parentIds?: readonly number[]; readonly operations?: readonly string[] };
  completed: boolean;
  /** Rejects the action (a map task failed for good). */
  readonly fail: (e: Error) => void;
}

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

/** A live worker as the client sees it (from its last `worker` record), for the console. */
export interface WorkerStatus {
  readonly node: string;
  /** Partition server endpoint, `tcp://host:port`. */
  readonly endpoint: string;
  readonly slots: number;
  readonly free: number;
  /** Blocks it stores (shuffle outputs and cached partitions). */
  readonly blocks: number;
  readonly memoryBytes: number;
  /** Bytes of its blocks on disk (spilled past its memory budget); 0 from a worker that does not say. */
  readonly diskBytes?: number;
  /** Block files its store has written (spills) and their bytes, since it started. */
  readonly spills?: number;
  readonly spilledBytes?: number;
  /**
   * Milliseconds since anything was last heard from it. With SWIM membership (the default) a
   * healthy worker may be silent for many seconds; {@link suspectMs} says whether it is in doubt.
   */
  readonly lastSeenMs: number;
  /** Milliseconds this client has suspected it (an unanswered probe, not yet refuted); absent while it is healthy. */
  readonly suspectMs?: number;
  /** What its task pool did with WebAssembly modules (from its last record; absent from older workers). */
  readonly wasm?: WasmPoolStats;
}

/** The records a client currently sees from other peers (for `microspark status`). */
export interface SeenRecords {
  readonly jobs: ReadonlyArray<{ jobId: string; attempt: number; source: string; owner: string; partition: number }>; // prettier-ignore
  readonly blocks: ReadonlyArray<{
    blockId: string;
    holder: string;
    bytes: number;
    owner: string;
    /** The holder's catalog entry for a block of SQL batches. */
    section?: ColumnSection;
  }>;
}

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
  private readonly slices = new Map<string, readonly Uint8Array[]>();
  private readonly broadcasts = new Map<string, Uint8Array>();
  /** The map stages of running actions, by stage id (their tasks run as jobs posted by workers). */
  private readonly mapStages = new Map<number, MapStage>();
  /**
   * Shuffles each running top-level action reads (action id → shuffle ids): their outputs are
   * dropped on the workers when it ends, unless another running action reads them too.
   */
  private readonly actionShuffles = new Map<number, Set<string>>();
  /** Map outputs reported done while an action that reads them runs: shuffle id → map indexes. */
  private readonly mapDone = new Map<string, Set<number>>();
  /** Persisted blocks announced by workers: block id → holder node and size. */
  private readonly blocks = new Map<string, { holder: string; bytes: number }>();
  private readonly timers: Timer[] = [];
  /** Last `worker` record per live worker node. */
  private readonly workerRecords = new Map<string, Extract<WireRecord, { kind: 'worker' }>>();
  /** Job and block records announced by other peers, until withdrawn. */
  private readonly seenJobs = new Map<string, Extract<WireRecord, { kind: 'job' }>>();
  private readonly seenBlocks = new Map<string, Extract<WireRecord, { kind: 'rdd' }>>();
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
            blocks: this.blocksFor(pending.desc),
            poster: this.firstGrant(pending.desc.stageId),
          } satisfies TaskDesc),
        notMember: () => this.counters.claimsFromNonMembers++,
        granted: (_id, pending, attempt, worker) => this.taskEvent(pending.desc, attempt, 'running', worker),
        completed: (_id, pending, attempt, req) => {
          this.counters.tasksCompleted++;
          this.taskEvent(pending.desc, attempt, 'done', req.worker, undefined, req.metrics);
          for (const [id, bytes] of req.blocks ?? []) this.blocks.set(id, { holder: req.worker, bytes });
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
          this.taskEvent(pending.desc, attempt, 'retried', undefined, reason);
        },
        failed: (_id, pending, attempt, error, failures) => {
          this.taskEvent(pending.desc, attempt, 'failed');
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
      if (!this.broadcasts.has(id))
        throw new InvalidOperationError(`broadcast ${id} was destroyed and can no longer be used`);
    }
    // The stages, parents first: every shuffle the result stage needs, transitively.
    const fullyStored = (nodeId: string, n: number) => {
      for (let p = 0; p < n; p++) if (!this.blocks.has(blockId(nodeId, p))) return false;
      return true;
    };
    // A shuffle whose map outputs are all announced (an earlier job of this action, e.g. a
    // sortBy's sampling, computed it) is skipped, with its parents, as in process.
    const order: ShuffleSpec[] = [];
    let reads = this.actionShuffles.get(job.action);
    if (!reads) this.actionShuffles.set(job.action, (reads = new Set()));
    const visit = (rootId: string, seen: Set<string>) => {
      for (const s of stageShuffles(job.nodes, rootId, fullyStored)) {
        if (seen.has(s.id)) continue;
        seen.add(s.id);
        reads.add(s.id);
        if (this.mapOutputsAvailable(s)) continue;
        visit(s.parent, seen);
        order.push(s);
      }
    };
    visit(job.root, new Set());
    let failStage!: (e: Error) => void;
    const stageFailed = new Promise<never>((_, reject) => (failStage = reject));
    stageFailed.catch(() => undefined);
    const stages = order.map((s): MapStage => ({
      stageId: this.nextStage++,
      shuffleId: s.id,
      name: job.sites[s.parent] ?? `shuffle ${s.id.slice(0, 8)}`,
      tasks: s.numMaps,
      outputs: new Array<string | undefined>(s.numMaps).fill(undefined),
      applied: new Set(),
      sources: new Map(),
      shown: new Map(),
      job,
      shape: {},
      completed: false,
      fail: failStage,
    }));
    const stageIds: Record<string, number> = {};
    for (const st of stages) {
      stageIds[st.shuffleId] = st.stageId;
      this.mapStages.set(st.stageId, st);
    }
    const stageId = this.nextStage++;
    const shapeOf = (rootId: string) =>
      this.progress.listening
        ? stageShape(job.nodes, rootId, job.sites, (id) => stageIds[id], fullyStored)
        : {};
    stages.forEach((st, i) => ((st as { shape: MapStage['shape'] }).shape = shapeOf(order[i]!.parent)));
    const descs = job.partitions.map((partition): TaskDesc => ({
      stageId,
      attempt: 0,
      nodes: job.nodes,
      root: job.root,
      partition,
      output: { kind: 'result', fn: job.fn },
      stageIds,
    }));
    // Map mode: the shuffles the root reads directly, each map task posted here.
    const tops = mode === 'map' ? stageShuffles(job.nodes, job.root, fullyStored) : [];
    const mapDescs: TaskDesc[] = [];
    for (const s of tops) {
      const st = stages.find((x) => x.shuffleId === s.id);
      if (!st) continue; // every output is there already
      for (let m = 0; m < s.numMaps; m++)
        mapDescs.push({ stageId: st.stageId, attempt: 0, nodes: job.nodes, root: s.parent, partition: m, output: { kind: 'shuffle', shuffle: s }, stageIds }); // prettier-ignore
    }
    const written = new Map<string, number>();
    try {
      for (const st of stages) {
        this.emit('stage', { stageId: st.stageId, kind: 'shuffle-map', state: 'submitted', tasks: st.tasks, shuffleId: st.shuffleId }); // prettier-ignore
        this.stageEvent(st, 'submitted');
      }
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
            let set = this.mapDone.get(st.shuffleId);
            if (!set) this.mapDone.set(st.shuffleId, (set = new Set()));
            set.add(d.partition);
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
        const awaited = () => {
          if (!counts) return false;
          const waited = this.clock.now() - t0;
          return stages.some((st) => {
            for (let m = 0; m < st.tasks; m++) {
              if (st.applied.has(m)) continue;
              const source = st.sources.get(m);
              if (source === undefined ? waited < this.options.heartbeatMs : this.node.peer(source))
                return true;
            }
            return false;
          });
        };
        while (awaited() && this.clock.now() - t0 < this.options.deadAfterMs) await sleep(this.clock, 20);
        // Reports that never came (their source died or was cut off): the client runs those map
        // partitions again as jobs of its own, whose completions bring the updates (as Spark, an
        // update in a transformation may count twice when its task runs again: a partition another
        // action's stage computed, reporting there, is such a case; none is lost).
        const reruns: Array<Promise<unknown>> = [];
        stages.forEach((st, i) => {
          const s = order[i]!;
          for (let m = 0; m < st.tasks; m++) {
            if (!counts || st.applied.has(m)) continue;
            this.counters.mapReportsRecomputed++;
            const once: JobSpec = {
              ...job,
              onAccumulators: (updates) => {
                if (st.applied.has(m)) return; // the report came after all
                st.applied.add(m);
                job.onAccumulators(updates);
              },
            };
            const desc: TaskDesc = { stageId: st.stageId, attempt: 0, nodes: job.nodes, root: s.parent, partition: m, output: { kind: 'shuffle', shuffle: s }, stageIds }; // prettier-ignore
            reruns.push(this.runTasks([desc], once, opts, undefined, stageFailed));
          }
        });
        await Promise.all(reruns);
        // Map stages whose outputs were all there already (nothing reported) end with the result.
        for (const st of stages) this.completeMapStage(st);
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
      for (const st of stages) if (!st.completed) this.stageEvent(st, 'failed');
      throw e;
    } finally {
      for (const st of stages) {
        this.mapStages.delete(st.stageId);
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
    const announced = new Map<string, number>();
    for (const b of this.seenBlocks.values()) {
      const out = parseMapOutputId(b.blockId);
      if (out && this.node.peer(b.holder.node)) announced.set(`${out.shuffleId}/${out.map}`, b.bytes);
    }
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
    const have = new Set(this.mapDone.get(s.id));
    for (const b of this.seenBlocks.values()) {
      const out = parseMapOutputId(b.blockId);
      if (out?.shuffleId === s.id && this.node.peer(b.holder.node)) have.add(out.map);
    }
    for (let m = 0; m < s.numMaps; m++) if (!have.has(m)) return false;
    return true;
  }

  private stageEvent(st: MapStage, state: 'submitted' | 'completed' | 'failed'): void {
    this.progress.emit({
      type: 'stage',
      actionId: this.progress.actionId,
      stageId: st.stageId,
      kind: 'shuffle-map',
      state,
      name: st.name,
      tasks: st.tasks,
      ...st.shape,
    });
  }

  private completeMapStage(st: MapStage): void {
    if (st.completed) return;
    st.completed = true;
    this.stageEvent(st, 'completed');
    this.emit('stage', {
      stageId: st.stageId,
      kind: 'shuffle-map',
      state: 'completed',
      tasks: st.tasks,
      shuffleId: st.shuffleId,
      outputs: [...st.outputs],
    });
  }

  /** A worker reports a map job it is the source of (or a task's lost map output). */
  private onJobEvent(ev: Extract<Request, { op: 'job.event' }>): { ok: boolean } {
    const st = this.mapStages.get(ev.stageId);
    const desc = { stageId: ev.stageId, partition: ev.partition };
    if (st && ev.source !== undefined) st.sources.set(ev.partition, ev.source);
    switch (ev.state) {
      case 'posted':
        this.mapDone.get(ev.shuffleId)?.delete(ev.partition);
        if (ev.recomputed) this.counters.mapOutputsRecomputed++;
        if (st && ev.recomputed) {
          st.outputs[ev.partition] = undefined;
          st.shown.delete(ev.partition);
        }
        break;
      case 'running':
        if (st && st.shown.get(ev.partition) === undefined) {
          st.shown.set(ev.partition, 'running');
          this.taskEvent(desc, ev.attempt, 'running', ev.worker);
        }
        break;
      case 'done': {
        let done = this.mapDone.get(ev.shuffleId);
        if (!done) this.mapDone.set(ev.shuffleId, (done = new Set()));
        done.add(ev.partition);
        if (!st) break;
        st.outputs[ev.partition] = ev.worker && this.node.peer(ev.worker)?.identity.rpc;
        if (!st.applied.has(ev.partition)) {
          st.applied.add(ev.partition);
          st.job.onAccumulators(ev.accumulators ?? []);
        }
        if (st.shown.get(ev.partition) !== 'done') {
          st.shown.set(ev.partition, 'done');
          this.taskEvent(desc, ev.attempt, 'done', ev.worker, undefined, ev.metrics);
        }
        if (st.outputs.every((o) => o !== undefined)) this.completeMapStage(st);
        break;
      }
      case 'retried':
        if (ev.reason === 'fetch-failed') this.counters.fetchFailures++;
        else if (ev.reason === 'lease-expired' || ev.reason === 'worker-lost') this.counters.reannounced++;
        if (st?.shown.get(ev.partition) === 'running') st.shown.delete(ev.partition);
        if (st || ev.reason === 'fetch-failed')
          this.taskEvent(desc, ev.attempt, 'retried', undefined, ev.reason);
        break;
      case 'failed': {
        if (!st) break;
        this.taskEvent(desc, ev.attempt, 'failed', ev.worker);
        const error = ev.error ?? { name: 'Error', message: 'map task failed' };
        const failures = this.options.maxTaskFailures;
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

  private taskEvent(
    desc: { readonly stageId: number; readonly partition: number },
    attempt: number,
    state: 'running' | 'done' | 'retried' | 'failed',
    worker?: string,
    reason?: RetryReason,
    metrics?: TaskMetrics,
  ): void {
    this.progress.emit({
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
          this.source.post(id, {
            owner: this.node.identity.node,
            partition: desc.partition,
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
        return this.onJobEvent(req);
      case 'task.log': {
        const { worker, stageId, partition, attempt } = req;
        for (const l of req.lines)
          this.progress.emit({ type: 'log', worker, stageId, partition, attempt, ...l });
        return { ok: true };
      }
      case 'fetch':
        return this.fetch(req.what, req.id, req.index ?? 0, req.offset, req.length);
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

  private blocksFor(desc: TaskDesc): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [nodeId, node] of Object.entries(desc.nodes)) {
      if (!node.persist) continue;
      for (let p = 0; p < node.n; p++) {
        const id = blockId(nodeId, p);
        const b = this.blocks.get(id);
        const endpoint = b && this.node.peer(b.holder)?.identity.rpc;
        if (endpoint) out[id] = endpoint;
      }
    }
    return out;
  }

  private fetch(
    what: 'block' | 'slice' | 'broadcast',
    id: string,
    index: number,
    offset: number,
    length: number,
  ) {
    let data: Uint8Array | undefined;
    if (what === 'slice') data = this.slices.get(id)?.[index];
    else if (what === 'broadcast') data = this.broadcasts.get(id);
    if (!data) throw new InvalidOperationError(`${what} ${id} is not hosted here`);
    const len = Math.min(length, FETCH_CHUNK_BYTES);
    return { data: data.subarray(offset, offset + len), total: data.byteLength };
  }

  // ------------------------------------------------------------------ records and liveness

  private onRecord(r: WireRecord): void {
    if (r.kind === 'worker') {
      this.lastWorkerSeen = this.clock.now();
      this.workerRecords.set(r.peer.node, r);
    } else if (r.kind === 'job') this.seenJobs.set(r.jobId, r);
    else if (r.kind === 'rdd') {
      this.seenBlocks.set(`${r.holder.node}/${r.blockId}`, r);
      if (parseBlockId(r.blockId)?.kind === 'rdd')
        this.blocks.set(r.blockId, { holder: r.holder.node, bytes: r.bytes });
    } else if (r.kind === 'withdraw') {
      if (r.of === 'rdd') {
        this.seenBlocks.delete(`${r.holder}/${r.id}`);
        if (this.blocks.get(r.id)?.holder === r.holder) this.blocks.delete(r.id);
      } else this.seenJobs.delete(r.id);
    }
  }

  /** Live workers with their slots, stored blocks, memory and last heartbeat, by endpoint. */
  workerStatus(): WorkerStatus[] {
    const now = this.clock.now();
    return this.node
      .peers()
      .filter((p) => p.identity.role === 'worker')
      .map((p) => {
        const r = this.workerRecords.get(p.identity.node);
        return {
          node: p.identity.node,
          endpoint: p.identity.rpc,
          slots: r?.slots ?? 0,
          free: r?.free ?? 0,
          blocks: r?.blocks ?? 0,
          memoryBytes: r?.memoryBytes ?? 0,
          diskBytes: r?.diskBytes ?? 0,
          spills: r?.spills ?? 0,
          spilledBytes: r?.spilledBytes ?? 0,
          lastSeenMs: Math.max(0, now - p.lastSeen),
          ...suspectField(this.node.suspectedForMs(p.identity.node)),
          ...(r?.wasm && { wasm: r.wasm }),
        };
      })
      .sort((a, b) => a.endpoint.localeCompare(b.endpoint));
  }

  /** Job and block records other peers have announced and not withdrawn. */
  seenRecords(): SeenRecords {
    return {
      jobs: [...this.seenJobs.values()].map((j) => ({
        jobId: j.jobId,
        attempt: j.attempt,
        source: j.source.rpc,
        owner: j.owner,
        partition: j.partition,
      })),
      blocks: [...this.seenBlocks.values()].map((b) => ({
        blockId: b.blockId,
        holder: b.holder.rpc,
        bytes: b.bytes,
        ...(b.section && { section: b.section }),
        owner: b.owner,
      })),
    };
  }

  /** Where each stored partition of a persisted node is: partition → holder endpoint. */
  blockLocations(nodeId: string): Map<number, string> {
    const out = new Map<number, string>();
    const prefix = rddPrefix(nodeId);
    for (const [id, b] of this.blocks) {
      if (!id.startsWith(prefix)) continue;
      const endpoint = this.node.peer(b.holder)?.identity.rpc;
      if (endpoint) out.set(Number(id.slice(prefix.length)), endpoint);
    }
    return out;
  }

  private onPeerDown(p: PeerIdentity): void {
    if (p.role !== 'worker') return;
    this.progress.emit({ type: 'worker', state: 'lost', node: p.node, endpoint: p.rpc });
    this.workerRecords.delete(p.node);
    for (const [k, b] of [...this.seenBlocks]) if (b.holder.node === p.node) this.seenBlocks.delete(k);
    for (const [k, j] of [...this.seenJobs]) if (j.source.node === p.node) this.seenJobs.delete(k);
    this.source.holderDead(p.node);
    for (const [id, b] of [...this.blocks]) if (b.holder === p.node) this.blocks.delete(id);
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
    this.slices.set(dataId, slices);
  }
  dropSlices(dataId: string): void {
    this.slices.delete(dataId);
  }
  putBroadcast(id: string, bytes: Uint8Array): void {
    this.broadcasts.set(id, bytes);
  }
  dropBroadcast(id: string): void {
    this.broadcasts.delete(id);
    this.dropOnWorkers([], [id]);
  }
  dropBlocks(nodeId: string): void {
    for (const id of [...this.blocks.keys()]) if (id.startsWith(rddPrefix(nodeId))) this.blocks.delete(id);
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
    let partitions = 0;
    let bytes = 0;
    for (const [id, b] of this.blocks) {
      if (id.startsWith(rddPrefix(nodeId))) {
        partitions++;
        bytes += b.bytes;
      }
    }
    return partitions > 0 ? { partitions, bytes } : undefined;
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
    for (const [k, b] of [...this.seenBlocks])
      if (prefixes.some((p) => b.blockId.startsWith(p))) this.seenBlocks.delete(k);
    for (const id of released) this.mapDone.delete(id);
    if (last) this.mapDone.clear();
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

/** The `suspectMs` field of a worker's status, present only while it is suspected. */
function suspectField(ms: number | undefined): { suspectMs?: number } {
  return ms === undefined ? {} : { suspectMs: ms };
}
