/**
 * Wide dependencies on a cluster: the client posts only the partitions an action wants; a worker
 * whose task needs map outputs nobody announced posts the map jobs itself and parks the task
 * without holding a slot. Checked against real daemons, with the in-process engine as reference.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { MicroSpark, TaskFailedError, type ProgressEvent } from '../../src/index.js';

/** A two-shuffle pipeline: word count, then sorted by count (descending) and word. */
async function wordsByCount(sc: MicroSpark): Promise<Array<[string, number]>> {
  const lines = Array.from({ length: 120 }, (_, i) => `w${i % 7} w${i % 11} w${i % 13}`);
  return sc
    .parallelize(lines, 4)
    .flatMap((l) => l.split(' '))
    .map((w) => [w, 1] as [string, number])
    .reduceByKey((a, b) => a + b, 3)
    .sortBy(([w, n]) => [-n, w] as [number, string], true, 2)
    .collect();
}

function completedStages(events: readonly ProgressEvent[]): Array<[string, number]> {
  return events.flatMap((e): Array<[string, number]> =>
    e.type === 'stage' && e.state === 'completed' ? [[e.kind, e.tasks]] : [],
  );
}

describe('workers are the sources of the map jobs a wide dependency needs', () => {
  let reference: Array<[string, number]>;
  /** The stages the in-process engine completes for {@link wordsByCount}: kind and task count. */
  let referenceStages: Array<[string, number]>;
  beforeAll(async () => {
    const sc = await MicroSpark.inProcess();
    const events: ProgressEvent[] = [];
    sc.onProgress((e) => events.push(e));
    reference = await wordsByCount(sc);
    referenceStages = completedStages(events);
    await sc.stop();
    expect(reference).toHaveLength(13); // w0..w12
    expect(reference.reduce((n, [, c]) => n + c, 0)).toBe(360);
  });

  it('one worker with one slot: the parked reduce task frees the slot its map jobs run in', async () => {
    const sc = await MicroSpark.local({ workers: 1, slotsPerWorker: 1 });
    try {
      const cluster = sc.cluster!;
      const events: ProgressEvent[] = [];
      const stop = sc.onProgress((e) => events.push(e));
      expect(await wordsByCount(sc)).toEqual(reference);
      stop();
      // The sortBy samples its input first (an action of its own, with the first shuffle), then
      // the main action: the client posted result tasks only (4 sample + 2 sorted partitions)...
      expect(cluster.counters.tasksPosted).toBe(3 + 2);
      // ...and every map task of both shuffles ran, reported by the worker that posted it.
      const maps = events.filter(
        (e): e is Extract<ProgressEvent, { type: 'task' }> => e.type === 'task' && e.state === 'done',
      );
      // The same stages as in process, each with every task done on the worker.
      const stages = completedStages(events);
      expect(stages).toEqual(referenceStages);
      expect(maps).toHaveLength(stages.reduce((n, [, tasks]) => n + tasks, 0));
      expect(new Set(maps.map((m) => m.worker))).toEqual(new Set([sc.localWorkers[0]!.node]));
    } finally {
      await sc.stop();
    }
  });

  it('three workers: the same answer, map-side accumulator updates counted once per partition', async () => {
    const sc = await MicroSpark.local({ workers: 3 });
    try {
      const seen = sc.accumulator(0);
      const counts = await sc
        .parallelize([...Array(600).keys()], 6)
        .map(
          (x, env) => {
            env.seen.add(1);
            return [x % 10, x] as [number, number];
          },
          { seen },
        )
        .reduceByKey((a, b) => a + b, 4)
        .collect();
      expect(new Map(counts)).toEqual(new Map([...Array(10).keys()].map((k) => [k, 60 * k + 17_700])));
      expect(seen.value).toBe(600);
      expect(sc.cluster!.counters.tasksPosted).toBe(4);
      expect(await wordsByCount(sc)).toEqual(reference);
    } finally {
      await sc.stop();
    }
  });

  it('a map task that keeps throwing fails the action with its remote error', async () => {
    const sc = await MicroSpark.local({ workers: 2 });
    try {
      const events: ProgressEvent[] = [];
      const stop = sc.onProgress((e) => events.push(e));
      const err = await sc
        .parallelize([1, 2, 3, 4], 2)
        .map((x) => {
          if (x === 3) throw new RangeError('three is out of range');
          return [x % 2, x] as [number, number];
        })
        .reduceByKey((a, b) => a + b)
        .collect()
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      stop();
      expect(err).toBeInstanceOf(TaskFailedError);
      expect((err as TaskFailedError).message).toMatch(/failed 4 times; most recent failure: RangeError: three is out of range/); // prettier-ignore
      expect((err as TaskFailedError).cause).toMatchObject({ remoteName: 'RangeError', message: 'three is out of range' }); // prettier-ignore
      const mapTasks = events.filter((e) => e.type === 'task' && e.partition === 1 && e.stageId === events.find((s) => s.type === 'stage')!.stageId); // prettier-ignore
      expect(mapTasks.filter((t) => t.type === 'task' && t.state === 'retried')).toHaveLength(3);
      expect(mapTasks.filter((t) => t.type === 'task' && t.state === 'failed')).toHaveLength(1);
      // The context stays usable.
      expect(await sc.parallelize([1, 2, 3]).count()).toBe(3);
    } finally {
      await sc.stop();
    }
  });
});
