/**
 * A worker as the *source* of jobs: when a task it claimed needs shuffle map outputs nobody has
 * announced, the worker posts the missing map tasks as `job` records of its own, grants their
 * leases at its partition server, re-broadcasts them when a lease runs out or its holder dies,
 * and reports each to the client whose action they serve (`job.event`: progress, accumulators,
 * failures). Job ids are derived from the client, the shuffle and the map index, so two workers
 * missing the same output post the same job and see each other's.
 */
import { shufflePrefix } from '../protocol/block-ids.js';
import { encode } from '../protocol/codec.js';
import type { WireError } from '../protocol/errors.js';
import type { Request } from '../protocol/messages.js';
import type { Clock } from '../core/clock.js';
import { JobSource, type JobRecord, type RepostReason } from '../core/job-source.js';
import type { JobTableCounters } from '../core/job-table.js';
import type { PeerNode } from '../partition-server/peer-node.js';
import type { ShuffleSpec, TaskDesc } from '../rdd/lineage.js';

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

/** How often a map job's completion or failure report is sent again when unanswered. */
const EVENT_RETRIES = 8;

/** A map job this worker posted. */
interface MapJob {
  readonly desc: TaskDesc;
  readonly owner: string;
  readonly partition: number;
  readonly shuffleId: string;
  /** Parked tasks on this worker waiting for its output. */
  waiters: number;
}

/** Options of a {@link MapJobSource}. */
export interface MapJobSourceOptions {
  readonly leaseTtlMs: number;
  readonly maxTaskFailures: number;
  readonly reannounceMs: number;
  readonly requestTimeoutMs: number;
  readonly clock: Clock;
  /** A map job completed: `worker` stores its output. */
  readonly onOutput: (shuffleId: string, map: number, worker: string) => void;
  /** A map job's state changed (completed, failed, re-posted): parked tasks look again. */
  readonly onChange: () => void;
  /**
   * A job record was published (posted, re-posted, re-announced). A peer does not hear its own
   * records: this is how the worker itself learns it can claim the job.
   */
  readonly onAnnounce: (record: JobRecord) => void;
  /** Whether a live worker already announced this map output (a claim for it is refused as done). */
  readonly outputKnown: (shuffleId: string, map: number) => boolean;
  /** Where leases, completions and retries are logged. */
  readonly log?: (level: 'info' | 'debug', msg: string, fields: Record<string, unknown>) => void;
}

/** The map jobs a worker is the source of (see module doc): a {@link JobSource} and its waiters. */
export class MapJobSource {
  private readonly source: JobSource<MapJob>;
  /** Jobs that failed for good: their error, until their waiters are gone. */
  private readonly failed = new Map<string, WireError>();
  /**
   * Map stages (client and stage id: a re-run of the same lineage has new stage ids) whose first
   * task was granted here: that task posts what the stage misses, the others wait for its records.
   */
  private readonly posters = new Set<string>();

  constructor(
    private readonly node: PeerNode,
    private readonly options: MapJobSourceOptions,
  ) {
    const log = options.log ?? (() => undefined);
    this.source = new JobSource<MapJob>(
      {
        identity: node.identity,
        publish: (r) => node.publish(r),
        isMember: (w) => node.peer(w) !== undefined,
        cancel: (holder, jobIds) =>
          void node.request(holder, { op: 'cancel', jobIds: [...jobIds] }, 2000).catch(() => undefined),
      },
      {
        leaseTtlMs: options.leaseTtlMs,
        maxTaskFailures: options.maxTaskFailures,
        reannounceMs: options.reannounceMs,
        clock: options.clock,
        announceLeases: true,
      },
      {
        task: (job, attempt) =>
          encode({ ...job.desc, attempt, poster: this.firstGrant(job.owner, job.desc.stageId) }),
        alreadyDone: (job) => options.outputKnown(job.shuffleId, job.partition),
        granted: (jobId, _job, attempt, worker) => {
          this.event(jobId, attempt, 'running', { worker });
          log('debug', 'lease granted', { job: jobId, attempt, worker });
        },
        completed: (jobId, job, attempt, req) => {
          options.onOutput(job.shuffleId, job.partition, req.worker);
          log('debug', 'map job completed', { job: jobId, attempt, worker: req.worker });
          this.event(jobId, attempt, 'done', {
            worker: req.worker,
            accumulators: req.accumulators,
            ...(req.metrics && { metrics: req.metrics }),
          });
          options.onChange();
        },
        reposted: (jobId, _job, attempt, reason, end) => {
          log('info', 'map job retried', { job: jobId, attempt, reason, ...(end && { end: end.kind }) });
          this.event(jobId, attempt, 'retried', { reason });
          options.onChange();
        },
        failed: (jobId, _job, attempt, error, _failures, worker) => {
          this.failed.set(jobId, error);
          log('info', 'map job failed for good', { job: jobId, error: `${error.name}: ${error.message}` });
          this.event(jobId, attempt, 'failed', { worker, error });
          options.onChange();
        },
        announced: (record) => options.onAnnounce(record),
      },
    );
  }

  /** Grants, refusals, stale completions and failures of the jobs posted here. */
  get counters(): Readonly<JobTableCounters> {
    return this.source.tableCounters;
  }

  /** Whether this source has the job open (posted or leased). */
  has(jobId: string): boolean {
    return this.source.has(jobId);
  }

  /** Whether a worker runs the job now (its completion, and its report, will follow). */
  isLeased(jobId: string): boolean {
    return this.source.isLeased(jobId);
  }

