/**
 * The worker: hears `job` records, claims jobs at their source while it has free slots, runs each
 * task on a worker thread (one per slot), renews the lease while it runs, stores what the task
 * produced (shuffle buckets, persisted partitions) in its block store, and reports completion.
 * It serves its blocks to other peers, and drops a client's tasks and blocks when the client is
 * gone.
 */
import { resultBlockId } from '../protocol/block-ids.js';
import { decode, encode } from '../protocol/codec.js';
import {
  MAX_TASK_FAILURES,
  REDUCER_MAX_BYTES_IN_FLIGHT,
  derivedTimings,
  type DerivedTimings,
} from '../protocol/defaults.js';
import {
  InvalidOperationError,
  TaskFailedError,
  WorkerStoppingError,
  errorToWire,
  type WireError,
} from '../protocol/errors.js';
import {
  checkedReply,
  type PeerIdentity,
  type Record as WireRecord,
  type ReplyOf,
  type Request,
} from '../protocol/messages.js';
import { BlockStore } from '../partition-server/block-store.js';
import type { CurveKeys } from '../partition-server/curve.js';
import { PeerNode } from '../partition-server/peer-node.js';
import type { Transport } from '../partition-server/transport.js';
import { sleep, systemClock, type Clock, type Timer } from '../core/clock.js';
import { endOfOutcome, taskEnd, type TaskEndReason } from '../core/task-end.js';
import { blockId, parseMapOutputId, type TaskDesc } from '../rdd/lineage.js';
import { stageShuffles } from '../rdd/plan.js';
import type { TaskResult } from '../rdd/runner.js';
import { MapJobSource, parseMapJobId } from './map-job-source.js';
import { MapOutputView } from './map-outputs.js';
import { TaskLogSender } from './task-logs.js';
import { TaskSlots, type RunningTask } from './task-slots.js';
import { JobDirectory } from './job-directory.js';
import { ParkingCoordinator } from './parking.js';
import { TaskServiceHost } from './task-services.js';
import { BlockServer } from './block-server.js';
import {
  TaskPool,
  type PoolServices,
  type RunOptions,
  type TaskOutcome,
  type WasmPoolStats,
} from './task-pool.js';

/** What runs a worker's tasks: a {@link TaskPool} of threads, or (simulation, tests) this thread. */
export interface TaskExecutor {
  /** Runs one encoded TaskDesc; never rejects. */
  run(task: Uint8Array, services: PoolServices, opts?: RunOptions): Promise<TaskOutcome>;
  prestart(): void;
  close(): Promise<void>;
  /** Drops WebAssembly modules by broadcast id (compiled modules and instances), where it keeps any. */
  forgetWasm?(ids: readonly string[]): void;
  /** What it did with WebAssembly modules, where it counts that (a TaskPool does). */
  readonly wasmStats?: WasmPoolStats;
}

/** Log levels of {@link WorkerLog}, most severe first. */
export type WorkerLogLevel = 'error' | 'warn' | 'info' | 'debug';

/** Where a worker logs (the daemon writes JSON lines on stderr); must not throw. */
export type WorkerLog = (level: WorkerLogLevel, msg: string, fields?: Record<string, unknown>) => void;

