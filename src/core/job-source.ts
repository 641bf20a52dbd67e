/**
 * The role of a job's *source*, one copy for every peer: the client is the source of its result
 * jobs, a worker of the map jobs it posts for a parked task. A source keeps its jobs in a
 * {@link JobTable}, announces each as a `job` record, grants leases (only to members), renews
 * them, applies completions and failures as the worker's {@link TaskEndReason} says, re-posts a
 * job whose lease ran out or whose holder died, re-announces open jobs (pub-sub is lossy) and says
 * again which are leased, and withdraws jobs. What differs between the client and a worker (the
 * task bytes of a grant, what a completion or a failure means to them) are {@link JobSourceHooks}.
 *
 * No sockets: it talks through a {@link SourcePort} and keeps time on an injected {@link Clock}.
 */
import type { Clock, Timer } from './clock.js';
import { leaseCheckMs } from '../protocol/defaults.js';
import { JobTable, type JobTableCounters } from './job-table.js';
import type { TaskEndReason } from './task-end.js';
import { retryReasonOf } from './task-end.js';
import type { WireError } from '../protocol/errors.js';
import type { PeerIdentity, Record as WireRecord, Request } from '../protocol/messages.js';

/** A `job` record. */
export type JobRecord = Extract<WireRecord, { kind: 'job' }>;

/** Why a job was posted again. */
export type RepostReason = 'error' | 'lease-expired' | 'worker-lost' | 'fetch-failed';

/** What a source needs from its peer. */
export interface SourcePort {
  /** This peer (the `source` of its records). */
  readonly identity: PeerIdentity;
  publish(record: WireRecord): void;
  /** Whether `node` is a live member (a lease goes only to a member: its death would be noticed). */
  isMember(node: string): boolean;
  /** Tells a holder to stop running jobs (best effort). */
  cancel(holder: string, jobIds: readonly string[]): void;
}

/** A job as its source keeps it: the record's fields, and the role's own payload. */
export interface SourcedJob {
  /** The client whose action it serves. */
  readonly owner: string;
  readonly partition: number;
  /** The worker its record says to prefer (see the record's `prefer`). */
  readonly prefer?: string;
}

/** What the role does at each step of a job's life. */
export interface JobSourceHooks<T extends SourcedJob> {
  /** The task bytes handed out with a lease on `attempt`. */
  task(job: T, attempt: number, jobId: string): Uint8Array;
  /** A claim for a posted job is refused as `done` when this says so (another copy produced it). */
  alreadyDone?(job: T): boolean;
  granted?(jobId: string, job: T, attempt: number, worker: string): void;
  /** A completion was accepted (its record is withdrawn; the job stays `done` until removed). */
  completed(jobId: string, job: T, attempt: number, req: Extract<Request, { op: 'job.complete' }>): void;
  /** The job was posted again (announced already). */
  reposted?(jobId: string, job: T, attempt: number, reason: RepostReason, end?: TaskEndReason): void;
  /** The job failed for good (failures ran out, or its end was not retryable). */
  failed(jobId: string, job: T, attempt: number, error: WireError, failures: number, worker: string): void;
  /** A claim was refused because `worker` is not a member (it is told to HELLO again). */
  notMember?(worker: string): void;
  /** A record was published: a peer does not hear its own records, so a worker learns it here. */
  announced?(record: JobRecord): void;
}

/** Timings and limits of a source. */
export interface JobSourceOptions {
  readonly leaseTtlMs: number;
  readonly maxTaskFailures: number;
  /** How often open jobs are announced again, and leased ones said to be leased. */
  readonly reannounceMs: number;
  readonly clock: Clock;
  /** Whether leased jobs are announced as `leased` (so workers that heard them leave them). */
  readonly announceLeases?: boolean;
}

/** Counters of a source, beyond its table's. */
export interface JobSourceCounters {
  /** Claims refused because the claiming worker was not a member. */
  claimsFromNonMembers: number;
  /** Leases handed back by a stopping worker. */
  leasesReleased: number;
  /** Jobs re-posted after a lease expired or a holder died. */
  reannounced: number;
}

/** One source's jobs (see module doc). */
export class JobSource<T extends SourcedJob> {
  private readonly jobs: JobTable<T>;
  private readonly timers: Timer[];
  private stopping = false;
  readonly counters: JobSourceCounters = { claimsFromNonMembers: 0, leasesReleased: 0, reannounced: 0 };