  /** The error of a job that failed for good, if it did. */
  failure(jobId: string): WireError | undefined {
    return this.failed.get(jobId);
  }

  /** Jobs in this source's table, in any state (for invariants). */
  get size(): number {
    return this.source.size;
  }

  private firstGrant(owner: string, stageId: number): boolean {
    const key = `${owner}:${stageId}`;
    if (this.posters.has(key)) return false;
    this.posters.add(key);
    if (this.posters.size > 10_000) this.posters.clear();
    return true;
  }

  /**
   * Posts the map task computing output `map` of `s`, with the lineage of `parent` (the parked
   * task), announces it and reports it to the owner. A job already open here gets one more waiter.
   */
  post(s: ShuffleSpec, map: number, parent: TaskDesc, owner: string, recomputed: boolean): void {
    const stageId = parent.stageIds?.[s.id] ?? -1;
    const jobId = mapJobId(owner, stageId, s.id, map);
    const existing = this.source.job(jobId);
    if (existing && this.has(jobId)) {
      existing.waiters++;
      return;
    }
    this.source.remove([jobId], false);
    this.failed.delete(jobId);
    const desc: TaskDesc = {
      stageId,
      attempt: 0,
      nodes: parent.nodes,
      root: s.parent,
      partition: map,
      output: { kind: 'shuffle', shuffle: s },
      ...(parent.blocks && { blocks: parent.blocks }),
      ...(parent.stageIds && { stageIds: parent.stageIds }),
    };
    this.source.post(jobId, { desc, owner, shuffleId: s.id, partition: map, waiters: 1 });
    // The client plans every map stage itself: only a recomputation is news to it.
    if (recomputed) this.event(jobId, 0, 'posted', { recomputed });
  }

  /** A parked task stopped waiting for `jobId`; with no waiter left, the job is withdrawn. */
  release(jobId: string): void {
    const job = this.source.job(jobId);
    if (!job) return;
    job.waiters--;
    if (job.waiters > 0) return;
    this.failed.delete(jobId);
    this.source.remove([jobId]);
  }

  /** Withdraws a job nobody has claimed yet (another source posted the same); true if it did. */
  withdrawIfUnclaimed(jobId: string): boolean {
    return this.source.withdrawIfUnclaimed(jobId);
  }

  /** Withdraws every job of shuffles matched by `prefixes` (`shuffle_<id>_`: an action ended). */
  dropShuffles(prefixes: readonly string[]): void {
    this.source.remove(
      this.source.activeIds().filter((id) => {
        const job = this.source.job(id);
        return job !== undefined && prefixes.some((p) => shufflePrefix(job.shuffleId).startsWith(p));
      }),
    );
  }

  /** The jobs open here, as records (for snapshots). */
  openRecords(): JobRecord[] {
    return this.source.openRecords();
  }

  /** Answers a request for a job posted here. */
  answer(req: Request): Promise<unknown> {
    return new Promise((resolve) => {
      switch (req.op) {
        case 'job.claim':
        case 'job.renew':
        case 'job.complete':
        case 'job.fail':
          return resolve(this.source.answer(req));
        default:
          throw new Error(`a worker's job source does not serve ${req.op}`);
      }
    });
  }

  /** A peer died: its leases are re-posted; a dead client's jobs are withdrawn. */
  peerDown(node: string): void {
    this.source.holderDead(node);
    const owned = this.source.activeIds().filter((id) => this.source.job(id)?.owner === node);
    if (owned.length > 0) this.source.remove(owned);
  }

  /**
   * The worker begins to stop: from now on withdrawn jobs leave their holders running (a map task
   * running elsewhere still stores and announces its output, which its reducers read; only its
   * report to this source is lost).
   */
  beginStop(): void {
    this.source.beginStop();
  }

  /** Withdraws everything (the worker stops); holders of its leases finish their tasks. */
  stop(): void {
    this.source.stop();
  }

  /** Reports a job's state to its owner (best effort: progress and accumulators only). */
  private event(
    jobId: string,
    attempt: number,
    state: 'posted' | 'running' | 'done' | 'retried' | 'failed',
    extra: {
      worker?: string;
      reason?: RepostReason;
      recomputed?: boolean;
      accumulators?: Array<[string, unknown]>;
      metrics?: Extract<Request, { op: 'job.complete' }>['metrics'];
      error?: WireError;
    },
  ): void {
    const job = this.source.job(jobId);
    if (!job) return;
    const body: Request = {
      op: 'job.event',
      jobId,
      stageId: job.desc.stageId,
      shuffleId: job.shuffleId,
      partition: job.partition,
      attempt,
      state,
      source: this.node.identity.node,
      ...(extra.worker !== undefined && { worker: extra.worker }),
      ...(extra.reason !== undefined && { reason: extra.reason }),
      ...(extra.recomputed !== undefined && { recomputed: extra.recomputed }),
      ...(extra.accumulators !== undefined && { accumulators: extra.accumulators }),
      ...(extra.metrics !== undefined && { metrics: extra.metrics }),
      ...(extra.error && { error: { ...extra.error } }),
    };
    // A completion carries the map task's accumulator updates, and a failure fails the action:
    // those are sent until the client answers (it applies each once), while it is a member.
    const reliable = state === 'done' || state === 'failed';
    const send = (attempt: number) => {
      this.node.request(job.owner, body, this.options.requestTimeoutMs).catch(() => {
        if (!reliable || attempt >= EVENT_RETRIES || !this.node.peer(job.owner)) return;
        this.options.clock.setTimeout(() => send(attempt + 1), Math.min(200 * 2 ** attempt, 2000));
      });
    };
    send(0);
  }
}
