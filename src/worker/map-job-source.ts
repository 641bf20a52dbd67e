/**
 * A worker as the *source* of jobs: when a task it claimed needs shuffle map outputs nobody has
 * announced, the worker posts the missing map tasks as `job` records of its own, grants their
 * leases at its partition server, re-broadcasts them when a lease runs out or its holder dies,
 * and reports each to the client whose action they serve (`job.event`: progress, accumulators,
 * failures). Job ids are derived from the client, the shuffle and the map index, so two workers
 * missing the same output post the same job and see each other's.
 */
import { encode } from '../protocol/codec.js';
import { InvalidOperationError, type WireError } from '../protocol/errors.js';
import type { Record as WireRecord, Request } from '../protocol/messages.js';
import { JobTable, type JobTableCounters } from '../partition-server/job-table.js';
import type { PeerNode } from '../partition-server/peer-node.js';
import type { ShuffleSpec, TaskDesc } from '../rdd/lineage.js';
import type { RetryReason } from '../client/progress.js';

/**
 * The id of the job computing map output `map` of `shuffleId` in map stage `stageId` of client
 * `owner` (stage ids are unique per action: a later action's job is a new job, not a withdrawn one).
 */
export function mapJobId(owner: string, stageId: number, shuffleId: string, map: number): string {
  return `map:${owner}:${stageId}:${shuffleId}:${map}`;
}

/** The shuffle and map index of a map job id, or undefined for other job ids. */
export function parseMapJobId(jobId: string): { shuffleId: string; map: number } | undefined {
  if (!jobId.startsWith('map:')) return undefined; // checked per open job on every claim round
  const parts = jobId.split(':');
  if (parts.length !== 5 || parts[0] !== 'map') return undefined;
  const map = Number(parts[4]);
  return Number.isInteger(map) ? { shuffleId: parts[3]!, map } : undefined;
}

/** A map job this worker posted. */
interface MapJob {
  readonly desc: TaskDesc;
  readonly owner: string;
  readonly shuffleId: string;
  readonly map: number;
  /** Parked tasks on this worker waiting for its output. */
  waiters: number;
}

/** Options of a {@link MapJobSource}. */
export interface MapJobSourceOptions {
  readonly leaseTtlMs: number;
  readonly maxTaskFailures: number;
  readonly reannounceMs: number;
  readonly requestTimeoutMs: number;
  /** A map job completed: `worker` stores its output. */
  readonly onOutput: (shuffleId: string, map: number, worker: string) => void;
  /** A map job's state changed (completed, failed, re-posted): parked tasks look again. */
  readonly onChange: () => void;
  /**
   * A job record was published (posted, re-posted, re-announced). A peer does not hear its own
   * records: this is how the worker itself learns it can claim the job.
   */
  readonly onAnnounce: (record: Extract<WireRecord, { kind: 'job' }>) => void;
  /** Whether a live worker already announced this map output (a claim for it is refused as done). */
  readonly outputKnown: (shuffleId: string, map: number) => boolean;
  /** Where leases, completions and retries are logged. */
  readonly log?: (level: 'info' | 'debug', msg: string, fields: Record<string, unknown>) => void;
}

/** The map jobs a worker is the source of (see module doc). */
export class MapJobSource {
  private readonly jobs: JobTable<MapJob>;
  /** Jobs that failed for good: their error, until their waiters are gone. */
  private readonly failed = new Map<string, WireError>();
  private readonly timers: NodeJS.Timeout[] = [];
  private stopping = false;
  /** Claims refused because the claiming worker was not a member. */
  claimsFromNonMembers = 0;

  constructor(
    private readonly node: PeerNode,
    private readonly options: MapJobSourceOptions,
  ) {
    this.jobs = new JobTable<MapJob>({
      leaseTtlMs: options.leaseTtlMs,
      maxTaskFailures: options.maxTaskFailures,
    });
    this.timers.push(setInterval(() => this.checkLeases(), Math.min(options.leaseTtlMs / 4, 1000)));
    this.timers.push(setInterval(() => this.reannounce(), options.reannounceMs));
    for (const t of this.timers) t.unref();
  }

