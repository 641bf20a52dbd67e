/**
 * What a worker knows of the jobs announced on the cluster, from `job` records and withdrawals:
 * the open jobs it may claim (the newest attempt of each), who sources each job and when it was
 * last heard (sources re-announce open and leased jobs; an entry not heard for a while is ignored,
 * so a lost withdrawal cannot keep a parked task waiting forever), and when a map job was last
 * withdrawn (its output record may still be on its way). It also decides the order in which to
 * claim the open jobs. Pure bookkeeping on an injected clock.
 */
import type { Clock } from '../core/clock.js';
import type { JobRecord } from '../core/job-source.js';
import { parseMapJobId } from './map-job-source.js';

/** Withdrawal times kept before old ones (over a minute) are forgotten. */
const WITHDRAWN_KEPT = 10_000;
const WITHDRAWN_MAX_AGE_MS = 60_000;

/** The jobs a worker has heard of (see module doc). */
export class JobDirectory {
  /** Every job heard of: its source node and when it was last heard. */
  private readonly known = new Map<string, { source: string; at: number }>();
  /** When a map job record was last withdrawn. */
  private readonly withdrawnAt = new Map<string, number>();
  /** The jobs that can be claimed, newest attempt of each. */
  private readonly open = new Map<string, JobRecord>();
  /** When each open job (its newest attempt) was first heard: its locality wait counts from then. */
  private readonly openedAt = new Map<string, number>();
  private deferredUntil: number | undefined;

  /** A directory keeping time on `clock`. */
  constructor(private readonly clock: Clock) {}

  /**
   * Takes note of a job record (a peer's, or one announced here): who sources it, and whether it
   * can be claimed (a leased record from the open one's source says someone runs it; an older
   * attempt than the open one is ignored).
   */
  heard(r: JobRecord): void {
    this.known.set(r.jobId, { source: r.source.node, at: this.clock.now() });
    const prev = this.open.get(r.jobId);
    if (r.leased) {
      if (prev?.source.node === r.source.node) this.delete(r.jobId);
    } else if (!prev || prev.attempt <= r.attempt) this.setOpen(r, prev);
  }

  /** Makes `r` the open job of its id (a copy posted here gave way to it). */
  reopen(r: JobRecord): void {
    this.setOpen(r, this.open.get(r.jobId));
  }

  private setOpen(r: JobRecord, prev: JobRecord | undefined): void {
    this.open.set(r.jobId, r);
    if (!prev || prev.attempt !== r.attempt) this.openedAt.set(r.jobId, this.clock.now());
  }

  private delete(jobId: string): void {
    this.open.delete(jobId);
    this.openedAt.delete(jobId);
  }

  /** A job record was withdrawn: it cannot be claimed; a map job's withdrawal time is kept. */
  withdrawn(jobId: string): void {
    this.delete(jobId);
    if (this.known.delete(jobId) && parseMapJobId(jobId)) {
      const now = this.clock.now();
      this.withdrawnAt.set(jobId, now);
      if (this.withdrawnAt.size > WITHDRAWN_KEPT) {
        const old = now - WITHDRAWN_MAX_AGE_MS;
        for (const [id, t] of this.withdrawnAt) if (t < old) this.withdrawnAt.delete(id);
      }
    }
  }

  /** The open job of this id, if any. */
  openJob(jobId: string): JobRecord | undefined {
    return this.open.get(jobId);
  }

  /** The job can no longer be claimed (claimed, refused, or its output is known). */
  close(jobId: string): void {
    this.delete(jobId);
  }

  /** How many jobs are open. */
  get openCount(): number {
    return this.open.size;
  }

  /**
   * The open jobs in the order to claim them. Every worker hears the same jobs in the same order;
   * to avoid all racing for the first ones (a refused claim costs a round trip), the worker ranked
   * r (by node id) among the W live workers it knows (`workers()`, itself excluded) tries
   * partitions ≡ r (mod W) first; a worker that knows no other worker starts at a random job.
   * Within each share, the jobs this worker sources come first (their data is local). Jobs that
   * prefer this worker (their record's `prefer`) come before all of them; a job preferring
   * another of the live workers is left out until `localityWaitMs` after it was first heard
   * ({@link nextDeferredAt} says when the first such wait ends).
   */
  claimOrder(
    self: string,
    workers: () => Iterable<string>,
    random: () => number = Math.random,
    localityWaitMs = 0,
  ): Iterable<JobRecord> {
    this.deferredUntil = undefined;
    const hasPreference = [...this.open.values()].some((j) => j.prefer !== undefined);
    if (this.open.size < 2 && !hasPreference) return this.open.values();
    const all = [self, ...workers()];
    const live = new Set(all);
    all.sort();
    const rank = all.indexOf(self);
    const now = this.clock.now();
    const preferred: JobRecord[] = [];
    const buckets: JobRecord[][] = [[], [], [], []];
    for (const j of this.open.values()) {
      if (hasPreference && j.prefer !== undefined) {
        if (j.prefer === self) {
          preferred.push(j);
          continue;
        }
        const until = (this.openedAt.get(j.jobId) ?? now) + localityWaitMs;
        if (localityWaitMs > 0 && live.has(j.prefer) && now < until) {
          this.deferredUntil = Math.min(this.deferredUntil ?? until, until);
          continue;
        }
      }
      const mine = all.length < 2 || j.partition % all.length === rank;
      buckets[(mine ? 0 : 2) + (j.source.node === self ? 0 : 1)]!.push(j);
    }
    buckets.unshift(preferred);
    if (all.length < 2) {
      const others = buckets[2]!;
      const start = Math.floor(random() * others.length);
      buckets[2] = others.slice(start).concat(others.slice(0, start));
    }
    return buckets.flat();
  }

  /**
   * When the first locality wait the last {@link claimOrder} left a job out for ends (clock
   * time), or undefined: the caller asks again then.
   */
  get nextDeferredAt(): number | undefined {
    return this.deferredUntil;
  }

  /**
   * Whether another live source (not `self`) has this job open and was heard within `windowMs`:
   * its output will be announced, so a parked task need not post the job itself.
   */
  postedElsewhere(jobId: string, self: string, isLive: (node: string) => boolean, windowMs: number): boolean {
    const j = this.known.get(jobId);
    return j !== undefined && j.source !== self && isLive(j.source) && this.clock.now() - j.at < windowMs;
  }

  /** Whether this map job was withdrawn less than `graceMs` ago (its output record is probably on its way). */
  withdrawnWithin(jobId: string, graceMs: number): boolean {
    const t = this.withdrawnAt.get(jobId);
    return t !== undefined && this.clock.now() - t < graceMs;
  }

  /** A source died: the jobs it sourced are forgotten (open ones stay until claimed or refused). */
  sourceDown(node: string): void {
    for (const [id, j] of [...this.known]) if (j.source === node) this.known.delete(id);
  }

  /** A client died: its open jobs cannot be claimed. */
  ownerDown(node: string): void {
    for (const [id, job] of [...this.open]) if (job.owner === node) this.delete(id);
  }
}
