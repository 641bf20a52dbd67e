import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MicroSpark, ProgressEvent } from '../../src/index.js';
import { modes } from '../support/modes.js';

describe.each(modes)('progress events ($name)', (mode) => {
  let sc: MicroSpark;
  beforeAll(async () => {
    sc = await mode.create(3);
  });
  afterAll(async () => {
    await sc.stop();
  });

  function record(): { events: ProgressEvent[]; stop: () => void } {
    const events: ProgressEvent[] = [];
    const stop = sc.onProgress((e) => {
      if (e.type !== 'worker') events.push(e);
    });
    return { events, stop };
  }

  it('names an action and its stages, and reports every task running then done', async () => {
    const { events, stop } = record();
    const pairs = sc.parallelize(['a b', 'b c', 'c'], 3).flatMap((l) => l.split(' ')).map((w) => [w, 1] as [string, number]); // prettier-ignore
    const counts = await pairs.reduceByKey((a, b) => a + b, 2).collect(); // the action's line
    stop();
    expect(new Map(counts)).toEqual(new Map([['a', 1], ['b', 2], ['c', 2]])); // prettier-ignore

    const actions = events.filter((e) => e.type === 'action');
    expect(actions.map((a) => a.state)).toEqual(['started', 'succeeded']);
    expect(actions[0]!.name).toBe('collect at progress.test.ts:25');

    // In process the map stage runs before the result stage is submitted; on a cluster every stage
    // is submitted at the start (the result tasks wait, parked, for the map outputs). Either way:
    // parents are submitted first, and complete first.
    const stages = events.filter((e) => e.type === 'stage');
    const row = (s: (typeof stages)[number]) => [s.kind, s.state, s.tasks, s.name];
    expect(stages.filter((s) => s.kind === 'shuffle-map').map(row)).toEqual([
      ['shuffle-map', 'submitted', 3, 'map at progress.test.ts:24'],
      ['shuffle-map', 'completed', 3, 'map at progress.test.ts:24'],
    ]);
    expect(stages.filter((s) => s.kind === 'result').map(row)).toEqual([
      ['result', 'submitted', 2, 'collect at progress.test.ts:25'],
      ['result', 'completed', 2, 'collect at progress.test.ts:25'],
    ]);
    expect(stages[0]).toMatchObject({ kind: 'shuffle-map', state: 'submitted' });
    expect(stages.at(-1)).toMatchObject({ kind: 'result', state: 'completed' });
    expect(new Set(stages.map((s) => s.actionId))).toEqual(new Set([actions[0]!.actionId]));

    const mapStage = stages.find((s) => s.kind === 'shuffle-map')!.stageId;
    const resultStage = stages.find((s) => s.kind === 'result')!.stageId;
    for (const [stageId, n] of [
      [mapStage, 3],
      [resultStage, 2],
    ] as const) {
      const tasks = events.filter((e) => e.type === 'task' && e.stageId === stageId);
      const byState = (st: string) =>
        tasks.filter((t) => t.type === 'task' && t.state === st).map((t) => (t.type === 'task' ? t.partition : -1)).sort(); // prettier-ignore
      expect(byState('running')).toEqual([...Array(n).keys()]);
      expect(byState('done')).toEqual([...Array(n).keys()]);
      expect(byState('retried')).toEqual([]);
    }
  });

  it('names actions and stages by the method the user called, not the internal one', async () => {
    const { events, stop } = record();
    const nums = sc.parallelize([5, 1, 4, 2, 3], 2);
    expect(await nums.sum()).toBe(15); // sum runs as a fold
    expect(await nums.top(2)).toEqual([5, 4]); // top runs as takeOrdered
    const sorted = nums.sortBy((x) => -x, true, 2); // sortBy is keyBy + sortByKey + values
    expect(await sorted.collect()).toEqual([5, 4, 3, 2, 1]);
    stop();
    const started = events.filter((e) => e.type === 'action' && e.state === 'started');
    expect(started.map((a) => (a.type === 'action' ? a.name : ''))).toEqual([
      'sum at progress.test.ts:68',
      'top at progress.test.ts:69',
      'collect at progress.test.ts:71',
    ]);
    const mapStages = events.filter((e) => e.type === 'stage' && e.kind === 'shuffle-map' && e.state === 'submitted'); // prettier-ignore
    expect(new Set(mapStages.map((e) => (e.type === 'stage' ? e.name : '')))).toEqual(
      new Set(['sortBy at progress.test.ts:70']),
    );
    expect(sorted.toDebugString().split('\n')[0]).toMatch(/ at sortBy at progress\.test\.ts:70 /);
  });

  it('reports retries and a failed stage and action when user code keeps throwing', async () => {
    const { events, stop } = record();
    await expect(
      sc
        .parallelize([1, 2, 3], 1)
        .map((x) => {
          if (x === 2) throw new Error('two is not allowed');
          return x;
        })
        .collect(),
    ).rejects.toThrow(/two is not allowed/);
    stop();
    const tasks = events.filter((e) => e.type === 'task');
    expect(tasks.filter((t) => t.state === 'running')).toHaveLength(4);
    expect(tasks.filter((t) => t.state === 'retried').map((t) => t.reason)).toEqual([
      'error',
      'error',
      'error',
    ]);
    expect(tasks.filter((t) => t.state === 'failed')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'stage').map((s) => s.state)).toEqual(['submitted', 'failed']);
    const end = events.filter((e) => e.type === 'action').at(-1);
    expect(end).toMatchObject({ state: 'failed', error: expect.stringMatching(/TaskFailedError: .*two is not allowed/) }); // prettier-ignore
  });

  it('a listener that throws does not fail the job', async () => {
    const stop = sc.onProgress(() => {
      throw new Error('drawing bug');
    });
    expect(await sc.parallelize([1, 2, 3]).count()).toBe(3);
    stop();
  });
});
