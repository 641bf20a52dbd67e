/**
 * The jobs a peer is the source of, and their leases. Pure: time comes from a {@link Clock}, so
 * the state machine is tested with a fake clock.
 *
 * ```
 *             claim (attempt = a)                      complete(token)
 *   posted(a) ─────────────────▶ leased(a, token) ──────────────────▶ done
 *      ▲                              │
 *      │  lease expired, holder dead, │ fail(user error): failures += 1
 *      └──────── posted(a + 1) ◀──────┘ fail(worker error): not counted
 *                     │
 *                     └─ failures = maxTaskFailures ──▶ failed
 * ```
 *
 * One lease per attempt; claims for another attempt are refused as stale, and so is a completion
 * or failure that carries a token other than the current lease's (a straggler).
 */
import { randomUUID } from 'node:crypto';
import type { WireError } from '../protocol/errors.js';
import { systemClock, type Clock } from './clock.js';

export type { Clock } from './clock.js';

interface Posted {
  readonly state: 'posted';
  readonly attempt: number;
}
interface Leased {
  readonly state: 'leased';
  readonly attempt: number;
  readonly token: string;
  readonly worker: string;
  readonly expiresAt: number;
}
interface Done {
  readonly state: 'done';
  readonly attempt: number;
}
interface Failed {
  readonly state: 'failed';
  readonly attempt: number;
  readonly error: WireError;
}
type JobState = Posted | Leased | Done | Failed;

interface Job<T> {
  readonly id: string;
  readonly task: T;
  state: JobState;
  failures: number;
  lastError: WireError | undefined;
}

/** The answer to a claim. */
export type ClaimResult<T> =
  | {
      readonly granted: true;
      readonly token: string;
      readonly attempt: number;
      readonly ttlMs: number;
      readonly task: T;
    }
  | { readonly granted: false; readonly reason: 'taken' | 'stale' | 'done' | 'unknown' };

/** What happened to a job after a failure report. */
export type FailResult = 'reposted' | 'failed' | 'stale';

/** Counters for tests, logs and the console. */
export interface JobTableCounters {
  grants: number;
  refusedClaims: number;
  staleCompletions: number;
  reposts: number;
  userFailures: number;
  workerFailures: number;
}

/** Options, validated at construction. */
export interface JobTableOptions {
  readonly leaseTtlMs: number;
  readonly maxTaskFailures: number;
  readonly clock?: Pick<Clock, 'now'>;
}

/** The job table of one source (see module doc). `T` is the task payload handed out on a grant. */
export class JobTable<T> {
  private readonly jobs = new Map<string, Job<T>>();
  private readonly clock: Pick<Clock, 'now'>;
  readonly counters: JobTableCounters = {
    grants: 0,
    refusedClaims: 0,
    staleCompletions: 0,
    reposts: 0,
    userFailures: 0,
    workerFailures: 0,
  };

  constructor(private readonly options: JobTableOptions) {
    if (!(options.leaseTtlMs > 0))
      throw new RangeError(`leaseTtlMs must be positive, got ${options.leaseTtlMs}`);
    if (!Number.isInteger(options.maxTaskFailures) || options.maxTaskFailures < 1) {
      throw new RangeError(`maxTaskFailures must be a positive integer, got ${options.maxTaskFailures}`);
    }
    this.clock = options.clock ?? systemClock;
  }

  /** Posts a new job at attempt 0. Posting an existing id is an error (ids are unique per source). */
  post(id: string, task: T): void {
    if (this.jobs.has(id)) throw new Error(`job ${id} is already posted`);
    this.jobs.set(id, {
      id,
      task,
      state: { state: 'posted', attempt: 0 },
      failures: 0,
      lastError: undefined,
    });
  }

  /** The payload a job was posted with, or undefined if unknown. */
  task(id: string): T | undefined {
    return this.jobs.get(id)?.task;
  }

  /** The job's current state, or undefined if unknown. */
  stateOf(id: string): JobState | undefined {
    return this.jobs.get(id)?.state;
  }

