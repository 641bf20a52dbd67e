/**
 * The worker: hears `job` records, claims jobs at their source while it has free slots, runs each
 * task on a worker thread (one per slot), renews the lease while it runs, stores what the task
 * produced (shuffle buckets, persisted partitions) in its block store, and reports completion.
 * It serves its blocks to other peers, and drops a client's tasks and blocks when the client is
 * gone.
 */
import { decode, encode } from '../protocol/codec.js';
import { FETCH_CHUNK_BYTES } from '../protocol/defaults.js';
import { FetchFailedError, InvalidOperationError } from '../protocol/errors.js';
import type { PeerIdentity, Record as WireRecord, Request } from '../protocol/messages.js';
import { BlockStore } from '../partition-server/block-store.js';
import type { CurveKeys } from '../partition-server/curve.js';
import { PeerNode } from '../partition-server/peer-node.js';
import type { TaskDesc } from '../rdd/lineage.js';
import type { TaskResult } from '../rdd/runner.js';
import { TaskPool, type PoolServices } from './task-pool.js';

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
  readonly heartbeatMs: number;
  readonly deadAfterMs: number;
  readonly leaseRenewMs: number;
  readonly requestTimeoutMs: number;
  readonly taskTimeoutMs?: number;
  /** Cluster CURVE keys (from the secret); required to bind anything but loopback. */
  readonly curve?: CurveKeys;
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
}

/** Task results above this travel as a block fetched in chunks, not inside `job.complete`. */
export const INLINE_RESULT_MAX_BYTES = 16 * 1024 * 1024;

/** Block id of reduce partition `r` of map output `m` of shuffle `s`. */
export function shuffleBlockId(shuffleId: string, map: number, reduce: number): string {
  return `shuffle_${shuffleId}_${map}_${reduce}`;
}

