/**
 * A task that runs out of memory on a worker daemon with `--task-heap` (here through its
 * environment form, MICROSPARK_TASK_HEAP): the task fails with a TaskOutOfMemoryError that names
 * the setting, the worker survives (the thread is replaced) and runs the next job.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { MicroSpark, TaskFailedError } from '../../src/index.js';
import { spawnWorker, stopWorkers, type LocalWorker } from '../../src/client/local-cluster.js';

const daemons: LocalWorker[] = [];
afterAll(async () => {
  await stopWorkers(daemons.splice(0), 2000);
});

describe('the task heap limit', () => {
  it('a task out of memory fails with a typed error naming --task-heap; the worker survives', async () => {
    const saved = process.env.MICROSPARK_TASK_HEAP;
    process.env.MICROSPARK_TASK_HEAP = '64m';
    try {
      daemons.push(
        await spawnWorker({
          cluster: 'default',
          slots: 1,
          heartbeatMs: 200,
          deadAfterMs: 1000,
          readyTimeoutMs: 20_000,
        }),
      );
    } finally {
      if (saved === undefined) delete process.env.MICROSPARK_TASK_HEAP;
      else process.env.MICROSPARK_TASK_HEAP = saved;
    }
    const [w] = daemons;
    const sc = await MicroSpark.connect({
      peers: [w!.rpc.replace('tcp://', '')],
      minWorkers: 1,
      maxTaskFailures: 2,
      heartbeatMs: 200,
      deadAfterMs: 1000,
    });
    try {
      const err = await sc
        .parallelize([1], 1)
        .map(() => {
          const hog: number[][] = [];
          for (;;) hog.push(new Array<number>(1_000_000).fill(1));
        })
        .collect()
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(TaskFailedError);
      const cause = (err as TaskFailedError).cause as {
        remoteName: string;
        message: string;
        remoteData?: unknown;
      };
      expect(cause.remoteName).toBe('TaskOutOfMemoryError');
      expect(cause.message).toMatch(/limited to 64 MiB by the worker's --task-heap \(MICROSPARK_TASK_HEAP\)/);
      expect(cause.remoteData).toEqual({ heapMb: 64 });
      expect((err as TaskFailedError).attempts).toBe(2);
      // The worker is alive and runs the next job.
      expect(w!.child.exitCode).toBeNull();
      expect(
        await sc
          .parallelize([1, 2, 3], 1)
          .map((x) => x * 2)
          .collect(),
      ).toEqual([2, 4, 6]);
      expect(sc.cluster!.workers().map((p) => p.node)).toEqual([w!.node]);
    } finally {
      await sc.stop();
    }
  });
});