  constructor(
    private readonly port: SourcePort,
    private readonly options: JobSourceOptions,
    private readonly hooks: JobSourceHooks<T>,
  ) {
    this.jobs = new JobTable<T>({
      leaseTtlMs: options.leaseTtlMs,
      maxTaskFailures: options.maxTaskFailures,
      clock: options.clock,
    });
    this.timers = [
      options.clock.setInterval(() => this.checkLeases(), leaseCheckMs(options.leaseTtlMs)),
      options.clock.setInterval(() => this.reannounce(), options.reannounceMs),
    ];
  }

  /** The table's counters (grants, refused and stale completions, re-posts, failures). */
  get tableCounters(): Readonly<JobTableCounters> {
    return this.jobs.counters;
  }

  /** Posts a job and announces it. */
  post(jobId: string, job: T): void {
    this.jobs.post(jobId, job);
    this.announce(jobId, 0, job);
  }

  /** The job's payload, if this source has it (in any state). */
  job(jobId: string): T | undefined {
    return this.jobs.task(jobId);
  }

  /** Whether the job is open here (posted or leased). */
  has(jobId: string): boolean {
    const s = this.jobs.stateOf(jobId)?.state;
    return s === 'posted' || s === 'leased';
  }

  /** Whether a worker holds a lease on it now. */
  isLeased(jobId: string): boolean {
    return this.jobs.stateOf(jobId)?.state === 'leased';
  }

  /** Jobs leased now: job id → worker. */
  leases(): Map<string, string> {
    return this.jobs.leases();
  }

  /** Jobs waiting for a worker. */
  open(): Array<{ id: string; attempt: number }> {
    return this.jobs.open();
  }

  /** Ids of every job open here (posted or leased). */
  activeIds(): string[] {
    return [...this.jobs.open().map((j) => j.id), ...this.jobs.leases().keys()];
  }

  /** Every job in the table, in any state (for invariants and tests). */
  get size(): number {
    return this.jobs.size;
  }

  /** The open jobs as records (for snapshots). */
  openRecords(): JobRecord[] {
    return this.jobs.open().flatMap((j) => {
      const job = this.jobs.task(j.id);
      return job ? [this.record(j.id, j.attempt, job)] : [];
    });
  }

  /** Answers `job.claim`, `job.renew`, `job.complete` and `job.fail` for a job of this source. */
  answer(req: Extract<Request, { op: 'job.claim' | 'job.renew' | 'job.complete' | 'job.fail' }>): unknown {
    switch (req.op) {
      case 'job.claim':
        return this.claim(req.jobId, req.attempt, req.worker);
      case 'job.renew':
        return { ok: this.jobs.renew(req.jobId, req.token), ttlMs: this.options.leaseTtlMs };
      case 'job.complete':
        return this.complete(req);
      case 'job.fail':
        return this.fail(req.jobId, req.token, req.worker, req.error, req.end);
    }
  }

  private claim(jobId: string, attempt: number, worker: string) {
    if (worker !== this.port.identity.node && !this.port.isMember(worker)) {
      this.counters.claimsFromNonMembers++;
      this.hooks.notMember?.(worker);
      return { granted: false, reason: 'not-member' } as const;
    }
    const pending = this.jobs.task(jobId);
    if (pending && this.jobs.stateOf(jobId)?.state === 'posted' && this.hooks.alreadyDone?.(pending)) {
      this.withdrawIfUnclaimed(jobId);
      return { granted: false, reason: 'done' } as const;
    }
    const r = this.jobs.claim(jobId, attempt, worker);
    if (!r.granted) return { granted: false, reason: r.reason } as const;
    this.hooks.granted?.(jobId, r.task, r.attempt, worker);
    if (this.options.announceLeases)
      this.port.publish({ ...this.record(jobId, r.attempt, r.task), leased: true });
    return {
      granted: true,
      lease: { token: r.token, attempt: r.attempt, ttlMs: r.ttlMs },
      task: this.hooks.task(r.task, r.attempt, jobId),
    } as const;
  }

  private complete(req: Extract<Request, { op: 'job.complete' }>): { ok: boolean } {
    const job = this.jobs.task(req.jobId);
    const attempt = this.jobs.stateOf(req.jobId)?.attempt ?? 0;
    // Completed first: a completion for a removed job is counted as stale too.
    if (this.jobs.complete(req.jobId, req.token) !== 'ok' || !job) return { ok: false };
    this.withdrawRecord(req.jobId);
    this.hooks.completed(req.jobId, job, attempt, req);
    return { ok: true };
  }