/** Everything a worker needs to run (the daemon builds it from its validated config). */
export interface WorkerOptions {
  readonly slots: number;
  readonly host: string;
  readonly port: number;
  readonly cluster: string;
  /** Partition server endpoints to HELLO at start (static peers). */
  readonly peers: readonly string[];
  readonly dataDir: string;
  readonly memoryBytes: number;
  /**
   * Shuffle bytes a task may have requested from peers and not yet received (Spark's
   * `spark.reducer.maxSizeInFlight`; default REDUCER_MAX_BYTES_IN_FLIGHT; checked at start).
   */
  readonly maxBytesInFlight?: number;
  readonly heartbeatMs: number;
  readonly deadAfterMs: number;
  /** How liveness is decided (PeerNodeOptions.membership; default `swim`). */
  readonly membership?: 'mesh' | 'swim';
  readonly leaseRenewMs: number;
  readonly requestTimeoutMs: number;
  readonly taskTimeoutMs?: number;
  /** Heap limit (old generation, MiB) of each task thread; a task exceeding it fails with TaskOutOfMemoryError. */
  readonly taskHeapMb?: number;
  /** Lease of the map jobs this worker posts (default: ten heartbeats, at most LEASE_TTL_MS). */
  readonly leaseTtlMs?: number;
  /** User-code failures of a map job this worker posts before it fails its action (default 4). */
  readonly maxTaskFailures?: number;
  /** Map-output losses a parked task recovers from before it fails (default 4). */
  readonly maxStageAttempts?: number;
  /** Cluster CURVE keys (from the secret); required to bind anything but loopback. */
  readonly curve?: CurveKeys;
  /**
   * Where to log membership, claims, leases, completions, retries, fetch failures and
   * recomputations; attached before the static peers are met, so their joins are logged too.
   */
  readonly log?: WorkerLog;
  /** The network (default: ZeroMQ). */
  readonly transport?: Transport;
  /** Time for every timer of the worker (default: the system clock). */
  readonly clock?: Clock;
  /** Node id and incarnation (default: random, now). */
  readonly id?: { readonly node: string; readonly incarnation: number };
  /** What runs tasks (default: a TaskPool of `slots` threads). */
  readonly executor?: TaskExecutor;
}

/** Counters, for tests, logs and the console. */
export interface WorkerCounters {
  claimsTried: number;
  claimsGranted: number;
  tasksSucceeded: number;
  tasksFailed: number;
  completionsRefused: number;
  fetchFailures: number;
  clientsDropped: number;
  /** Tasks parked (slot released) while map outputs they need were computed. */
  tasksParked: number;
  /** Map jobs this worker posted; of them, recomputations of outputs that had been lost. */
  mapJobsPosted: number;
  mapOutputsRecomputed: number;
  /** Leases handed back to their source because this worker stopped. */
  leasesReleased: number;
  /** Claims a source refused because it did not count this worker as a member. */
  claimsRefusedNotMember: number;
  /** Shuffles whose outputs were dropped because their client's record no longer listed them. */
  shufflesReleasedByRecord: number;
  /** Shuffle buckets read: from this worker's store, fetched from peers, skipped as empty. */
  bucketsReadLocal: number;
  bucketsFetched: number;
  bucketsSkippedEmpty: number;
  /** `fetch` requests sent for shuffle buckets (a bucket above a chunk takes several). */
  bucketFetchRequests: number;
}

/** Task results above this travel as a block fetched in chunks, not inside `job.complete`. */
export const INLINE_RESULT_MAX_BYTES = 16 * 1024 * 1024;

/** Block id of reduce partition `r` of map output `m` of shuffle `s` (src/protocol/block-ids.ts). */
export { shuffleBlockId } from '../protocol/block-ids.js';

/** A worker (see module doc). Start with {@link Worker.start}; stop with {@link Worker.stop}. */
export class Worker {
  readonly counters: WorkerCounters = {
    claimsTried: 0,
    claimsGranted: 0,
    tasksSucceeded: 0,
    tasksFailed: 0,
    completionsRefused: 0,
    fetchFailures: 0,
    clientsDropped: 0,
    tasksParked: 0,
    mapJobsPosted: 0,
    mapOutputsRecomputed: 0,
    leasesReleased: 0,
    claimsRefusedNotMember: 0,
    shufflesReleasedByRecord: 0,
    bucketsReadLocal: 0,
    bucketsFetched: 0,
    bucketsSkippedEmpty: 0,
    bucketFetchRequests: 0,
  };
  /** Where the map outputs of shuffles are, from `rdd` records. */
  readonly maps = new MapOutputView();
  /** The map jobs this worker is the source of. */
  readonly source: MapJobSource;
  /** The jobs announced on the cluster: open ones, their sources, recent withdrawals. */
  private readonly jobs: JobDirectory;
  /** Every task on this worker, claimed or being claimed, by job id, and the line for a slot. */
  private readonly slots: TaskSlots;
  /** Parks tasks until the map outputs they read are announced, posting the missing map jobs. */
  private readonly parking: ParkingCoordinator;
  /** How often the map jobs posted here are re-announced. */
  private get reannounceMs(): number {
    return this.timings.reannounceMs;
  }
  /** Blocks this worker announced (persisted partitions), for snapshots and withdrawals. */
  /** The blocks this worker holds; for SQL batches also their column section (the worker's catalog). */
  private readonly blocks: BlockServer;
  /** What the threads of this worker's tasks ask for (slices, broadcasts, blocks, shuffle buckets). */
  private readonly taskServices: TaskServiceHost;
  private draining = false;
  private seq = 0;
  private readonly log: WorkerLog;
  private readonly clock: Clock;
  private readonly timings: DerivedTimings;

