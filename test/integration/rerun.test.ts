/**
 * Re-running the same multi-shuffle lineage on real daemons: every run plans its map stages
 * afresh (new stage ids), so the worker-side choice of the task that posts a stage's missing map
 * jobs must be made again; otherwise every task of a re-run waits out two heartbeats (~2 s).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MicroSpark } from '../../src/index.js';

describe('re-running the same lineage', () => {
  let sc: MicroSpark;
  let expected: number;
  beforeAll(async () => {
    sc = await MicroSpark.local({ workers: 4, slotsPerWorker: 1 });
    const n = 200_000;
    expected = (n * (n - 1)) / 2;
  });
  afterAll(async () => {
    await sc.stop();
  });

  it('a treeAggregate with two shuffles, run 6 times, is fast every time', async () => {
    const add = (a: number, b: number) => a + b;
    const times: number[] = [];
    for (let i = 0; i < 6; i++) {
      const t0 = performance.now();
      expect(await sc.range(0, 200_000, 1, 16).treeAggregate(0, add, add, 3)).toBe(expected);
      times.push(Math.round(performance.now() - t0));
    }
    // With the default 1 s heartbeat, a stalled run takes over 2 s.
    for (const t of times.slice(1)) expect(t, `run times (ms): ${times.join(', ')}`).toBeLessThan(1000);
  });
});
