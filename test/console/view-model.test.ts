import { describe, expect, it } from 'vitest';
import type { ProgressEvent } from '../../src/index.js';
import { progressText } from '../../src/cli/progress-line.js';
import { initialState, pending, reduce, type ConsoleState } from '../../src/console/view-model.js';

function apply(events: ProgressEvent[], from: ConsoleState = initialState, now = 1000): ConsoleState {
  return events.reduce((s, event, i) => reduce(s, { type: 'progress', event, now: now + i * 10 }), from);
}

const started: ProgressEvent = { type: 'action', actionId: 7, state: 'started', name: 'collect at job.ts:3' };
const mapStage: ProgressEvent = {
  type: 'stage',
  actionId: 7,
  stageId: 0,
  kind: 'shuffle-map',
  state: 'submitted',
  name: 'map at job.ts:2',
  tasks: 3,
};
const task = (
  state: 'running' | 'done' | 'retried' | 'failed',
  partition: number,
  reason?: 'lease-expired' | 'error',
): ProgressEvent => ({
  type: 'task',
  stageId: 0,
  partition,
  attempt: 0,
  state,
  ...(reason && { reason }),
});

describe('console view model', () => {
  it('tracks an action, its stages and each task state', () => {
    const s = apply([started, mapStage, task('running', 0), task('running', 1), task('done', 0)]);
    expect(s.action?.name).toBe('collect at job.ts:3');
    expect(s.action?.startedAt).toBe(1000);
    const st = s.action!.stages[0]!;
    expect([st.name, st.tasks, st.done, st.running.size, st.retried, pending(st), st.state]).toEqual([
      'map at job.ts:2',
      3,
      1,
      1,
      0,
      1,
      'running',
    ]);
  });

  it('a retried task goes back to pending and is counted; retries are logged once, as a summary, when the action ends', () => {
    const s = apply([started, mapStage, task('running', 2), task('retried', 2, 'lease-expired')]);
    const st = s.action!.stages[0]!;
    expect([st.running.size, st.retried, pending(st)]).toEqual([0, 1, 3]);
    expect(s.log).toEqual([]);
    const retries = [0, 1, 2].flatMap(() => [task('running', 0), task('retried', 0, 'error')]);
    const failed = apply([
      started,
      mapStage,
      task('running', 2),
      task('retried', 2, 'lease-expired'),
      ...retries,
      {
        type: 'action',
        actionId: 7,
        state: 'failed',
        name: 'collect at job.ts:3',
        error: 'TaskFailedError: x',
      },
    ]);
    expect(failed.log.map((l) => [l.text, l.tone])).toEqual([
      [
        'collect at job.ts:3: 4 task retries (user code threw ×3; its lease expired, re-broadcast ×1)',
        'warn',
      ],
      ['collect at job.ts:3 failed: TaskFailedError: x after 0.1 s', 'error'],
    ]);
    const ok = apply([started, mapStage, ...retries.slice(0, 2), { type: 'action', actionId: 7, state: 'succeeded', name: 'collect at job.ts:3' }]); // prettier-ignore
    expect(ok.log.map((l) => l.text)).toEqual(['collect at job.ts:3: 1 task retry (user code threw ×1)']);
  });

  it('done never exceeds the task count, and running is a set of partitions', () => {
    const s = apply([
      started,
      mapStage,
      task('running', 1),
      task('running', 1),
      ...[0, 1, 2, 2].map((p) => task('done', p)),
    ]);
    const st = s.action!.stages[0]!;
    expect([st.done, st.running.size, pending(st)]).toEqual([3, 0, 0]);
  });

  it('a finished action leaves the live region and goes to the history; failures are logged', () => {
    const ok = apply([started, mapStage, task('running', 0), task('done', 0), { type: 'action', actionId: 7, state: 'succeeded', name: 'collect at job.ts:3' }]); // prettier-ignore
    expect(ok.action).toBeUndefined();
    expect(ok.history).toEqual([
      {
        actionId: 7,
        name: 'collect at job.ts:3',
        state: 'succeeded',
        ms: 40,
        stages: 1,
        tasks: 3,
        retried: 0,
      },
    ]);
    expect(ok.log).toEqual([]);
    const cancelled = apply([started, { type: 'action', actionId: 7, state: 'cancelled', name: 'collect at job.ts:3' }]); // prettier-ignore
    expect(cancelled.log.map((l) => [l.text, l.tone])).toEqual([
      ['collect at job.ts:3 cancelled after 0.0 s', 'warn'],
    ]);
    const failed = apply([started, { type: 'action', actionId: 7, state: 'failed', name: 'count at a.ts:1', error: 'TaskFailedError: boom' }]); // prettier-ignore
    expect(failed.log.map((l) => l.text)).toEqual([
      'count at a.ts:1 failed: TaskFailedError: boom after 0.0 s',
    ]);
  });

  it('stage completion and failure, and events for unknown stages are ignored', () => {
    const s = apply([
      started,
      mapStage,
      task('running', 0),
      { ...mapStage, state: 'failed' },
      { type: 'task', stageId: 99, partition: 0, attempt: 0, state: 'done' },
    ]);
    const st = s.action!.stages[0]!;
    expect([st.state, st.running.size]).toEqual(['failed', 0]);
    expect(s.action!.stages).toHaveLength(1);
  });

  it('workers joining and being lost are logged; snapshots replace the workers', () => {
    let s = apply([
      { type: 'worker', state: 'joined', node: 'abcdef123456', endpoint: 'tcp://127.0.0.1:4000' },
      { type: 'worker', state: 'lost', node: 'abcdef123456', endpoint: 'tcp://127.0.0.1:4000' },
    ]);
    expect(s.log.map((l) => [l.id, l.text, l.tone])).toEqual([
      [0, 'worker abcdef (127.0.0.1:4000) joined', 'info'],
      [1, 'worker abcdef (127.0.0.1:4000) was lost', 'warn'],
    ]);
    const w = {
      node: 'n1',
      endpoint: 'tcp://127.0.0.1:1',
      slots: 2,
      free: 1,
      blocks: 3,
      memoryBytes: 10,
      lastSeenMs: 5,
    };
    s = reduce(s, { type: 'workers', workers: [w] });
    expect(s.workers).toEqual([w]);
  });

  it('keeps at most 20 finished actions and 500 log lines, with increasing ids', () => {
    let s = initialState;
    for (let i = 0; i < 25; i++) {
      s = apply([{ type: 'action', actionId: i, state: 'started', name: `a${i}` }, { type: 'action', actionId: i, state: 'succeeded', name: `a${i}` }], s); // prettier-ignore
    }
    expect(s.history.map((h) => h.actionId)).toEqual([...Array(20).keys()].map((i) => i + 5));
    for (let i = 0; i < 510; i++) s = reduce(s, { type: 'log', text: `l${i}`, tone: 'info' });
    expect(s.log).toHaveLength(500);
    expect(s.log[0]!.id).toBe(10);
    expect(s.log.at(-1)!.text).toBe('l509');
  });

  it('the progress line shows every active stage as spark-shell does, parked tasks not running', () => {
    const resultStage: ProgressEvent = { ...mapStage, stageId: 1, kind: 'result', name: 'collect at job.ts:3', tasks: 2 }; // prettier-ignore
    const onResult = (state: 'running' | 'done', partition: number): ProgressEvent => ({ type: 'task', stageId: 1, partition, attempt: 0, state }); // prettier-ignore
    const s = apply([started, mapStage, resultStage, task('running', 0), task('running', 1), task('done', 0), onResult('running', 0), onResult('running', 1)]); // prettier-ignore
    expect(progressText(s.action!, 3500, 100)).toBe(
      '[2.5 s] collect at job.ts:3 [Stage 0:=====>         (1 + 1) / 3][Stage 1:>              (0 + 0) / 2]',
    );
    // The map stage done: the result tasks run; only the active stage is shown.
    const later = apply([task('done', 1), task('running', 2), task('done', 2), { ...mapStage, state: 'completed' }], s, 2000); // prettier-ignore
    expect(progressText(later.action!, 3500, 60)).toBe(
      '[2.5 s] collect at job.ts:3 [Stage 1:>          (0 + 2) / 2]',
    );
    expect(progressText(later.action!, 3500, 40)).toBe('[2.5 s] collect at job.ts:3 [Stage 1: (0');
  });
});

describe('task output in the console', () => {
  it('shows what tasks print in the log, marked with the worker and the task, stderr as a warning', () => {
    const s = apply([
      {
        type: 'log',
        worker: '233b22ffee',
        stageId: 0,
        partition: 3,
        attempt: 0,
        stream: 'stdout',
        line: 'hello',
      },
      { type: 'log', worker: 'driver', stageId: 1, partition: 0, attempt: 1, stream: 'stderr', line: 'oops' },
    ]);
    expect(s.log.map((l) => [l.text, l.tone])).toEqual([
      ['[worker 233b22 task 3.0] hello', 'info'],
      ['[worker driver task 0.1] oops', 'warn'],
    ]);
  });
});
