/**
 * A claimed job from its claim to its reported end. The claim goes to the job's source (this
 * worker's own {@link MapJobSource} answers locally); once granted, the lease is renewed every
 * `leaseRenewMs` while the task is on the worker. A task whose stage reads shuffles is parked
 * until their map outputs are announced ({@link ParkingCoordinator}), then runs on the worker's
 * executor, its printed lines sent to its client. A lost map output (FetchFailedError) is
 * forgotten at its holder and the task parks again, up to `maxStageAttempts` times; a map job it
 * waits for that failed for good fails it (`dependency-failed`). Then what it produced is stored
 * and its outcome reported: `job.complete` or `job.fail`.
 *
 * ```
 *  claim ──granted──▶ parked? ──outputs there──▶ run ──▶ reporting: store, then
 *    │                  ▲                         │           job.complete or job.fail
 *  refused              └── a map output was lost ┘
 *    ▼
 *  (gone)
 * ```
 *
 * A stopping worker hands leases back instead (`job.fail` with a WorkerStoppingError, not counted
 * against the task): of tasks it aborted, of claims granted while it stops, and of successful map
 * tasks, whose outputs would go with it. A task aborted otherwise (cancelled, its client gone)
 * reports nothing. Time on the injected clock.
 */
import { resultBlockId } from '../protocol/block-ids.js';
import { decode, encode } from '../protocol/codec.js';
import { TaskFailedError, WorkerStoppingError, errorToWire, type WireError } from '../protocol/errors.js';
import { checkedReply, type Record as WireRecord, type ReplyOf, type Request } from '../protocol/messages.js';
import type { BlockStore } from '../partition-server/block-store.js';
import type { PeerNode } from '../partition-server/peer-node.js';
import type { Clock, Timer } from '../core/clock.js';
import { endOfOutcome, taskEnd, type TaskEndReason } from '../core/task-end.js';
import { blockId, isCpuBound, type TaskDesc } from '../rdd/lineage.js';
import { stageShuffles } from '../rdd/plan.js';
import type { TaskResult } from '../rdd/runner.js';
import type { MapJobSource } from './map-job-source.js';
import type { MapOutputView } from './map-outputs.js';
import { TaskLogSender } from './task-logs.js';
import type { RunningTask, TaskSlots } from './task-slots.js';
import type { JobDirectory } from './job-directory.js';
import type { ParkingCoordinator } from './parking.js';
import type { TaskServiceHost } from './task-services.js';
import type { BlockServer } from './block-server.js';
import type { TaskOutcome } from './task-pool.js';
import type { TaskExecutor, WorkerCounters, WorkerLog } from './worker-types.js';

/** Task results above this travel as a block fetched in chunks, not inside `job.complete`. */
export const INLINE_RESULT_MAX_BYTES = 16 * 1024 * 1024;

/** The worker's counters a {@link TaskLifecycle} adds to (see {@link WorkerCounters}). */
export type TaskLifecycleCounters = Pick<
  WorkerCounters,
  | 'claimsTried'
  | 'claimsGranted'
  | 'claimsRefusedNotMember'
  | 'leasesReleased'
  | 'parkedTasksGivenUp'
  | 'tasksSucceeded'
  | 'tasksFailed'
  | 'completionsRefused'
  | 'fetchFailures'
>;

/** Everything a {@link TaskLifecycle} works with: the worker's own pieces and option values. */
export interface TaskLifecycleDeps {
  readonly node: PeerNode;
  readonly jobs: JobDirectory;
  readonly slots: TaskSlots;
  readonly parking: ParkingCoordinator;
  /** This worker's map job source: requests to it are answered locally. */
  readonly source: MapJobSource;
  readonly executor: TaskExecutor;
  readonly taskServices: TaskServiceHost;
  readonly blocks: BlockServer;
  readonly store: BlockStore;
  readonly maps: MapOutputView;
  readonly counters: TaskLifecycleCounters;
  readonly log: WorkerLog;
  readonly clock: Clock;
  /** How often a claimed task's lease is renewed. */
  readonly leaseRenewMs: number;
  readonly requestTimeoutMs: number;
  /** Map-output losses a task recovers from before its fetch failure counts. */
  readonly maxStageAttempts: number;
  /** Hands out free slots (waiting tasks first, then claims): called when a slot is freed. */
  readonly pump: () => void;
  /** Whether the worker is stopping (set by Worker.stop; never cleared). */
  readonly isDraining: () => boolean;
}

/** Takes claimed jobs from their claim to their reported end (see module doc). */
export class TaskLifecycle {
  /** A lifecycle over the worker's pieces. */
  constructor(private readonly deps: TaskLifecycleDeps) {}

