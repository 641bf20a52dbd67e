import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MicroSpark } from '../../src/index.js';
import { workerState } from '../support/worker-snapshot.js';

describe('blocks on workers', () => {
  let sc: MicroSpark;
  beforeAll(async () => {
    // Every slot runs JavaScript: the slow lane below blocks its threads, and with the default
    // (one JavaScript task at a time per worker) lane 2 waited for it whenever the two slow tasks
    // landed on different workers.
    sc = await MicroSpark.local({ workers: 2, slotsPerWorker: 2, cpusPerWorker: 2, defaultParallelism: 4 });
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
    expect(await settle(0)).toBe(0); // 4 map outputs (3 buckets each) were stored during the action

    const cached = pairs.cache();
    expect(await cached.count()).toBe(100);
    expect(await settle(4)).toBe(4); // one block per cached partition
    expect(await cached.reduceByKey((a, b) => a + b).count()).toBe(5);
    expect(await settle(4)).toBe(4); // the shuffle's buckets are gone again, the cache stays

    cached.unpersist();
    expect(await settle(0)).toBe(0);
  });

  it('with overlapping actions, each releases its shuffle outputs when it ends', async () => {
    // Lane 1: a slow action that holds no blocks, running throughout.
    let slowDone = false;
    const slow = sc
      .parallelize([1, 2], 2)
      .map(
        (x, env) => {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, env.ms);
          return x;
        },
        { ms: 4000 },
      )
      .collect()
      .then((r) => {
        slowDone = true;
        return r;
      });
    // Lane 2: small reduceByKey jobs, a slightly different lineage each (4 maps x 3 buckets each).
    const counts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const n = await sc
        .parallelize(
          Array.from({ length: 100 }, (_, j) => j),
          4,
        )
        .map((x, env) => [(x % 5) + env.i, x] as [number, number], { i })
        .reduceByKey((a, b) => a + b, 3)
        .count();
      expect(n).toBe(5);
      counts.push(await settle(0));
    }
    expect(counts).toEqual([0, 0, 0]); // not 12, 24, 36
    expect(slowDone).toBe(false); // the releases happened while another action ran
    expect(await slow).toEqual([1, 2]);
    expect(await settle(0)).toBe(0);
  });

  it('an action ending keeps the shuffle outputs another running action reads', async () => {
    const cluster = sc.cluster!;
    const recomputedBefore = cluster.counters.mapOutputsRecomputed;
    const fetchFailuresBefore = cluster.counters.fetchFailures;
    const pairs = sc
      .parallelize(
        Array.from({ length: 100 }, (_, j) => j),
        4,
      )
      .map((x) => [x % 7, x] as [number, number])
      .reduceByKey((a, b) => a + b, 3);
    // The first action computes the shuffle; the second reads it while the first still runs
    // (its reduce side is slow), and ends first.
    let mapped!: () => void;
    const mapStageDone = new Promise<void>((r) => (mapped = r));
    const unsubscribe = sc.onProgress((e) => {
      if (e.type === 'stage' && e.kind === 'shuffle-map' && e.state === 'completed') mapped();
    });
    const first = pairs
      .map(
        (kv, env) => {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, env.ms);
          return kv;
        },
        { ms: 500 },
      )
      .collect();
    await mapStageDone; // the reducers run now
    unsubscribe();
    expect(await pairs.count()).toBe(7);
    // The shuffle's 4 map outputs (one block each, its 3 buckets inside) are still held for the first action.
    expect(await storedBlocks()).toBe(4);
    const all = await first;
    expect(all.length).toBe(7);
    expect(new Map(all).get(0)).toBe(
      Array.from({ length: 100 }, (_, j) => j)
        .filter((j) => j % 7 === 0)
        .reduce((a, b) => a + b, 0),
    );
    expect(await settle(0)).toBe(0);
    expect(cluster.counters.mapOutputsRecomputed - recomputedBefore).toBe(0);
    expect(cluster.counters.fetchFailures - fetchFailuresBefore).toBe(0);
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
