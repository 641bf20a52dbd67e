import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobCancelledError, MicroSpark } from '../../src/index.js';
import { workerState } from '../support/worker-snapshot.js';

const slow = (x: number, env: { ms: number }) => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, env.ms);
  return x;
};

async function waitFor<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('cancellation on a local cluster', () => {
  let sc: MicroSpark;
  beforeAll(async () => {
    sc = await MicroSpark.local({
      workers: 2,
      slotsPerWorker: 1,
      defaultParallelism: 2,
      heartbeatMs: 200,
      deadAfterMs: 1000,
    });
  });
  afterAll(async () => {
    await sc.stop();
  });

  async function freeSlots(): Promise<number> {
    const states = await Promise.all(sc.localWorkers.map((w) => workerState(w.rpc)));
    return states.reduce((n, s) => n + s.free, 0);
  }

  it('cancelAllJobs rejects the action, withdraws its jobs and stops the running tasks', async () => {
    const cluster = sc.cluster!;
    const action = sc.parallelize([1, 2, 3, 4], 2).map(slow, { ms: 60_000 }).collect();
    await waitFor(() => (cluster.leases().size === 2 ? true : undefined));
    expect(await freeSlots()).toBe(0);
    const t0 = Date.now();
    sc.cancelAllJobs();
    await expect(action).rejects.toBeInstanceOf(JobCancelledError);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(cluster.counters.tasksCancelled).toBe(2);
    await waitFor(async () => ((await freeSlots()) === 2 ? true : undefined), 5000);
    expect(cluster.leases().size).toBe(0);
    // the context stays usable
    expect(
      await sc
        .parallelize([1, 2, 3], 2)
        .map((x) => x * 10)
        .collect(),
    ).toEqual([10, 20, 30]);
  });

  it('withSignal applies a signal to every action inside it', async () => {
    const t0 = Date.now();
    const err = await sc
      .withSignal(AbortSignal.timeout(500), () => sc.parallelize([1, 2], 2).map(slow, { ms: 60_000 }).count())
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(JobCancelledError);
    expect(Date.now() - t0).toBeLessThan(2500);
    await waitFor(async () => ((await freeSlots()) === 2 ? true : undefined), 5000);
  });
});

describe('cancellation in-process', () => {
  it('an aborted signal rejects before any task runs', async () => {
    const sc = await MicroSpark.inProcess();
    try {
      const controller = new AbortController();
      controller.abort();
      await expect(sc.withSignal(controller.signal, () => sc.range(10).count())).rejects.toBeInstanceOf(
        JobCancelledError,
      );
      expect(await sc.range(10).count()).toBe(10);
    } finally {
      await sc.stop();
    }
  });
});
