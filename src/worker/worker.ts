/**
 * The worker: hears `job` records, claims jobs at their source while it has free slots, runs each
 * task on a worker thread (one per slot), renews the lease while it runs, stores what the task
 * produced (shuffle buckets, persisted partitions) in its block store, and reports completion.
 * It serves its blocks to other peers, and drops a client's tasks and blocks when the client is
 * gone. This file is the wiring: it builds the pieces, routes records, requests and peer events
 * to them and hands out slots; a claimed job's life, claim to reported end, is task-lifecycle.ts.
 */
import {
  MAX_TASK_FAILURES,
  REDUCER_MAX_BYTES_IN_FLIGHT,
  derivedTimings,
  type DerivedTimings,
  LOCALITY_WAIT_MS,
} from '../protocol/defaults.js';
import { InvalidOperationError, WorkerStoppingError } from '../protocol/errors.js';
import type { PeerIdentity, Record as WireRecord, Request } from '../protocol/messages.js';
import { BlockStore } from '../partition-server/block-store.js';
import { PeerNode } from '../partition-server/peer-node.js';
import { sleep, systemClock, type Clock, type Timer } from '../core/clock.js';
import { parseMapOutputId } from '../rdd/lineage.js';
import { MapJobSource, parseMapJobId } from './map-job-source.js';
import { MapOutputView } from './map-outputs.js';
import { TaskSlots } from './task-slots.js';
import { JobDirectory } from './job-directory.js';
import { ParkingCoordinator } from './parking.js';
import { TaskLifecycle } from './task-lifecycle.js';
import { TaskServiceHost } from './task-services.js';
import { BlockServer } from './block-server.js';
import { TaskPool } from './task-pool.js';
import { availableParallelism } from 'node:os';
import type {
  TaskExecutor,
  WorkerCounters,
  WorkerLog,
  WorkerLogLevel,
  WorkerOptions,
} from './worker-types.js';

export type { TaskExecutor, WorkerCounters, WorkerLog, WorkerLogLevel, WorkerOptions };