  private constructor(
    private readonly options: WorkerOptions,
    readonly node: PeerNode,
    readonly store: BlockStore,
    readonly pool: TaskExecutor,
  ) {
    this.log = options.log ?? (() => undefined);
    this.slots = new TaskSlots(options.slots);
    this.clock = options.clock ?? systemClock;
    this.jobs = new JobDirectory(this.clock);
    this.timings = derivedTimings(options.heartbeatMs);
    this.source = new MapJobSource(node, {
      clock: this.clock,
      log: this.log,
      leaseTtlMs: options.leaseTtlMs ?? this.timings.mapLeaseTtlMs,
      maxTaskFailures: options.maxTaskFailures ?? MAX_TASK_FAILURES,
      reannounceMs: this.reannounceMs,
      requestTimeoutMs: options.requestTimeoutMs,
      onOutput: (shuffleId, map, worker) => {
        const endpoint = worker === node.identity.node ? node.identity.rpc : node.peer(worker)?.identity.rpc;
        if (endpoint) this.maps.add(shuffleId, map, worker, endpoint);
      },
      onChange: () => this.notify(),
      outputKnown: (shuffleId, map) => this.maps.holder(shuffleId, map, node.identity.rpc) !== undefined,
      onAnnounce: (record) => {
        this.jobs.heard(record);
        this.pump();
      },
    });
    this.taskServices = new TaskServiceHost(node, store, this.maps, this.counters, {
      requestTimeoutMs: options.requestTimeoutMs,
      ...(options.maxBytesInFlight !== undefined && { maxBytesInFlight: options.maxBytesInFlight }),
    });
    this.blocks = new BlockServer(store, node, this.maps, this.clock, this.timings.shuffleReleaseGraceMs);
    this.parking = new ParkingCoordinator({
      clock: this.clock,
      self: node.identity,
      maps: this.maps,
      jobs: this.jobs,
      source: this.source,
      slots: this.slots,
      isLive: (n) => node.peer(n) !== undefined,
      pump: () => this.pump(),
      counters: this.counters,
      timings: { ...this.timings, heartbeatMs: options.heartbeatMs },
      log: this.log,
    });
  }

