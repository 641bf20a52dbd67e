/**
 * Why a task ended without a result, decided once, where it ended (the worker that ran it), and
 * carried on the wire in `job.fail` (Ballista's `FailedTask { retryable, count_to_failures,
 * reason }`). The job's source applies it as it is: it never looks at error names.
 */
import type { WireError } from '../protocol/errors.js';

/** What ended a task. */
export type TaskEndKind =
  /** The user's code threw (or ran out of time or memory): counts towards `maxTaskFailures`. */
  | 'user-error'
  /**
   * A map output it reads could not be fetched, and the worker already recomputed lost outputs
   * as often as allowed (`maxStageAttempts`): counts, so a shuffle that keeps vanishing fails.
   */
  | 'fetch-failed'
  /** The worker stops and hands the lease back: re-posted at once, not counted. */
  | 'worker-stopping'
  /** The worker could not run it (a service it needed failed, not the user's code): not counted. */
  | 'worker-error'
  /** A map stage it needs failed for good: the task cannot succeed, so it fails at once. */
  | 'dependency-failed';

/** A task's end without a result, as the source applies it. */
export interface TaskEndReason {
  readonly kind: TaskEndKind;
  /** Whether the source posts it again (with the next attempt) unless failures ran out. */
  readonly retryable: boolean;
  /** Whether it counts towards the task's `maxTaskFailures`. */
  readonly countsToFailures: boolean;
  /** For `fetch-failed`: the map output that was lost. */
  readonly lost?: { readonly shuffleId: string; readonly map: number };
}

/** The reason for `kind`, with the one policy every source applies. */
export function taskEnd(kind: TaskEndKind, lost?: TaskEndReason['lost']): TaskEndReason {
  switch (kind) {
    case 'user-error':
      return { kind, retryable: true, countsToFailures: true };
    case 'fetch-failed':
      return { kind, retryable: true, countsToFailures: true, ...(lost && { lost }) };
    case 'worker-stopping':
    case 'worker-error':
      return { kind, retryable: true, countsToFailures: false };
    case 'dependency-failed':
      return { kind, retryable: false, countsToFailures: true };
  }
}

/**
 * How a task run by the task pool ended, from its outcome: `userError` says whether the task's own
 * code threw (the pool knows: a failed service call is not the user's fault); a FetchFailedError
 * carries the lost output in its data.
 */
export function endOfOutcome(error: WireError, userError: boolean): TaskEndReason {
  if (error.name === 'FetchFailedError') {
    const data = error.data as { shuffleId?: unknown; mapIndex?: unknown } | undefined;
    const lost =
      typeof data?.shuffleId === 'string' && typeof data.mapIndex === 'number'
        ? { shuffleId: data.shuffleId, map: data.mapIndex }
        : undefined;
    return taskEnd('fetch-failed', lost);
  }
  if (error.name === 'WorkerStoppingError') return taskEnd('worker-stopping');
  return taskEnd(userError ? 'user-error' : 'worker-error');
}

/** What progress listeners are told when a task is retried for this reason. */
export function retryReasonOf(end: TaskEndReason): 'error' | 'fetch-failed' | 'worker-lost' {
  return end.kind === 'fetch-failed'
    ? 'fetch-failed'
    : end.kind === 'worker-stopping'
      ? 'worker-lost'
      : 'error';
}