  /** Grants a lease on `attempt` to `worker`, or says why not. */
  claim(id: string, attempt: number, worker: string): ClaimResult<T> {
    const job = this.jobs.get(id);
    const refuse = (reason: 'taken' | 'stale' | 'done' | 'unknown'): ClaimResult<T> => {
      this.counters.refusedClaims++;
      return { granted: false, reason };
    };
    if (!job) return refuse('unknown');
    const s = job.state;
    if (s.state === 'done' || s.state === 'failed') return refuse('done');
    if (attempt !== s.attempt) return refuse('stale');
    if (s.state === 'leased') return refuse('taken');
    const token = randomUUID();
    job.state = {
      state: 'leased',
      attempt,
      token,
      worker,
      expiresAt: this.clock.now() + this.options.leaseTtlMs,
    };
    this.counters.grants++;
    return { granted: true, token, attempt, ttlMs: this.options.leaseTtlMs, task: job.task };
  }

  /** Extends the lease of the holder of `token`; false if that lease is gone. */
  renew(id: string, token: string): boolean {
    const job = this.jobs.get(id);
    if (job?.state.state !== 'leased' || job.state.token !== token) return false;
    job.state = { ...job.state, expiresAt: this.clock.now() + this.options.leaseTtlMs };
    return true;
  }

  /** Completes the job if `token` holds the current lease; a straggler's completion is refused and counted. */
  complete(id: string, token: string): 'ok' | 'stale' {
    const job = this.jobs.get(id);
    if (job?.state.state !== 'leased' || job.state.token !== token) {
      this.counters.staleCompletions++;
      return 'stale';
    }
    job.state = { state: 'done', attempt: job.state.attempt };
    return 'ok';
  }

  /**
   * Records a failure of the current lease. A user-code failure counts towards maxTaskFailures;
   * a worker failure (it could not run the task) does not. Returns whether the job was re-posted.
   */
  fail(id: string, token: string, error: WireError, userError: boolean): FailResult {
    const job = this.jobs.get(id);
    if (job?.state.state !== 'leased' || job.state.token !== token) {
      this.counters.staleCompletions++;
      return 'stale';
    }
    job.lastError = error;
    if (userError) {
      this.counters.userFailures++;
      job.failures++;
      if (job.failures >= this.options.maxTaskFailures) {
        job.state = { state: 'failed', attempt: job.state.attempt, error };
        return 'failed';
      }
    } else {
      this.counters.workerFailures++;
    }
    this.repost(job);
    return 'reposted';
  }

  /** Fails the current lease's job for good (its end is not retryable); counted as a failure. */
  failNow(id: string, token: string, error: WireError): FailResult {
    const job = this.jobs.get(id);
    if (job?.state.state !== 'leased' || job.state.token !== token) {
      this.counters.staleCompletions++;
      return 'stale';
    }
    job.lastError = error;
    job.failures++;
    this.counters.userFailures++;
    job.state = { state: 'failed', attempt: job.state.attempt, error };
    return 'failed';
  }

  /** Re-posts every job whose lease expired by now; returns their ids (to re-broadcast). */
  expireLeases(): string[] {
    const now = this.clock.now();
    const out: string[] = [];
    for (const job of this.jobs.values()) {
      if (job.state.state === 'leased' && job.state.expiresAt <= now) {
        this.repost(job);
        out.push(job.id);
      }
    }
    return out;
  }

  /** Re-posts every job leased by a worker that was declared dead; returns their ids. */
  holderDead(worker: string): string[] {
    const out: string[] = [];
    for (const job of this.jobs.values()) {
      if (job.state.state === 'leased' && job.state.worker === worker) {
        this.repost(job);
        out.push(job.id);
      }
    }
    return out;
  }

  private repost(job: Job<T>): void {
    job.state = { state: 'posted', attempt: job.state.attempt + 1 };
    this.counters.reposts++;
  }

  /** Forgets a job (completed and consumed, or cancelled). */
  remove(id: string): boolean {
    return this.jobs.delete(id);
  }

  /** Jobs currently leased: job id → worker. */
  leases(): Map<string, string> {
    const out = new Map<string, string>();
    for (const job of this.jobs.values()) if (job.state.state === 'leased') out.set(job.id, job.state.worker);
    return out;
  }

  /** Jobs waiting for a worker (to announce): id and current attempt. */
  open(): Array<{ id: string; attempt: number }> {
    const out: Array<{ id: string; attempt: number }> = [];
    for (const job of this.jobs.values())
      if (job.state.state === 'posted') out.push({ id: job.id, attempt: job.state.attempt });
    return out;
  }

  /** Failures counted so far and the last error of a job. */
  failuresOf(id: string): { failures: number; lastError: WireError | undefined } | undefined {
    const job = this.jobs.get(id);
    return job ? { failures: job.failures, lastError: job.lastError } : undefined;
  }

  get size(): number {
    return this.jobs.size;
  }
}