  /** Starts the partition server, the block store and the thread pool, and HELLOs the static peers. */
  static async start(options: WorkerOptions): Promise<Worker> {
    const inFlight = options.maxBytesInFlight;
    if (inFlight !== undefined && (!Number.isSafeInteger(inFlight) || inFlight <= 0))
      throw new InvalidOperationError(
        `maxBytesInFlight must be a positive whole number of bytes, got ${String(inFlight)}; ` +
          `pass e.g. ${REDUCER_MAX_BYTES_IN_FLIGHT} (48 MiB, the default) or leave it out`,
      );
    const ref: { worker?: Worker } = {};
    const node = await PeerNode.start({
      role: 'worker',
      cluster: options.cluster,
      host: options.host,
      port: options.port,
      heartbeatMs: options.heartbeatMs,
      deadAfterMs: options.deadAfterMs,
      ...(options.membership && { membership: options.membership }),
      requestTimeoutMs: options.requestTimeoutMs,
      ...(options.curve && { curve: options.curve }),
      ...(options.transport && { transport: options.transport }),
      ...(options.clock && { clock: options.clock }),
      ...(options.id && { id: options.id }),
      handler: (req) => {
        if (!ref.worker) return Promise.reject(new InvalidOperationError('worker is starting'));
        return ref.worker.serve(req);
      },
      ownRecords: () => ref.worker?.ownRecords() ?? [],
    });
    const store = new BlockStore({ memoryBytes: options.memoryBytes, dir: options.dataDir });
    const pool =
      options.executor ??
      new TaskPool({
        threads: options.slots,
        ...(options.taskTimeoutMs !== undefined && { taskTimeoutMs: options.taskTimeoutMs }),
        ...(options.taskHeapMb !== undefined && {
          resourceLimits: { maxOldGenerationSizeMb: options.taskHeapMb },
        }),
      });
    pool.prestart();
    const worker = new Worker(options, node, store, pool);
    ref.worker = worker;
    node.on('record', (r) => worker.onRecord(r));
    node.on('peer-down', (p) => worker.onPeerDown(p));
    const log = worker.log;
    node.on('peer-up', (p) => log('info', 'peer joined', { node: p.node, role: p.role, rpc: p.rpc }));
    node.on('peer-down', (p) => log('info', 'peer lost', { node: p.node, role: p.role }));
    node.on('warning', (e) => log('debug', 'network warning', { error: String(e) }));
    await Promise.all(options.peers.map((p) => node.keepConnected(p)));
    return worker;
  }

  /** Free slots (not running, not being claimed; a parked task holds none). */
  get free(): number {
    return this.slots.free;
  }

  private ownRecords(): WireRecord[] {
    const stats = this.store.stats();
    const own: WireRecord = {
      kind: 'worker',
      peer: this.node.identity,
      slots: this.options.slots,
      free: Math.max(0, this.free),
      blocks: stats.blocks,
      memoryBytes: stats.memoryBytes,
      diskBytes: stats.diskBytes,
      spills: stats.spills,
      spilledBytes: stats.spilledBytes,
      seq: this.seq++,
      ...(this.pool.wasmStats && { wasm: this.pool.wasmStats }),
    };
    const blocks = this.blocks.records();
    return [own, ...blocks, ...this.source.openRecords()];
  }

  private onRecord(r: WireRecord): void {
    switch (r.kind) {
      case 'job':
        this.jobs.heard(r);
        // Someone runs it (leased), or a lower node id posted the same map job: a copy posted
        // here and not claimed yet is withdrawn.
        if (
          (r.leased || r.source.node < this.node.identity.node) &&
          this.source.withdrawIfUnclaimed(r.jobId)
        ) {
          if (!r.leased) this.jobs.reopen(r);
          this.notify();
        }
        if (!r.leased) this.pump();
        break;
      case 'client':
        this.onClientRecord(r);
        break;
      case 'rdd': {
        const out = parseMapOutputId(r.blockId);
        if (out) {
          this.maps.add(out.shuffleId, out.map, r.holder.node, r.holder.rpc, r.buckets);
          this.notify();
        }
        break;
      }
      case 'withdraw':
        if (r.of === 'job') {
          this.jobs.withdrawn(r.id);
        } else {
          const out = parseMapOutputId(r.id);
          if (out) this.maps.remove(out.shuffleId, out.map, r.holder);
        }
        this.notify();
        break;
      default:
        break;
    }
  }

  /** Wakes the parked tasks: records changed. */
  private notify(): void {
    this.parking.notify();
  }

  /** Gives free slots to parked tasks that are ready, then claims open jobs while slots are free. */
  private pump(): void {
    this.slots.serveWaiters();
    if (this.draining || this.free <= 0) return;
    for (const job of this.claimOrder()) {
      if (this.free <= 0) return;
      if (this.slots.has(job.jobId)) continue;
      const out = parseMapJobId(job.jobId);
      if (out && this.maps.holder(out.shuffleId, out.map, this.node.identity.rpc) !== undefined) {
        this.jobs.close(job.jobId); // its output is already announced
        continue;
      }
      void this.claim(job);
    }
  }

