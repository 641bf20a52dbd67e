/**
 * The console's view model: workers, the running action's stages, and the event log, as a pure
 * reducer over progress events and worker snapshots. Components only draw this state.
 */
import type { WorkerStatus } from '../client/cluster-backend.js';
import type { ProgressEvent, RetryReason } from '../client/progress.js';
import { formatDuration } from './format.js';

/** One stage's tasks, as its progress bar draws them. */
export interface StageView {
  readonly stageId: number;
  readonly kind: 'shuffle-map' | 'result';
  readonly name: string;
  readonly tasks: number;
  /** Partitions running now. */
  readonly running: ReadonlySet<number>;
  readonly done: number;
  /** Times a task went back to pending (errors, lost workers, expired leases). */
  readonly retried: number;
  readonly failed: number;
  readonly state: 'running' | 'completed' | 'failed';
  readonly startedAt: number;
}

/** The action running now and its stages, in submission order. */
export interface ActionView {
  readonly actionId: number;
  readonly name: string;
  readonly startedAt: number;
  readonly stages: readonly StageView[];
  /** Task retries so far, by reason: logged as one summary line when the action ends. */
  readonly retries?: Readonly<Partial<Record<RetryReason, number>>>;
}

/** A finished action, for `:jobs`. */
export interface ActionSummary {
  readonly actionId: number;
  readonly name: string;
  readonly state: 'succeeded' | 'failed' | 'cancelled';
  readonly ms: number;
  readonly stages: number;
  readonly tasks: number;
  readonly retried: number;
}

/** A line of the scrolling log. */
export interface LogLine {
  readonly id: number;
  readonly text: string;
  readonly tone: 'info' | 'warn' | 'error' | 'result' | 'input';
}

/** Everything the console draws. */
export interface ConsoleState {
  readonly workers: readonly WorkerStatus[];
  readonly action: ActionView | undefined;
  readonly history: readonly ActionSummary[];
  readonly log: readonly LogLine[];
  readonly nextLogId: number;
}

/** What changes the view model. */
export type ConsoleAction =
  | { readonly type: 'progress'; readonly event: ProgressEvent; readonly now: number }
  | { readonly type: 'workers'; readonly workers: readonly WorkerStatus[] }
  | { readonly type: 'log'; readonly text: string; readonly tone: LogLine['tone'] };

/** Finished actions kept for `:jobs`. */
export const HISTORY_LIMIT = 20;
/** Log lines kept in memory (older ones have already scrolled out of the live region). */
export const LOG_LIMIT = 500;

export const initialState: ConsoleState = {
  workers: [],
  action: undefined,
  history: [],
  log: [],
  nextLogId: 0,
};

/** The first 6 characters of a node id, as the console shows workers. */
export function shortId(node: string): string {
  return node.slice(0, 6);
}