  /** Grants, refusals, stale completions and failures of the jobs posted here. */
  get counters(): Readonly<JobTableCounters> {
    return this.jobs.counters;
  }

  /** Whether this source has the job open (posted or leased). */
  has(jobId: string): boolean {
    const s = this.jobs.stateOf(jobId)?.state;
    return s === 'posted' || s === 'leased';
  }

  /**
   * Map stages (client and stage id: a re-run of the same lineage has new stage ids) whose first
   * task was granted here: that task posts what the stage misses, the others wait for its records.
   */
  private readonly posters = new Set<string>();

  private firstGrant(owner: string, stageId: number): boolean {
    const key = `${owner}:${stageId}`;
    if (this.posters.has(key)) return false;
    this.posters.add(key);
    if (this.posters.size > 10_000) this.posters.clear();
    return true;
  }

  /** Whether a worker runs the job now (its completion, and its report, will follow). */
  isLeased(jobId: string): boolean {
    return this.jobs.stateOf(jobId)?.state === 'leased';
  }

  /** The error of a job that failed for good, if it did. */
  failure(jobId: string): WireError | undefined {
    return this.failed.get(jobId);
  }

  /**
   * Posts the map task computing output `map` of `s`, with the lineage of `parent` (the parked
   * task), announces it and reports it to the owner. Returns the job's record (to claim it here).
   */
  post(
    s: ShuffleSpec,
    map: number,
    parent: TaskDesc,
    owner: string,
    recomputed: boolean,
  ): Extract<WireRecord, { kind: 'job' }> {
    const jobId = mapJobId(owner, parent.stageIds?.[s.id] ?? -1, s.id, map);
    const existing = this.jobs.task(jobId);
    if (existing && this.has(jobId)) {
      existing.waiters++;
      return this.record(jobId, this.jobs.stateOf(jobId)!.attempt, map, owner);
    }
    this.jobs.remove(jobId);
    this.failed.delete(jobId);
    const desc: TaskDesc = {
      stageId: parent.stageIds?.[s.id] ?? -1,
      attempt: 0,
      nodes: parent.nodes,
      root: s.parent,
      partition: map,
      output: { kind: 'shuffle', shuffle: s },
      ...(parent.blocks && { blocks: parent.blocks }),
      ...(parent.stageIds && { stageIds: parent.stageIds }),
    };
    this.jobs.post(jobId, { desc, owner, shuffleId: s.id, map, waiters: 1 });
    const record = this.record(jobId, 0, map, owner);
    this.announce(record);
    // The client plans every map stage itself: only a recomputation is news to it.
    if (recomputed) this.event(jobId, 0, 'posted', { recomputed });
    return record;
  }

  /** A parked task stopped waiting for `jobId`; with no waiter left, the job is withdrawn. */
  release(jobId: string): void {
    const job = this.jobs.task(jobId);
    if (!job) return;
    job.waiters--;
    if (job.waiters > 0) return;
    this.failed.delete(jobId);
    if (!this.has(jobId)) return;
    this.cancel([jobId]);
  }

  /** Withdraws a job nobody has claimed yet (another source posted the same); true if it did. */
  withdrawIfUnclaimed(jobId: string): boolean {
    if (this.jobs.stateOf(jobId)?.state !== 'posted') return false;
    this.jobs.remove(jobId);
    this.node.publish({ kind: 'withdraw', of: 'job', id: jobId, holder: this.node.identity.node });
    return true;
  }

  /** Withdraws jobs (and tells their holders to stop, unless this source is stopping). */
  cancel(jobIds: readonly string[]): void {
    const leases = this.jobs.leases();
    for (const id of jobIds) {
      const holder = leases.get(id);
      if (!this.stopping && holder !== undefined && holder !== this.node.identity.node)
        this.node.request(holder, { op: 'cancel', jobIds: [id] }, 2000).catch(() => undefined);
      this.jobs.remove(id);
      this.node.publish({ kind: 'withdraw', of: 'job', id, holder: this.node.identity.node });
    }
  }