  /** The open jobs in the order to claim them (JobDirectory.claimOrder, among the live workers). */
  private claimOrder(): Iterable<Extract<WireRecord, { kind: 'job' }>> {
    return this.jobs.claimOrder(this.node.identity.node, () =>
      this.node
        .peers()
        .filter((p) => p.identity.role === 'worker')
        .map((p) => p.identity.node),
    );
  }

  private async claim(job: Extract<WireRecord, { kind: 'job' }>): Promise<void> {
    this.slots.claiming(job.jobId);
    this.counters.claimsTried++;
    try {
      const self = job.source.node === this.node.identity.node;
      if (!self && !this.node.peer(job.source.node)) await this.node.connect(job.source.rpc);
      const reply = await this.toSource(job.source.node, {
        op: 'job.claim',
        jobId: job.jobId,
        attempt: job.attempt,
        worker: this.node.identity.node,
      });
      if (!reply.granted && reply.reason === 'not-member') {
        this.log('info', 'claim refused: not a member of the source; saying HELLO again', {
          job: job.jobId,
          source: job.source.node,
        });
        // The source dropped this worker (it was paused, or cut off): HELLO again to be re-admitted.
        this.counters.claimsRefusedNotMember++;
        if (!self) void this.node.rehello(job.source.node);
      }
      if (!reply.granted) {
        // taken, stale, done or unknown: a newer record will come if the job needs us
        if (this.jobs.openJob(job.jobId) === job) this.jobs.close(job.jobId);
        return;
      }
      this.counters.claimsGranted++;
      this.log('debug', 'task claimed', { job: job.jobId, attempt: job.attempt, source: job.source.node });
      this.jobs.close(job.jobId);
      if (this.draining) {
        // Granted while this worker began to stop: hand it back at once.
        await this.releaseLease(job, reply.lease.token);
        return;
      }
      const abort = new AbortController();
      const entry: RunningTask = { abort, owner: job.owner, released: false };
      this.slots.granted(job.jobId, entry);
      await this.run(job, reply.lease.token, reply.task, entry);
    } catch {
      // the source is unreachable; its records will come again if it is alive
    } finally {
      this.slots.end(job.jobId);
      this.pump();
    }
  }