  /**
   * Claims `job` at its source and, if granted, runs it to its reported end (the caller saw a free
   * slot). Never rejects; when it is over the job's slot is freed and `pump` called.
   */
  async claim(job: Extract<WireRecord, { kind: 'job' }>): Promise<void> {
    const { node, jobs, slots, counters, log, pump, isDraining } = this.deps;
    slots.claiming(job.jobId);
    counters.claimsTried++;
    try {
      const self = job.source.node === node.identity.node;
      if (!self && !node.peer(job.source.node)) await node.connect(job.source.rpc);
      const reply = await this.toSource(job.source.node, {
        op: 'job.claim',
        jobId: job.jobId,
        attempt: job.attempt,
        worker: node.identity.node,
      });
      if (!reply.granted && reply.reason === 'not-member') {
        log('info', 'claim refused: not a member of the source; saying HELLO again', {
          job: job.jobId,
          source: job.source.node,
        });
        // The source dropped this worker (it was paused, or cut off): HELLO again to be re-admitted.
        counters.claimsRefusedNotMember++;
        if (!self) void node.rehello(job.source.node);
      }
      if (!reply.granted) {
        // taken, stale, done or unknown: a newer record will come if the job needs us
        if (jobs.openJob(job.jobId) === job) jobs.close(job.jobId);
        return;
      }
      counters.claimsGranted++;
      log('debug', 'task claimed', { job: job.jobId, attempt: job.attempt, source: job.source.node });
      jobs.close(job.jobId);
      if (isDraining()) {
        // Granted while this worker began to stop: hand it back at once.
        await this.releaseLease(job, reply.lease.token);
        return;
      }
      const abort = new AbortController();
      const entry: RunningTask = { abort, owner: job.owner, released: false };
      slots.granted(job.jobId, entry);
      await this.run(job, reply.lease.token, reply.task, entry);
    } catch {
      // the source is unreachable; its records will come again if it is alive
    } finally {
      slots.end(job.jobId);
      pump();
    }
  }

