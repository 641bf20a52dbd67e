import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MicroSpark } from '../../src/index.js';
import { workerState } from '../support/worker-snapshot.js';

describe('blocks on workers', () => {
  let sc: MicroSpark;
  beforeAll(async () => {
    sc = await MicroSpark.local({ workers: 2, defaultParallelism: 4 });
  });
  afterAll(async () => {
    await sc.stop();
  });

  async function storedBlocks(): Promise<number> {
    const states = await Promise.all(sc.localWorkers.map((w) => workerState(w.rpc)));
    return states.reduce((n, s) => n + s.blocks, 0);
  }

  async function settle(expected: number): Promise<number> {
    let n = await storedBlocks();
    for (let i = 0; i < 50 && n !== expected; i++) {
      await new Promise((r) => setTimeout(r, 50));
      n = await storedBlocks();
    }
    return n;
  }

  it('releases shuffle outputs when the action ends, keeps cached blocks until unpersist', async () => {
    const pairs = sc
      .parallelize(
        Array.from({ length: 100 }, (_, i) => i),
        4,
      )
      .map((x) => [x % 5, x] as [number, number]);
    expect(await pairs.reduceByKey((a, b) => a + b, 3).count()).toBe(5);
    expect(await settle(0)).toBe(0); // 4 maps x 3 reduce buckets were stored during the action

    const cached = pairs.cache();
    expect(await cached.count()).toBe(100);
    expect(await settle(4)).toBe(4); // one block per cached partition
    expect(await cached.reduceByKey((a, b) => a + b).count()).toBe(5);
    expect(await settle(4)).toBe(4); // the shuffle's buckets are gone again, the cache stays

    cached.unpersist();
    expect(await settle(0)).toBe(0);
  });

  it('a task result larger than a message (64 MiB) travels as a block, fetched and then dropped', async () => {
    const before = sc.cluster!.counters.resultBlocksFetched;
    const size = 70 * 1024 * 1024;
    const [big] = await sc
      .parallelize([size], 1)
      .map((n) => 'xyz'.repeat(n / 3 + 1).slice(0, n))
      .collect();
    expect(big!.length).toBe(size);
    expect(big!.slice(0, 7)).toBe('xyzxyzx');
    expect(sc.cluster!.counters.resultBlocksFetched - before).toBe(1);
    expect(await settle(0)).toBe(0); // the result block was dropped after the fetch
  });
});