  private async run(
    job: Extract<WireRecord, { kind: 'job' }>,
    token: string,
    task: Uint8Array,
    entry: RunningTask,
  ): Promise<void> {
    const { abort } = entry;
    const source = job.source.node;
    const desc = decode<TaskDesc>(task);
    const renew: Timer = this.clock.setInterval(() => {
      this.toSource(source, { op: 'job.renew', jobId: job.jobId, token })
        .then((r) => {
          // The lease is gone (re-broadcast to another worker): stop renewing, but let the task
          // finish; its completion will be refused as stale, which is harmless.
          if (!r.ok) renew.cancel();
        })
        .catch(() => undefined);
    }, this.options.leaseRenewMs);
    const maxStageAttempts = this.options.maxStageAttempts ?? 4;
    try {
      let lost = 0;
      let parkedTime = 0; // over every park (a fetch failure parks the task again)
      for (;;) {
        // A wide dependency: the map outputs it reads must be announced first. Missing ones are
        // posted as jobs from here while this task waits parked, holding no slot.
        const stored = (nodeId: string, n: number) => {
          for (let p = 0; p < n; p++) if (desc.blocks?.[blockId(nodeId, p)] === undefined) return false;
          return true;
        };
        const shuffles = stageShuffles(desc.nodes, desc.root, stored);
        let runDesc = desc;
        let bytes = task;
        if (shuffles.length > 0) {
          const { locations, parkedMs } = await this.parking.untilOutputs(
            job.jobId,
            job.owner,
            desc,
            shuffles,
            abort.signal,
          );
          parkedTime += parkedMs;
          if (abort.signal.aborted) return await this.releaseIfStopping(job, token, entry);
          runDesc = { ...desc, locations };
          bytes = encode(runDesc);
        }
        // What the task prints goes to its client (`task.log`), all of it before the completion.
        const logs = new TaskLogSender((lines) =>
          this.node.request(
            job.owner,
            {
              op: 'task.log',
              worker: this.node.identity.node,
              stageId: desc.stageId,
              partition: desc.partition,
              attempt: desc.attempt,
              lines,
            },
            this.options.requestTimeoutMs,
          ),
        );
        const outcome = await this.pool.run(bytes, this.taskServices.forTask(job.owner, runDesc), {
          signal: abort.signal,
          onLog: (lines) => logs.add(lines),
        });
        await logs.flush().catch(() => undefined); // best effort: a lost line never fails the task
        if (abort.signal.aborted) return await this.releaseIfStopping(job, token, entry);
        if (!outcome.ok && outcome.error.name === 'FetchFailedError') {
          this.counters.fetchFailures++;
          const data = (outcome.error as { data?: { shuffleId?: string; mapIndex?: number } }).data;
          const sid = data?.shuffleId;
          const m = data?.mapIndex;
          const endpoint = sid !== undefined && m !== undefined ? runDesc.locations?.[sid]?.[m] : undefined;
          this.log('warn', 'fetch failed', {
            job: job.jobId,
            shuffle: sid,
            map: m,
            holder: endpoint,
            error: outcome.error.message,
            lost: lost + 1,
          });
          if (sid !== undefined && m !== undefined && ++lost <= maxStageAttempts) {
            // The holder is gone or lost the block: forget it there, and recompute from lineage.
            if (endpoint !== undefined) this.maps.removeEndpoint(sid, m, endpoint);
            this.reportFetchFailure(job.owner, desc, sid);
            continue;
          }
        }
        // Recoveries ran out (or the failure named no output): the fetch failure counts.
        // The computation is over: its slot goes to the next task while the outcome is stored
        // and reported (a report to a source that just died waits until it is declared dead).
        this.slots.move(job.jobId, 'reporting');
        this.pump();
        await this.finish(job, token, desc, withParkedTime(outcome, parkedTime));
        return;
      }
    } catch (e) {
      if (abort.signal.aborted) return await this.releaseIfStopping(job, token, entry);
      // A map stage this task needs failed for good: fail this task with its cause.
      const end = e instanceof TaskFailedError ? taskEnd('dependency-failed') : taskEnd('worker-error');
      await this.reportFailure(job, token, errorToWire(e), end).catch(() => undefined);
    } finally {
      renew.cancel();
    }
  }

  /** A task aborted because this worker stops hands its lease back (its source re-posts it now). */
  private async releaseIfStopping(
    job: Extract<WireRecord, { kind: 'job' }>,
    token: string,
    entry: RunningTask,
  ): Promise<void> {
    if (entry.released) await this.releaseLease(job, token);
  }

  /** Hands a lease back: a `job.fail` with a WorkerStoppingError, not counted against the task. */
  private async releaseLease(job: Extract<WireRecord, { kind: 'job' }>, token: string): Promise<void> {
    this.counters.leasesReleased++;
    this.log('info', 'lease handed back (stopping)', { job: job.jobId, source: job.source.node });
    const error = errorToWire(new WorkerStoppingError(`worker ${this.node.identity.node} is stopping`));
    await this.toSource(job.source.node, {
      op: 'job.fail',
      jobId: job.jobId,
      token,
      worker: this.node.identity.node,
      error: { ...error },
      end: taskEnd('worker-stopping'),
    }).catch(() => undefined);
  }