  /** Withdraws every job of shuffles matched by `prefixes` (`shuffle_<id>_`: an action ended). */
  dropShuffles(prefixes: readonly string[]): void {
    this.cancel(
      this.activeIds().filter((id) => {
        const job = this.jobs.task(id);
        return job !== undefined && prefixes.some((p) => `shuffle_${job.shuffleId}_`.startsWith(p));
      }),
    );
  }

  /** The jobs open here, as records (for snapshots). */
  openRecords(): Array<Extract<WireRecord, { kind: 'job' }>> {
    return this.jobs.open().flatMap((j) => {
      const job = this.jobs.task(j.id);
      return job ? [this.record(j.id, j.attempt, job.map, job.owner)] : [];
    });
  }

  /** Answers a request for a job posted here. */
  answer(req: Request): Promise<unknown> {
    return new Promise((resolve) => resolve(this.answerNow(req)));
  }

  private answerNow(req: Request): unknown {
    switch (req.op) {
      case 'job.claim': {
        // A lease goes only to a member (see the client's source).
        if (req.worker !== this.node.identity.node && !this.node.peer(req.worker)) {
          this.claimsFromNonMembers++;
          return { granted: false, reason: 'not-member' };
        }
        const job = this.jobs.task(req.jobId);
        if (
          job &&
          this.jobs.stateOf(req.jobId)?.state === 'posted' &&
          this.options.outputKnown(job.shuffleId, job.map)
        ) {
          // Another source's copy of this job already produced the output.
          this.withdrawIfUnclaimed(req.jobId);
          return { granted: false, reason: 'done' };
        }
        const r = this.jobs.claim(req.jobId, req.attempt, req.worker);
        if (!r.granted) return { granted: false, reason: r.reason };
        this.event(req.jobId, r.attempt, 'running', { worker: req.worker });
        this.options.log?.('debug', 'lease granted', {
          job: req.jobId,
          attempt: r.attempt,
          worker: req.worker,
        });
        // Say it is taken, so workers that would post or claim the same job leave it.
        if (job)
          this.node.publish({ ...this.record(req.jobId, r.attempt, job.map, job.owner), leased: true });
        return {
          granted: true,
          lease: { token: r.token, attempt: r.attempt, ttlMs: r.ttlMs },
          task: encode({
            ...r.task.desc,
            attempt: r.attempt,
            poster: this.firstGrant(r.task.owner, r.task.desc.stageId),
          }),
        };
      }
      case 'job.renew':
        return { ok: this.jobs.renew(req.jobId, req.token), ttlMs: this.options.leaseTtlMs };
      case 'job.complete': {
        const job = this.jobs.task(req.jobId);
        const attempt = this.jobs.stateOf(req.jobId)?.attempt ?? 0;
        if (!job || this.jobs.complete(req.jobId, req.token) !== 'ok') return { ok: false };
        this.node.publish({ kind: 'withdraw', of: 'job', id: req.jobId, holder: this.node.identity.node });
        this.options.onOutput(job.shuffleId, job.map, req.worker);
        this.options.log?.('debug', 'map job completed', { job: req.jobId, attempt, worker: req.worker });
        this.event(req.jobId, attempt, 'done', { worker: req.worker, accumulators: req.accumulators, metrics: req.metrics }); // prettier-ignore
        this.options.onChange();
        return { ok: true };
      }
      case 'job.fail': {
        const job = this.jobs.task(req.jobId);
        const fetchFailed = req.error.name === 'FetchFailedError';
        const outcome = this.jobs.fail(req.jobId, req.token, req.error, req.userError && !fetchFailed);
        if (outcome === 'stale' || !job) return { ok: false };
        const attempt = this.jobs.stateOf(req.jobId)?.attempt ?? 0;
        if (outcome === 'failed') {
          this.failed.set(req.jobId, req.error);
          this.options.log?.('info', 'map job failed for good', {
            job: req.jobId,
            error: `${req.error.name}: ${req.error.message}`,
          });
          this.node.publish({ kind: 'withdraw', of: 'job', id: req.jobId, holder: this.node.identity.node });
          this.event(req.jobId, attempt, 'failed', { worker: req.worker, error: req.error });
        } else {
          const reason: RetryReason = fetchFailed
            ? 'fetch-failed'
            : req.error.name === 'WorkerStoppingError'
              ? 'worker-lost'
              : 'error';
          this.event(req.jobId, attempt, 'retried', { reason });
          this.options.log?.('info', 'map job retried', {
            job: req.jobId,
            attempt,
            reason,
            error: `${req.error.name}: ${req.error.message}`,
          });
          this.announce(this.record(req.jobId, attempt, job.map, job.owner));
        }
        this.options.onChange();
        return { ok: true };
      }
      default:
        throw new InvalidOperationError(`a worker's job source does not serve ${req.op}`);
    }
  }