  /** Runs a granted task to its reported end (parked and re-run as needed), renewing its lease meanwhile. */
  private async run(
    job: Extract<WireRecord, { kind: 'job' }>,
    token: string,
    task: Uint8Array,
    entry: RunningTask,
  ): Promise<void> {
    const { node, clock, parking, executor, taskServices, maps, slots, counters, log, pump } = this.deps;
    const { leaseRenewMs, requestTimeoutMs, maxStageAttempts } = this.deps;
    const { abort } = entry;
    const source = job.source.node;
    const desc = decode<TaskDesc>(task);
    const renew: Timer = clock.setInterval(() => {
      this.toSource(source, { op: 'job.renew', jobId: job.jobId, token })
        .then((r) => {
          if (r.ok) return;
          // The lease is gone (re-broadcast to another worker, or its action ended): stop
          // renewing. A running task may finish; its completion will be refused as stale, which is
          // harmless. A parked one gives up: it would post map jobs and store their outputs for
          // an attempt nobody waits for (found by simulation seeds 38659 and 43265: a worker
          // paused past dead-after kept recomputing the shuffles of ended actions).
          renew.cancel();
          if (entry.parkedOn && !abort.signal.aborted) {
            counters.parkedTasksGivenUp++;
            log('info', 'parked task given up: its lease is gone', { job: job.jobId, source });
            abort.abort();
          }
        })
        .catch(() => undefined);
    }, leaseRenewMs);
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
          const own = desc.output.kind === 'shuffle' ? [desc.output.shuffle.id] : [];
          const ids = [...shuffles.map((s) => s.id), ...own, ...Object.keys(desc.stageIds ?? {})];
          entry.parkedOn = { shuffles: ids, since: clock.now() };
          const { locations, parkedMs } = await parking.untilOutputs(
            job.jobId,
            job.owner,
            desc,
            shuffles,
            abort.signal,
          );
          entry.parkedOn = undefined;
          parkedTime += parkedMs;
          if (abort.signal.aborted) return await this.releaseIfStopping(job, token, entry);
          runDesc = { ...desc, locations };
          bytes = encode(runDesc);
        }
        // What the task prints goes to its client (`task.log`), all of it before the completion.
        const logs = new TaskLogSender((lines) =>
          node.request(
            job.owner,
            {
              op: 'task.log',
              worker: node.identity.node,
              stageId: desc.stageId,
              partition: desc.partition,
              attempt: desc.attempt,
              lines,
            },
            requestTimeoutMs,
          ),
        );
        const outcome = await executor.run(bytes, taskServices.forTask(job.owner, runDesc), {
          signal: abort.signal,
          cpuBound: isCpuBound(desc),
          onLog: (lines) => logs.add(lines),
        });
        await logs.flush().catch(() => undefined); // best effort: a lost line never fails the task
        if (abort.signal.aborted) return await this.releaseIfStopping(job, token, entry);
        if (!outcome.ok && outcome.error.name === 'FetchFailedError') {
          counters.fetchFailures++;
          const data = (outcome.error as { data?: { shuffleId?: string; mapIndex?: number } }).data;
          const sid = data?.shuffleId;
          const m = data?.mapIndex;
          const endpoint = sid !== undefined && m !== undefined ? runDesc.locations?.[sid]?.[m] : undefined;
          log('warn', 'fetch failed', {
            job: job.jobId,
            shuffle: sid,
            map: m,
            holder: endpoint,
            error: outcome.error.message,
            lost: lost + 1,
          });
          if (sid !== undefined && m !== undefined && ++lost <= maxStageAttempts) {
            // The holder is gone or lost the block: forget it there, and recompute from lineage.
            if (endpoint !== undefined) maps.removeEndpoint(sid, m, endpoint);
            this.reportFetchFailure(job.owner, desc, sid);
            continue;
          }
        }
        // Recoveries ran out (or the failure named no output): the fetch failure counts.
        // The computation is over: its slot goes to the next task while the outcome is stored
        // and reported (a report to a source that just died waits until it is declared dead).
        slots.move(job.jobId, 'reporting');
        pump();
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
    this.deps.counters.leasesReleased++;
    this.deps.log('info', 'lease handed back (stopping)', { job: job.jobId, source: job.source.node });
    const error = errorToWire(new WorkerStoppingError(`worker ${this.deps.node.identity.node} is stopping`));
    await this.sendFail(job, token, error, taskEnd('worker-stopping')).catch(() => undefined);
  }

  /** Reports a task's outcome to its source. */
  private async finish(
    job: Extract<WireRecord, { kind: 'job' }>,
    token: string,
    desc: TaskDesc,
    outcome: TaskOutcome,
  ): Promise<void> {
    const { node, store, counters, log, isDraining } = this.deps;
    const source = job.source.node;
    if (outcome.ok && isDraining() && desc.output.kind === 'shuffle') {
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
        worker: node.identity.node,
        ...result,
        accumulators: outcome.result.accumulators.map(([id, v]) => [id, v] as [string, unknown]),
        blocks: outcome.result.blocks.map(([id, data]) => [id, data.byteLength] as [string, number]),
        ...(outcome.result.metrics && { metrics: outcome.result.metrics }),
      });
      if (reply.ok) {
        counters.tasksSucceeded++;
        log('debug', 'task done', { job: job.jobId, attempt: desc.attempt });
      } else {
        counters.completionsRefused++;
        log('info', 'completion refused as stale', { job: job.jobId, attempt: desc.attempt });
        if (result.resultBlock) await store.delete(result.resultBlock.id);
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
    this.deps.counters.tasksFailed++;
    this.deps.log('info', 'task failed', {
      job: job.jobId,
      error: `${error.name}: ${error.message}`,
      end: end.kind,
    });
    await this.sendFail(job, token, error, end);
  }

  /** A `job.fail` of this lease to the job's source, with the error and why the task ended. */
  private async sendFail(
    job: Extract<WireRecord, { kind: 'job' }>,
    token: string,
    error: WireError,
    end: TaskEndReason,
  ): Promise<void> {
    await this.toSource(job.source.node, {
      op: 'job.fail',
      jobId: job.jobId,
      token,
      worker: this.deps.node.identity.node,
      error: { ...error },
      end: { ...end },
    });
  }

  /** Tells the client a task lost a map output (for its progress and counters). */
  private reportFetchFailure(owner: string, desc: TaskDesc, shuffleId: string): void {
    this.deps.node
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
        this.deps.requestTimeoutMs,
      )
      .catch(() => undefined);
  }

  /** A request to a job's source (this worker's own map job source answers locally), its reply checked. */
  private async toSource<R extends Request>(source: string, req: R): Promise<ReplyOf<R['op']>> {
    if (source === this.deps.node.identity.node)
      return checkedReply<R['op']>(req.op, await this.deps.source.answer(req));
    return this.deps.node.request(source, req, this.deps.requestTimeoutMs);
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
    await this.deps.store.put(id, bytes, owner);
    return { resultBlock: { id, bytes: bytes.byteLength } };
  }

  private storeOutputs(desc: TaskDesc, result: TaskResult, owner: string): Promise<void> {
    // stopping: nothing stored here would outlive this worker
    if (this.deps.isDraining()) return Promise.resolve();
    return this.deps.blocks.storeOutputs(desc, result, owner);
  }
}

/** A successful outcome with the time its task waited parked in its metrics (where it measured any). */
function withParkedTime(outcome: TaskOutcome, parkedTime: number): TaskOutcome {
  if (!outcome.ok || !outcome.result.metrics) return outcome;
  return { ok: true, result: { ...outcome.result, metrics: { ...outcome.result.metrics, parkedTime } } };
}