  /** Reports a task's outcome to its source. */
  private async finish(
    job: Extract<WireRecord, { kind: 'job' }>,
    token: string,
    desc: TaskDesc,
    outcome: TaskOutcome,
  ): Promise<void> {
    const source = job.source.node;
    if (outcome.ok && this.draining && desc.output.kind === 'shuffle') {
      // A map output stored here would go with this worker: hand the job back instead.
      await this.releaseLease(job, token);
      return;
    }
    if (outcome.ok) {
      await this.storeOutputs(desc, outcome.result, job.owner);
      const result = await this.resultField(job.jobId, outcome.result.result, job.owner);
      const reply = await this.toSource(source, {
        op: 'job.complete',
        jobId: job.jobId,
        token,
        worker: this.node.identity.node,
        ...result,
        accumulators: outcome.result.accumulators.map(([id, v]) => [id, v] as [string, unknown]),
        blocks: outcome.result.blocks.map(([id, data]) => [id, data.byteLength] as [string, number]),
        ...(outcome.result.metrics && { metrics: outcome.result.metrics }),
      });
      if (reply.ok) {
        this.counters.tasksSucceeded++;
        this.log('debug', 'task done', { job: job.jobId, attempt: desc.attempt });
      } else {
        this.counters.completionsRefused++;
        this.log('info', 'completion refused as stale', { job: job.jobId, attempt: desc.attempt });
        if (result.resultBlock) await this.store.delete(result.resultBlock.id);
      }
    } else {
      await this.reportFailure(job, token, outcome.error, endOfOutcome(outcome.error, outcome.userError));
    }
  }

  /** Reports a failed task to its source, with why it ended (the source applies it as it is). */
  private async reportFailure(
    job: Extract<WireRecord, { kind: 'job' }>,
    token: string,
    error: WireError,
    end: TaskEndReason,
  ): Promise<void> {
    this.counters.tasksFailed++;
    this.log('info', 'task failed', {
      job: job.jobId,
      error: `${error.name}: ${error.message}`,
      end: end.kind,
    });
    await this.toSource(job.source.node, {
      op: 'job.fail',
      jobId: job.jobId,
      token,
      worker: this.node.identity.node,
      error: { ...error },
      end: { ...end },
    });
  }

  /** Tells the client a task lost a map output (for its progress and counters). */
  private reportFetchFailure(owner: string, desc: TaskDesc, shuffleId: string): void {
    this.node
      .request(
        owner,
        {
          op: 'job.event',
          jobId: `fetch:${shuffleId}`,
          stageId: desc.stageId,
          shuffleId,
          partition: desc.partition,
          attempt: desc.attempt,
          state: 'retried',
          reason: 'fetch-failed',
        },
        this.options.requestTimeoutMs,
      )
      .catch(() => undefined);
  }

  /** A request to a job's source (this worker's own map job source answers locally), its reply checked. */
  private async toSource<R extends Request>(source: string, req: R): Promise<ReplyOf<R['op']>> {
    if (source === this.node.identity.node)
      return checkedReply<R['op']>(req.op, await this.source.answer(req));
    return this.node.request(source, req, this.options.requestTimeoutMs);
  }

  /**
   * How a task's result travels in `job.complete`: inline when small, otherwise stored here as a
   * block the source fetches in chunks (messages are capped at MAX_MESSAGE_BYTES).
   */
  private async resultField(
    jobId: string,
    value: unknown,
    owner: string,
  ): Promise<{ result?: Uint8Array; resultBlock?: { id: string; bytes: number } }> {
    if (value === undefined) return {};
    const bytes = encode(value);
    if (bytes.byteLength <= INLINE_RESULT_MAX_BYTES) return { result: bytes };
    const id = resultBlockId(jobId);
    await this.store.put(id, bytes, owner);
    return { resultBlock: { id, bytes: bytes.byteLength } };
  }

  private storeOutputs(desc: TaskDesc, result: TaskResult, owner: string): Promise<void> {
    if (this.draining) return Promise.resolve(); // stopping: nothing stored here would outlive this worker
    return this.blocks.storeOutputs(desc, result, owner);
  }