  /** A peer died: its leases are re-posted; a dead client's jobs are withdrawn. */
  peerDown(node: string): void {
    for (const id of this.jobs.holderDead(node)) this.reannounceOne(id, 'worker-lost');
    const owned = this.activeIds().filter((id) => this.jobs.task(id)?.owner === node);
    if (owned.length > 0) this.cancel(owned);
  }

  /**
   * The worker begins to stop: from now on withdrawn jobs leave their holders running (a map task
   * running elsewhere still stores and announces its output, which its reducers read; only its
   * report to this source is lost).
   */
  beginStop(): void {
    this.stopping = true;
  }

  /** Withdraws everything (the worker stops); holders of its leases finish their tasks. */
  stop(): void {
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    this.cancel(this.activeIds());
  }

  /** Ids of the jobs posted or leased here. */
  private activeIds(): string[] {
    return [...this.jobs.open().map((j) => j.id), ...this.jobs.leases().keys()];
  }

  private checkLeases(): void {
    for (const id of this.jobs.expireLeases()) this.reannounceOne(id, 'lease-expired');
  }

  private reannounceOne(id: string, reason: RetryReason): void {
    const job = this.jobs.task(id);
    const s = this.jobs.stateOf(id);
    if (!job || s?.state !== 'posted') return;
    this.options.log?.('info', 'map job retried', { job: id, attempt: s.attempt, reason });
    this.event(id, s.attempt, 'retried', { reason });
    this.announce(this.record(id, s.attempt, job.map, job.owner));
    this.options.onChange();
  }

  /** Re-announces open jobs, and says again which are leased (others time out what they heard). */
  private reannounce(): void {
    for (const r of this.openRecords()) this.announce(r);
    for (const id of this.jobs.leases().keys()) {
      const job = this.jobs.task(id);
      const attempt = this.jobs.stateOf(id)?.attempt ?? 0;
      if (job) this.node.publish({ ...this.record(id, attempt, job.map, job.owner), leased: true });
    }
  }

  private announce(record: Extract<WireRecord, { kind: 'job' }>): void {
    this.node.publish(record);
    this.options.onAnnounce(record);
  }

  private record(
    jobId: string,
    attempt: number,
    map: number,
    owner: string,
  ): Extract<WireRecord, { kind: 'job' }> {
    return { kind: 'job', jobId, attempt, source: this.node.identity, owner, partition: map };
  }

  /** Reports a job's state to its owner (best effort: progress and accumulators only). */
  private event(
    jobId: string,
    attempt: number,
    state: 'posted' | 'running' | 'done' | 'retried' | 'failed',
    extra: {
      worker?: string;
      reason?: RetryReason;
      recomputed?: boolean;
      accumulators?: Array<[string, unknown]>;
      metrics?: Extract<Request, { op: 'job.complete' }>['metrics'];
      error?: WireError;
    },
  ): void {
    const job = this.jobs.task(jobId);
    if (!job) return;
    this.node
      .request(
        job.owner,
        {
          op: 'job.event',
          jobId,
          stageId: job.desc.stageId,
          shuffleId: job.shuffleId,
          partition: job.map,
          attempt,
          state,
          ...(extra.worker !== undefined && { worker: extra.worker }),
          ...(extra.reason !== undefined && { reason: extra.reason }),
          ...(extra.recomputed !== undefined && { recomputed: extra.recomputed }),
          ...(extra.accumulators !== undefined && { accumulators: extra.accumulators }),
          ...(extra.metrics !== undefined && { metrics: extra.metrics }),
          ...(extra.error && { error: { ...extra.error } }),
        },
        this.options.requestTimeoutMs,
      )
      .catch(() => undefined);
  }
}