interface Running {
  readonly abort: AbortController;
  readonly owner: string;
}

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
  };
  private readonly openJobs = new Map<string, Extract<WireRecord, { kind: 'job' }>>();
  private readonly running = new Map<string, Running>();
  private readonly claiming = new Set<string>();
  /** Blocks this worker announced (persisted partitions), for snapshots and withdrawals. */
  private readonly ownBlocks = new Map<string, { bytes: number; owner: string }>();
  private readonly broadcasts = new Map<string, Promise<Uint8Array>>();
  private draining = false;
  private seq = 0;

  private constructor(
    private readonly options: WorkerOptions,
    readonly node: PeerNode,
    readonly store: BlockStore,
    readonly pool: TaskPool,
  ) {}

  /** Starts the partition server, the block store and the thread pool, and HELLOs the static peers. */
  static async start(options: WorkerOptions): Promise<Worker> {
    const ref: { worker?: Worker } = {};
    const node = await PeerNode.start({
      role: 'worker',
      cluster: options.cluster,
      host: options.host,
      port: options.port,
      heartbeatMs: options.heartbeatMs,
      deadAfterMs: options.deadAfterMs,
      requestTimeoutMs: options.requestTimeoutMs,
      ...(options.curve && { curve: options.curve }),
      handler: (req) => {
        if (!ref.worker) return Promise.reject(new InvalidOperationError('worker is starting'));
        return ref.worker.serve(req);
      },
      ownRecords: () => ref.worker?.ownRecords() ?? [],
    });
    const store = new BlockStore({ memoryBytes: options.memoryBytes, dir: options.dataDir });
    const pool = new TaskPool({
      threads: options.slots,
      ...(options.taskTimeoutMs !== undefined && { taskTimeoutMs: options.taskTimeoutMs }),
    });
    const worker = new Worker(options, node, store, pool);
    ref.worker = worker;
    node.on('record', (r) => worker.onRecord(r));
    node.on('peer-down', (p) => worker.onPeerDown(p));
    await Promise.all(options.peers.map((p) => node.connect(p)));
    return worker;
  }

  /** Free slots (not running and not being claimed). */
  get free(): number {
    return this.options.slots - this.running.size - this.claiming.size;
  }

  private ownRecords(): WireRecord[] {
    const own: WireRecord = {
      kind: 'worker',
      peer: this.node.identity,
      slots: this.options.slots,
      free: Math.max(0, this.free),
      blocks: this.store.stats().blocks,
      memoryBytes: this.store.stats().memoryBytes,
      seq: this.seq++,
    };
    const blocks: WireRecord[] = [...this.ownBlocks].map(([blockId, b]) => ({
      kind: 'rdd',
      blockId,
      holder: this.node.identity,
      bytes: b.bytes,
      owner: b.owner,
    }));
    return [own, ...blocks];
  }

  private onRecord(r: WireRecord): void {
    switch (r.kind) {
      case 'job': {
        const prev = this.openJobs.get(r.jobId);
        if (!prev || prev.attempt <= r.attempt) this.openJobs.set(r.jobId, r);
        this.pump();
        break;
      }
      case 'withdraw':
        if (r.of === 'job') this.openJobs.delete(r.id);
        break;
      default:
        break;
    }
  }

  /** Claims open jobs while there are free slots. */
  private pump(): void {
    if (this.draining || this.free <= 0) return;
    for (const job of this.claimOrder()) {
      if (this.free <= 0) return;
      if (this.running.has(job.jobId) || this.claiming.has(job.jobId)) continue;
      void this.claim(job);
    }
  }

  /**
   * Open jobs in the order to claim them. Every worker hears the same jobs in the same order; to
   * avoid all racing for the first ones (a refused claim costs a round trip), the worker ranked r
   * (by node id) among the W live workers it knows tries partitions ≡ r (mod W) first; a worker
   * that knows no other worker starts at a random job.
   */
  private claimOrder(): Iterable<Extract<WireRecord, { kind: 'job' }>> {
    if (this.openJobs.size < 2) return this.openJobs.values();
    const jobs = [...this.openJobs.values()];
    const self = this.node.identity.node;
    const workers = [self];
    for (const p of this.node.peers()) if (p.identity.role === 'worker') workers.push(p.identity.node);
    if (workers.length < 2) {
      const start = Math.floor(Math.random() * jobs.length);
      return jobs.slice(start).concat(jobs.slice(0, start));
    }
    workers.sort();
    const rank = workers.indexOf(self);
    const mine = jobs.filter((j) => j.partition % workers.length === rank);
    return mine.concat(jobs.filter((j) => j.partition % workers.length !== rank));
  }

  private async claim(job: Extract<WireRecord, { kind: 'job' }>): Promise<void> {
    this.claiming.add(job.jobId);
    this.counters.claimsTried++;
    let granted = false;
    try {
      if (!this.node.peer(job.source.node)) await this.node.connect(job.source.rpc);
      const reply = (await this.node.request(
        job.source.node,
        { op: 'job.claim', jobId: job.jobId, attempt: job.attempt, worker: this.node.identity.node },
        this.options.requestTimeoutMs,
      )) as { granted: boolean; lease?: { token: string }; task?: Uint8Array };
      if (!reply.granted || !reply.lease || !reply.task) {
        // taken, stale, done or unknown: a newer record will come if the job needs us
        if (this.openJobs.get(job.jobId) === job) this.openJobs.delete(job.jobId);
        return;
      }
      granted = true;
      this.counters.claimsGranted++;
      this.openJobs.delete(job.jobId);
      const abort = new AbortController();
      this.running.set(job.jobId, { abort, owner: job.owner });
      this.claiming.delete(job.jobId);
      await this.run(job, reply.lease.token, reply.task, abort);
    } catch {
      // the source is unreachable; its records will come again if it is alive
    } finally {
      this.claiming.delete(job.jobId);
      if (granted) this.running.delete(job.jobId);
      this.pump();
    }
  }

  private async run(
    job: Extract<WireRecord, { kind: 'job' }>,
    token: string,
    task: Uint8Array,
    abort: AbortController,
  ): Promise<void> {
    const source = job.source.node;
    const desc = decode<TaskDesc>(task);
    const renew = setInterval(() => {
      this.node
        .request(source, { op: 'job.renew', jobId: job.jobId, token }, this.options.requestTimeoutMs)
        .then((r) => {
          // The lease is gone (re-broadcast to another worker): stop renewing, but let the task
          // finish; its completion will be refused as stale, which is harmless.
          if (!(r as { ok: boolean }).ok) clearInterval(renew);
        })
        .catch(() => undefined);
    }, this.options.leaseRenewMs);
    renew.unref();
    try {
      const outcome = await this.pool.run(task, this.services(source, desc), { signal: abort.signal });
      if (abort.signal.aborted) return;
      if (outcome.ok) {
        await this.storeOutputs(desc, outcome.result, job.owner);
        const result = await this.resultField(job.jobId, outcome.result.result, job.owner);
        const reply = (await this.node.request(
          source,
          {
            op: 'job.complete',
            jobId: job.jobId,
            token,
            worker: this.node.identity.node,
            ...result,
            accumulators: outcome.result.accumulators.map(([id, v]) => [id, v] as [string, unknown]),
            blocks: outcome.result.blocks.map(([id, data]) => [id, data.byteLength] as [string, number]),
          },
          this.options.requestTimeoutMs,
        )) as { ok: boolean };
        if (reply.ok) this.counters.tasksSucceeded++;
        else {
          this.counters.completionsRefused++;
          if (result.resultBlock) await this.store.delete(result.resultBlock.id);
        }
      } else {
        this.counters.tasksFailed++;
        if (outcome.error.name === 'FetchFailedError') this.counters.fetchFailures++;
        await this.node.request(
          source,
          {
            op: 'job.fail',
            jobId: job.jobId,
            token,
            worker: this.node.identity.node,
            error: { ...outcome.error },
            userError: outcome.userError,
          },
          this.options.requestTimeoutMs,
        );
      }
    } finally {
      clearInterval(renew);
    }
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
    const id = `result_${jobId}`;
    await this.store.put(id, bytes, owner);
    return { resultBlock: { id, bytes: bytes.byteLength } };
  }

  private async storeOutputs(desc: TaskDesc, result: TaskResult, owner: string): Promise<void> {
    if (desc.output.kind === 'shuffle' && result.buckets) {
      const s = desc.output.shuffle;
      await Promise.all(
        result.buckets.map((b, r) => this.store.put(shuffleBlockId(s.id, desc.partition, r), b, owner)),
      );
    }
    for (const [id, data] of result.blocks) {
      await this.store.put(id, data, owner);
      this.ownBlocks.set(id, { bytes: data.byteLength, owner });
      this.node.publish({
        kind: 'rdd',
        blockId: id,
        holder: this.node.identity,
        bytes: data.byteLength,
        owner,
      });
    }
  }

  /** What a task's thread may ask for: data hosted by the source, map outputs, blocks, broadcasts. */
  private services(source: string, desc: TaskDesc): PoolServices {
    return {
      readSlice: (dataId, slice) => this.fetchAll(source, 'slice', dataId, slice),
      broadcastBytes: (id) => this.broadcastBytes(source, id),
      broadcastValue: async (id) => decode(await this.broadcastBytes(source, id)),
      readBlock: async (id) => {
        // The client is authoritative about persisted blocks: a block it does not list (never
        // stored, or unpersisted) is recomputed even if a stale copy is still here.
        const endpoint = desc.blocks?.[id];
        if (endpoint === undefined) return undefined;
        try {
          if (endpoint === this.node.identity.rpc) return await this.store.get(id);
          const holder =
            this.node.peers().find((p) => p.identity.rpc === endpoint)?.identity ??
            (await this.node.connect(endpoint));
          return holder ? await this.fetchAll(holder.node, 'block', id, 0) : undefined;
        } catch {
          return undefined; // lost with its holder: recompute from lineage
        }
      },
      readShuffle: async (shuffleId, reduce, numMaps) => {
        const where = desc.locations?.[shuffleId] ?? [];
        const out: Uint8Array[] = [];
        for (let m = 0; m < numMaps; m++) {
          const id = shuffleBlockId(shuffleId, m, reduce);
          const endpoint = where[m] ?? '';
          try {
            if (endpoint === this.node.identity.rpc) {
              const b = await this.store.get(id);
              if (!b) throw new Error('missing locally');
              out.push(b);
              continue;
            }
            if (!endpoint) throw new Error('its location is unknown');
            // Workers meet each other on demand: the first fetch from a holder HELLOs it.
            const holder =
              this.node.peers().find((p) => p.identity.rpc === endpoint)?.identity ??
              (await this.node.connect(endpoint));
            if (!holder) throw new Error(`no live peer at ${endpoint}`);
            out.push(await this.fetchAll(holder.node, 'block', id, 0));
          } catch (e) {
            throw new FetchFailedError(
              `could not fetch map output ${m} of shuffle ${shuffleId}: ${(e as Error).message}`,
              shuffleId,
              m,
            );
          }
        }
        return out;
      },
    };
  }

  /** A broadcast value's bytes, fetched from its source once per worker. */
  private broadcastBytes(source: string, id: string): Promise<Uint8Array> {
    let v = this.broadcasts.get(id);
    if (!v) {
      v = this.fetchAll(source, 'broadcast', id, 0);
      v.catch(() => this.broadcasts.delete(id));
      this.broadcasts.set(id, v);
    }
    return v;
  }

  /** Fetches a whole block/slice/broadcast from a peer in chunks. */
  private fetchAll(node: string, what: 'block' | 'slice' | 'broadcast', id: string, index: number) {
    return this.node.fetchAll(node, what, id, index, this.options.requestTimeoutMs);
  }

  private async serve(req: Request): Promise<unknown> {
    switch (req.op) {
      case 'fetch': {
        if (req.what !== 'block') throw new InvalidOperationError(`a worker does not host ${req.what}s`);
        const data = await this.store.get(req.id);
        if (!data) throw new InvalidOperationError(`block ${req.id} is not stored here`);
        return {
          data: data.subarray(req.offset, req.offset + Math.min(req.length, FETCH_CHUNK_BYTES)),
          total: data.byteLength,
        };
      }
      case 'cancel':
        for (const id of req.jobIds) this.running.get(id)?.abort.abort();
        return { ok: true };
      case 'drop': {
        let dropped = 0;
        for (const b of this.store.list()) {
          if (!req.prefixes.some((p) => b.id.startsWith(p))) continue;
          if (await this.store.delete(b.id)) dropped++;
          if (this.ownBlocks.delete(b.id)) {
            this.node.publish({ kind: 'withdraw', of: 'rdd', id: b.id, holder: this.node.identity.node });
          }
        }
        return { dropped };
      }
      default:
        throw new InvalidOperationError(`a worker does not serve ${req.op}`);
    }
  }

  private onPeerDown(p: PeerIdentity): void {
    if (p.role !== 'client') return;
    // The client is gone: its tasks and blocks have no one to serve.
    this.counters.clientsDropped++;
    for (const [id, job] of [...this.openJobs]) if (job.owner === p.node) this.openJobs.delete(id);
    for (const r of this.running.values()) if (r.owner === p.node) r.abort.abort();
    for (const [id, b] of [...this.ownBlocks]) if (b.owner === p.node) this.ownBlocks.delete(id);
    void this.store.deleteOwner(p.node);
  }

  /** Running tasks and stored blocks, for tests and status. */
  status(): { running: number; blocks: number } {
    return { running: this.running.size, blocks: this.store.stats().blocks };
  }

  /**
   * Stops gracefully: no new claims, running tasks get `graceMs` to finish (then they are
   * abandoned and their leases expire at the source), records withdrawn, sockets closed.
   */
  async stop(graceMs = 5000): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    const t0 = Date.now();
    while (this.running.size > 0 && Date.now() - t0 < graceMs) await new Promise((r) => setTimeout(r, 20));
    for (const r of this.running.values()) r.abort.abort();
    for (const id of this.ownBlocks.keys()) {
      this.node.publish({ kind: 'withdraw', of: 'rdd', id, holder: this.node.identity.node });
    }
    await this.pool.close();
    await this.node.stop();
    await this.store.close();
  }
}