  private async serve(req: Request): Promise<unknown> {
    switch (req.op) {
      case 'fetch':
        return this.blocks.fetch(req);
      case 'cancel':
        for (const id of req.jobIds) this.slots.task(id)?.abort.abort();
        return { ok: true };
      case 'job.claim':
      case 'job.renew':
      case 'job.complete':
      case 'job.fail':
        return this.source.answer(req);
      case 'drop':
        if (req.broadcasts) this.dropBroadcasts(req.broadcasts);
        return { dropped: await this.dropPrefixes(req.prefixes) };
      default:
        throw new InvalidOperationError(`a worker does not serve ${req.op}`);
    }
  }

  /** Forgets broadcast values (fetched again if a later task needs them) and their compiled modules. */
  private dropBroadcasts(ids: readonly string[]): void {
    this.taskServices.dropBroadcasts(ids);
    this.pool.forgetWasm?.(ids);
  }

  /** Drops stored blocks, map output records and map jobs by block id prefix; returns blocks dropped. */
  private dropPrefixes(prefixes: readonly string[]): Promise<number> {
    this.source.dropShuffles(prefixes);
    this.maps.dropPrefixes(prefixes);
    return this.blocks.dropPrefixes(prefixes);
  }

  /**
   * A client's record lists the shuffles its running actions read: outputs stored here for it of
   * any other shuffle (stored a while ago, so not of an action the record predates) are dropped.
   */
  private onClientRecord(r: Extract<WireRecord, { kind: 'client' }>): void {
    const stale = this.blocks.staleShuffles(r);
    if (stale.length > 0) {
      this.counters.shufflesReleasedByRecord += stale.length;
      void this.dropPrefixes(stale);
    }
  }

  private onPeerDown(p: PeerIdentity): void {
    this.maps.removeHolder(p.node);
    this.jobs.sourceDown(p.node);
    this.source.peerDown(p.node);
    this.notify();
    if (p.role !== 'client') return;
    // The client is gone: its tasks and blocks have no one to serve.
    this.counters.clientsDropped++;
    this.jobs.ownerDown(p.node);
    for (const r of this.slots.claimed()) if (r.owner === p.node) r.abort.abort();
    this.blocks.ownerDown(p.node);
  }

  /**
   * Claimed tasks (`running` counts every claimed task; `parked` those parked, waiting for a slot
   * or reporting), claims in flight, stored blocks, open map jobs: for tests, status, invariants.
   */
  status(): { running: number; parked: number; claiming: number; blocks: number; mapJobs: number } {
    return {
      ...this.slots.status(),
      blocks: this.store.stats().blocks,
      mapJobs: this.source.size,
    };
  }

  /**
   * Stops gracefully, releasing at once what this worker holds: no new claims; its block records
   * are withdrawn (reducers elsewhere plan without its map outputs); every task that is not
   * already reporting its outcome is stopped and its lease handed back (`job.fail` with a
   * WorkerStoppingError: re-posted at once, not counted); the map jobs it is the source of are
   * withdrawn. Tasks reporting their outcome get `graceMs` to finish. Then a goodbye, so peers
   * drop it without waiting for the dead-after timeout, and the sockets close.
   */
  async stop(graceMs = 5000): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    this.source.beginStop();
    this.blocks.withdrawAll();
    for (const t of this.slots.states()) {
      if (t.state === 'reporting') continue;
      t.task.released = true;
      t.task.abort.abort(new WorkerStoppingError('the worker is stopping'));
    }
    const t0 = this.clock.now();
    while (this.slots.size > 0 && this.clock.now() - t0 < graceMs) await sleep(this.clock, 10);
    for (const r of this.slots.claimed()) r.abort.abort();
    this.source.stop();
    this.node.goodbye();
    await this.pool.close();
    await this.node.stop();
    await this.store.close();
  }
}

/** A successful outcome with the time its task waited parked in its metrics (where it measured any). */
function withParkedTime(outcome: TaskOutcome, parkedTime: number): TaskOutcome {
  if (!outcome.ok || !outcome.result.metrics) return outcome;
  return { ok: true, result: { ...outcome.result, metrics: { ...outcome.result.metrics, parkedTime } } };
}