/** `host:port` of a `tcp://host:port` endpoint. */
export function hostPort(endpoint: string): string {
  return endpoint.replace(/^tcp:\/\//, '');
}

const REASONS: Record<RetryReason, string> = {
  error: 'user code threw',
  'lease-expired': 'its lease expired, re-broadcast',
  'worker-lost': 'its worker was lost, re-broadcast',
  'fetch-failed': 'a shuffle fetch failed, parents recomputed',
};

const REASON_ORDER: readonly RetryReason[] = ['error', 'lease-expired', 'worker-lost', 'fetch-failed'];

/** One line for an action's retries: `collect at job.ts:3: 3 task retries (user code threw ×3)`. */
export function retrySummary(name: string, retries: Readonly<Partial<Record<RetryReason, number>>>): string {
  const parts = REASON_ORDER.filter((r) => (retries[r] ?? 0) > 0).map((r) => `${REASONS[r]} ×${retries[r]}`);
  const n = REASON_ORDER.reduce((a, r) => a + (retries[r] ?? 0), 0);
  return `${name}: ${n} task ${n === 1 ? 'retry' : 'retries'} (${parts.join('; ')})`;
}

function appendLog(s: ConsoleState, text: string, tone: LogLine['tone']): ConsoleState {
  const log = [...s.log, { id: s.nextLogId, text, tone }];
  return { ...s, log: log.length > LOG_LIMIT ? log.slice(-LOG_LIMIT) : log, nextLogId: s.nextLogId + 1 };
}

function updateStage(s: ConsoleState, stageId: number, f: (st: StageView) => StageView): ConsoleState {
  if (!s.action) return s;
  const i = s.action.stages.findIndex((st) => st.stageId === stageId);
  if (i < 0) return s;
  const stages = [...s.action.stages];
  stages[i] = f(stages[i]!);
  return { ...s, action: { ...s.action, stages } };
}

function withRunning(st: StageView, partition: number, on: boolean): ReadonlySet<number> {
  const r = new Set(st.running);
  if (on) r.add(partition);
  else r.delete(partition);
  return r;
}

function onProgress(s: ConsoleState, e: ProgressEvent, now: number): ConsoleState {
  switch (e.type) {
    case 'action': {
      if (e.state === 'started')
        return { ...s, action: { actionId: e.actionId, name: e.name, startedAt: now, stages: [] } };
      const a = s.action?.actionId === e.actionId ? s.action : undefined;
      const ms = a ? now - a.startedAt : 0;
      const summary: ActionSummary = {
        actionId: e.actionId,
        name: e.name,
        state: e.state,
        ms,
        stages: a?.stages.length ?? 0,
        tasks: a?.stages.reduce((n, st) => n + st.tasks, 0) ?? 0,
        retried: a?.stages.reduce((n, st) => n + st.retried, 0) ?? 0,
      };
      let next: ConsoleState = {
        ...s,
        action: a ? undefined : s.action,
        history: [...s.history, summary].slice(-HISTORY_LIMIT),
      };
      // One summary of the action's retries instead of a line per retry.
      if (a?.retries && Object.keys(a.retries).length > 0)
        next = appendLog(next, retrySummary(e.name, a.retries), 'warn');
      if (e.state === 'succeeded') return next;
      const what = e.state === 'cancelled' ? 'cancelled' : `failed: ${e.error ?? 'unknown error'}`;
      return appendLog(
        next,
        `${e.name} ${what} after ${formatDuration(ms)}`,
        e.state === 'cancelled' ? 'warn' : 'error',
      );
    }
    case 'stage': {
      if (e.state === 'submitted') {
        if (!s.action) return s;
        const stage: StageView = {
          stageId: e.stageId,
          kind: e.kind,
          name: e.name,
          tasks: e.tasks,
          running: new Set(),
          done: 0,
          retried: 0,
          failed: 0,
          state: 'running',
          startedAt: now,
        };
        return { ...s, action: { ...s.action, stages: [...s.action.stages, stage] } };
      }
      return updateStage(s, e.stageId, (st) => ({
        ...st,
        state: e.state === 'completed' ? 'completed' : 'failed',
        running: new Set(),
      }));
    }
    case 'task': {
      const next = updateStage(s, e.stageId, (st) => {
        switch (e.state) {
          case 'running':
            return { ...st, running: withRunning(st, e.partition, true) };
          case 'done':
            return {
              ...st,
              running: withRunning(st, e.partition, false),
              done: Math.min(st.tasks, st.done + 1),
            };
          case 'retried':
            return { ...st, running: withRunning(st, e.partition, false), retried: st.retried + 1 };
          case 'failed':
            return { ...st, running: withRunning(st, e.partition, false), failed: st.failed + 1 };
        }
      });
      if (e.state === 'retried' && e.reason !== undefined && next.action) {
        const retries = { ...next.action.retries, [e.reason]: (next.action.retries?.[e.reason] ?? 0) + 1 };
        return { ...next, action: { ...next.action, retries } };
      }
      return next;
    }
    case 'log':
      // What a task printed, marked as `microspark run` marks it on stderr.
      return appendLog(
        s,
        `[worker ${e.worker === 'driver' ? e.worker : shortId(e.worker)} task ${e.partition}.${e.attempt}] ${e.line}`,
        e.stream === 'stderr' ? 'warn' : 'info',
      );
    case 'worker':
      return appendLog(
        s,
        `worker ${shortId(e.node)} (${hostPort(e.endpoint)}) ${e.state === 'joined' ? 'joined' : 'was lost'}`,
        e.state === 'joined' ? 'info' : 'warn',
      );
    case 'sql':
      return s; // a DataFrame query's plan: the web UI's, not the console's
  }
}

/** The reducer: a new state for each action, never mutating the old one. */
export function reduce(s: ConsoleState, a: ConsoleAction): ConsoleState {
  switch (a.type) {
    case 'progress':
      return onProgress(s, a.event, a.now);
    case 'workers':
      return { ...s, workers: a.workers };
    case 'log':
      return appendLog(s, a.text, a.tone);
  }
}

/** Tasks of a stage waiting for a worker (not claimed yet). */
export function pending(st: StageView): number {
  return Math.max(0, st.tasks - st.done - st.running.size - st.failed);
}

/**
 * Whether the running tasks of `st` are parked: a result task claimed while a map stage of its
 * action is still running waits, holding no slot, for the map outputs it reads (a worker parks it).
 */
export function isParked(st: StageView, action: ActionView | undefined): boolean {
  return (
    st.kind === 'result' &&
    action !== undefined &&
    action.stages.some((o) => o.kind === 'shuffle-map' && o.state === 'running')
  );
}

/** A stage's tasks as the console and the progress line show them: running on a slot, or waiting. */
export function taskCounts(
  st: StageView,
  action: ActionView | undefined,
): { readonly done: number; readonly running: number; readonly waiting: number } {
  const running = isParked(st, action) ? 0 : st.running.size;
  return { done: st.done, running, waiting: Math.max(0, st.tasks - st.done - st.failed - running) };
}

/** The stages of an action that are still running (every one, in submission order). */
export function activeStages(action: ActionView | undefined): StageView[] {
  return action ? action.stages.filter((st) => st.state === 'running') : [];
}