/** Task results above this travel as a block fetched in chunks, not in `job.complete` (task-lifecycle.ts). */
export { INLINE_RESULT_MAX_BYTES } from './task-lifecycle.js';

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
    parkedTasksGivenUp: 0,
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
  /** The CPU limit last given to the pool (JavaScript tasks at once). */
  private cpuShare: number;
  /** Follows the CPU share every heartbeat (without `--cpus`). */
  private cpuTimer: Timer | undefined;
  /** Parks tasks until the map outputs they read are announced, posting the missing map jobs. */
  private readonly parking: ParkingCoordinator;
  /** Takes each claimed job from its claim to its reported end. */
  private readonly lifecycle: TaskLifecycle;
  /** How often the map jobs posted here are re-announced. */
  private get reannounceMs(): number {
    return this.timings.reannounceMs;
  }
  /** The blocks this worker holds; for SQL batches also their column section (the worker's catalog). */
  private readonly blocks: BlockServer;
  /** What the threads of this worker's tasks ask for (slices, broadcasts, blocks, shuffle buckets). */
  private readonly taskServices: TaskServiceHost;
  private draining = false;
  /** A pump at the end of the first locality wait that left a job out (see JobDirectory.claimOrder). */
  private localityTimer: { at: number; timer: Timer } | undefined;
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
    this.cpuShare = options.cpus ?? options.slots;
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
    this.lifecycle = new TaskLifecycle({
      node,
      jobs: this.jobs,
      slots: this.slots,
      parking: this.parking,
      source: this.source,
      executor: pool,
      taskServices: this.taskServices,
      blocks: this.blocks,
      store,
      maps: this.maps,
      counters: this.counters,
      log: this.log,
      clock: this.clock,
      leaseRenewMs: options.leaseRenewMs,
      requestTimeoutMs: options.requestTimeoutMs,
      maxStageAttempts: options.maxStageAttempts ?? 4,
      pump: () => this.pump(),
      isDraining: () => this.draining,
    });
  }

  /** Starts the partition server, the block store and the thread pool, and HELLOs the static peers. */
  static async start(options: WorkerOptions): Promise<Worker> {
    const wait = options.localityWaitMs;
    if (wait !== undefined && !(Number.isFinite(wait) && wait >= 0))
      throw new InvalidOperationError(
        `localityWaitMs must be a number of milliseconds, 0 or more (got ${wait}); 0 claims every job at once`,
      );
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
        ...(options.cpus !== undefined && { cpus: options.cpus }),
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
    if (options.cpus === undefined && pool.setCpus) {
      // On joins and deaths, and every heartbeat: a worker suspected dead gives its share back
      // before it is declared dead.
      const follow = () => worker.followCpuShare();
      node.on('peer-up', follow);
      node.on('peer-down', follow);
      worker.cpuTimer = worker.clock.setInterval(follow, options.heartbeatMs);
      follow();
    }
    const log = worker.log;
    node.on('peer-up', (p) => log('info', 'peer joined', { node: p.node, role: p.role, rpc: p.rpc }));
    node.on('peer-down', (p) => log('info', 'peer lost', { node: p.node, role: p.role }));
    node.on('warning', (e) => log('debug', 'network warning', { error: String(e) }));
    await Promise.all(options.peers.map((p) => node.keepConnected(p)));
    return worker;
  }

  /**
   * Sets the pool's CPU limit to this host's share ({@link sharedCpus}) from the live workers
   * whose endpoints name this worker's host and that are not suspected (without `--cpus`).
   */
  private followCpuShare(): void {
    const host = endpointHost(this.node.identity.rpc);
    let workers = 1;
    for (const p of this.node.peers())
      if (
        p.identity.role === 'worker' &&
        endpointHost(p.identity.rpc) === host &&
        this.node.suspectedForMs(p.identity.node) === undefined
      )
        workers++;
    const cpus = sharedCpus(availableParallelism(), workers, this.options.slots);
    if (cpus !== this.cpuShare) {
      this.cpuShare = cpus;
      this.log('debug', 'CPU share for JavaScript tasks', { cpus, workersOnHost: workers });
    }
    this.pool.setCpus?.(cpus);
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
      void this.lifecycle.claim(job);
    }
    this.pumpAfterLocalityWait();
  }

  /** Pumps again when the first job left to its preferred worker may be claimed here. */
  private pumpAfterLocalityWait(): void {
    const at = this.jobs.nextDeferredAt;
    if (at === undefined || this.free <= 0 || this.draining) return;
    if (this.localityTimer && this.localityTimer.at <= at) return;
    this.localityTimer?.timer.cancel();
    const timer = this.clock.setTimeout(
      () => {
        this.localityTimer = undefined;
        this.pump();
      },
      Math.max(0, at - this.clock.now()),
    );
    this.localityTimer = { at, timer };
  }

  /** The open jobs in the order to claim them (JobDirectory.claimOrder, among the live workers). */
  private claimOrder(): Iterable<Extract<WireRecord, { kind: 'job' }>> {
    return this.jobs.claimOrder(
      this.node.identity.node,
      () =>
        this.node
          .peers()
          .filter((p) => p.identity.role === 'worker')
          .map((p) => p.identity.node),
      Math.random,
      this.options.localityWaitMs ?? LOCALITY_WAIT_MS,
    );
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
    this.giveUpEndedParkedTasks(r);
  }

  /**
   * Parked tasks of this client that belong to none of the shuffles its record lists are of an
   * action that ended (their lease may live on at a source that is this worker): they are given up,
   * or they would post map jobs and store outputs nobody reads. Only tasks parked for longer than
   * the release grace, so a record sent before their action started cannot end them.
   */
  private giveUpEndedParkedTasks(r: Extract<WireRecord, { kind: 'client' }>): void {
    if (!r.shuffles) return;
    const live = new Set(r.shuffles);
    const now = this.clock.now();
    for (const t of this.slots.states()) {
      if (t.state === 'reporting') continue;
      const on = t.task.parkedOn;
      if (!on || t.task.owner !== r.peer.node || t.task.abort.signal.aborted) continue;
      if (now - on.since < this.timings.shuffleReleaseGraceMs || on.shuffles.some((id) => live.has(id)))
        continue;
      this.counters.parkedTasksGivenUp++;
      this.log('info', 'parked task given up: its action ended', { owner: r.peer.node });
      t.task.abort.abort();
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
    this.cpuTimer?.cancel();
    this.localityTimer?.timer.cancel();
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

/**
 * A worker's share of its machine for JavaScript tasks: the CPUs divided among the live workers
 * on the host (at least 1, at most the worker's slots). One daemon per machine gets every CPU;
 * the daemons of a local cluster split them, and a survivor takes back a dead one's.
 */
export function sharedCpus(cores: number, workersOnHost: number, slots: number): number {
  return Math.min(slots, Math.max(1, Math.floor(cores / Math.max(1, workersOnHost))));
}

/** The host of a `tcp://host:port` endpoint (the endpoint itself when it is not one). */
function endpointHost(rpc: string): string {
  const m = /^tcp:\/\/(.*):\d+$/.exec(rpc);
  return m ? m[1]! : rpc;
}