  private fail(jobId: string, token: string, worker: string, error: WireError, end: TaskEndReason) {
    const job = this.jobs.task(jobId);
    const attemptBefore = this.jobs.stateOf(jobId)?.attempt ?? 0;
    const outcome = end.retryable
      ? this.jobs.fail(jobId, token, error, end.countsToFailures)
      : this.jobs.failNow(jobId, token, error);
    if (outcome === 'stale' || !job) return { ok: false };
    if (end.kind === 'worker-stopping') this.counters.leasesReleased++;
    if (outcome === 'failed') {
      this.withdrawRecord(jobId);
      this.hooks.failed(jobId, job, attemptBefore, error, this.jobs.failuresOf(jobId)?.failures ?? 0, worker);
      return { ok: true };
    }
    const attempt = this.jobs.stateOf(jobId)?.attempt ?? 0;
    this.announce(jobId, attempt, job);
    this.hooks.reposted?.(jobId, job, attempt, retryReasonOf(end), end);
    return { ok: true };
  }

  /** A peer died: jobs it held are re-posted (`worker-lost`); returns their ids. */
  holderDead(node: string): string[] {
    const ids = this.jobs.holderDead(node);
    for (const id of ids) this.reposted(id, 'worker-lost');
    return ids;
  }

  /** Withdraws a job nobody has claimed yet (another source posted the same); true if it did. */
  withdrawIfUnclaimed(jobId: string): boolean {
    if (this.jobs.stateOf(jobId)?.state !== 'posted') return false;
    this.jobs.remove(jobId);
    this.withdrawRecord(jobId);
    return true;
  }

  /**
   * Removes jobs, in any state, and withdraws their records; holders of their leases are told to
   * stop (unless this source is stopping, or `tellHolders` is false).
   */
  remove(jobIds: readonly string[], tellHolders = true): void {
    const leases = this.jobs.leases();
    const byHolder = new Map<string, string[]>();
    for (const id of jobIds) {
      const holder = leases.get(id);
      if (tellHolders && !this.stopping && holder !== undefined && holder !== this.port.identity.node)
        byHolder.set(holder, [...(byHolder.get(holder) ?? []), id]);
      const had = this.jobs.stateOf(id);
      this.jobs.remove(id);
      if (had && had.state !== 'done' && had.state !== 'failed') this.withdrawRecord(id);
    }
    for (const [holder, ids] of byHolder) this.port.cancel(holder, ids);
  }

  /** From now on withdrawn jobs leave their holders running (this peer stops). */
  beginStop(): void {
    this.stopping = true;
  }

  /** Stops the timers and withdraws every open job. */
  stop(): void {
    this.stopping = true;
    for (const t of this.timers) t.cancel();
    this.remove(this.activeIds());
  }

  /** Re-posts jobs whose lease expired (called by the source's timer; public for tests). */
  checkLeases(): void {
    for (const id of this.jobs.expireLeases()) this.reposted(id, 'lease-expired');
  }

  /** Re-announces open jobs, and says again which are leased (called by the source's timer). */
  reannounce(): void {
    for (const r of this.openRecords()) this.publishRecord(r);
    if (!this.options.announceLeases) return;
    for (const id of this.jobs.leases().keys()) {
      const job = this.jobs.task(id);
      const attempt = this.jobs.stateOf(id)?.attempt ?? 0;
      if (job) this.port.publish({ ...this.record(id, attempt, job), leased: true });
    }
  }

  private reposted(id: string, reason: RepostReason): void {
    const job = this.jobs.task(id);
    const s = this.jobs.stateOf(id);
    if (!job || s?.state !== 'posted') return;
    this.counters.reannounced++;
    this.announce(id, s.attempt, job);
    this.hooks.reposted?.(id, job, s.attempt, reason);
  }

  private announce(jobId: string, attempt: number, job: T): void {
    this.publishRecord(this.record(jobId, attempt, job));
  }

  private publishRecord(record: JobRecord): void {
    this.port.publish(record);
    this.hooks.announced?.(record);
  }

  private withdrawRecord(jobId: string): void {
    this.port.publish({ kind: 'withdraw', of: 'job', id: jobId, holder: this.port.identity.node });
  }

  private record(jobId: string, attempt: number, job: T): JobRecord {
    return {
      kind: 'job',
      jobId,
      attempt,
      source: this.port.identity,
      owner: job.owner,
      partition: job.partition,
      ...(job.prefer !== undefined && { prefer: job.prefer }),
    };
  }
}
