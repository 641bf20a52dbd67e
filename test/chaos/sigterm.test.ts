/**
 * SIGTERM on a worker daemon mid-job: the worker hands back what it holds at once (leases of
 * running and parked tasks, the map jobs it is the source of, its block records) and says
 * goodbye, so the job loses only the work in flight and nobody waits for the dead-after timeout.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MicroSpark, type ProgressEvent } from '../../src/index.js';

// A long dead-after timeout, so that waiting for it (what a plain death costs) is plain to see.
const OPTS = {
  workers: 3,
  slotsPerWorker: 1,
  heartbeatMs: 200,
  deadAfterMs: 6000,
  leaseTtlMs: 20_000,
  noWorkerGraceMs: 10_000,
} as const;

const contexts: MicroSpark[] = [];
afterEach(async () => {
  await Promise.all(contexts.splice(0).map((sc) => sc.stop()));
});

/** The grace a stopping daemon gives running tasks (Worker.stop's default). */
const STOP_GRACE_MS = 5000;
/** Map tasks take this long: the job outlasts the stop grace. */
const MAP_MS = 2000;

/** A word count whose 6 map partitions take `ms` each. */
function job(sc: MicroSpark, ms: number): Promise<Map<string, number>> {
  const words = Array.from({ length: 600 }, (_, i) => `w${i % 37}`);
  return sc
    .parallelize(words, 6)
    .mapPartitions(
      (it, env) => {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, env.ms);
        return [...it].map((w) => [w, 1] as [string, number]);
      },
      { ms },
    )
    .reduceByKey((a, b) => a + b, 3)
    .collectAsMap();
}

async function waitFor<T>(check: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('chaos: SIGTERM on a worker mid-job', () => {
  it('releases its leases at once: no grace period and no dead-after wait', async () => {
    const reference = await (async () => {
      const sc = await MicroSpark.inProcess();
      try {
        return await job(sc, 0);
      } finally {
        await sc.stop();
      }
    })();
    expect(reference.size).toBe(37);

    const sc = await MicroSpark.local(OPTS);
    contexts.push(sc);
    const cluster = sc.cluster!;
    expect(await job(sc, 0)).toEqual(reference); // warm-up
    const events: Array<{ at: number; e: ProgressEvent }> = [];
    sc.onProgress((e) => events.push({ at: Date.now(), e }));
    const action = job(sc, MAP_MS);
    // Every reduce task is leased (parked, waiting for the map outputs) and the maps are running.
    await waitFor(() => (cluster.leases().size === 3 ? true : undefined));
    await waitFor(() =>
      events.some((x) => x.e.type === 'task' && x.e.state === 'running' && x.e.stageId !== undefined)
        ? true
        : undefined,
    );
    await new Promise((r) => setTimeout(r, 150));
    const [, holder] = [...cluster.leases()][0]!;
    const held = [...cluster.leases().values()].filter((w) => w === holder).length;
    const victim = sc.localWorkers.find((w) => w.node === holder)!;
    const exited = new Promise<number>((r) => victim.child.once('exit', () => r(Date.now())));
    const killedAt = Date.now();
    victim.child.kill('SIGTERM');
    expect(await action).toEqual(reference);
    const elapsed = Date.now() - killedAt;

    expect(await exited).toBeGreaterThan(killedAt); // the fault fired: the victim exited
    // Two workers left run the 5 map tasks not done (the victim's was handed back): 3 rounds of
    // MAP_MS at most. A worker that kept its parked task through the grace period and then
    // abandoned it would make the job wait STOP_GRACE_MS + deadAfterMs (11 s) after the signal.
    expect(elapsed, `the job ended ${elapsed} ms after the SIGTERM`).toBeLessThan(
      STOP_GRACE_MS + OPTS.deadAfterMs / 2,
    );
    // Every client lease it held was handed back, at once.
    expect((await exited) - killedAt).toBeLessThan(3000);
    // How many of the three reduce leases the victim held depends on which worker claimed first
    // (two slots each, claims race): 1 to 3. What it held is then counted exactly below.
    expect(held).toBeGreaterThanOrEqual(1);
    expect(cluster.counters.leasesReleased).toBe(held);
    // Its peers dropped it on its goodbye, not after the 4 s dead-after timeout.
    const lost = events.find((x) => x.e.type === 'worker' && x.e.state === 'lost' && x.e.node === holder);
    expect(lost).toBeDefined();
    expect(lost!.at - killedAt).toBeLessThan(OPTS.deadAfterMs / 2);
  });
});
