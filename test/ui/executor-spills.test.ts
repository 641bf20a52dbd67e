/**
 * Spills on the executors page: a worker with a 1 MiB block store caches four partitions of
 * ~600 KB each, so all but one spill to disk; `/executors` reports its memory and disk use and
 * what it spilled (Spark's `memoryBytesSpilled`/`diskBytesSpilled`, per worker) from its
 * heartbeat record, equal to the cached partitions' sizes (their codec bytes, as `/storage/rdd`
 * gives them).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { MicroSpark } from '../../src/index.js';
import { encode } from '../../src/protocol/codec.js';
import { InvalidOperationError } from '../../src/protocol/errors.js';

const contexts: MicroSpark[] = [];
afterAll(async () => {
  for (const sc of contexts.splice(0)) await sc.stop();
});

const MiB = 1024 ** 2;

describe('executors: spills', () => {
  it('a worker that spilled cached blocks reports its disk use and spilled bytes exactly', async () => {
    const sc = await MicroSpark.local({
      workers: 1,
      slotsPerWorker: 2,
      memoryPerWorker: MiB,
      heartbeatMs: 100,
      deadAfterMs: 1000,
      ui: { port: 0 },
    });
    contexts.push(sc);
    const base = sc.uiWebUrl!.replace(/\/$/, '');
    const appId = ((await (await fetch(`${base}/api/v1/applications`)).json()) as Array<{ id: string }>)[0]!.id; // prettier-ignore
    const rest = async (path: string): Promise<any> => {
      const res = await fetch(`${base}/api/v1/applications/${appId}${path}`, { signal: AbortSignal.timeout(5000) }); // prettier-ignore
      expect(res.status).toBe(200);
      return res.json();
    };
    // Before anything is stored: no spills, nothing on disk.
    const [before] = (await rest('/executors')) as any[];
    expect([before.diskUsed, before.numSpills, before.memoryBytesSpilled, before.diskBytesSpilled]).toEqual([0, 0, 0, 0]); // prettier-ignore

    // Four equal partitions: whatever order they are stored in, one fits the budget, three spill.
    const cached = sc
      .parallelize([0, 1, 2, 3], 4)
      .map(() => 'x'.repeat(600_000))
      .cache();
    expect(await cached.count()).toBe(4);
    // A block is the partition's codec bytes, as the storage page's sizes are.
    const size = encode(['x'.repeat(600_000)]).byteLength;
    expect(size).toBeGreaterThan(MiB / 2);
    // The worker's record comes with its next heartbeat.
    let ex: any;
    for (const t0 = Date.now(); Date.now() - t0 < 10_000; await new Promise((r) => setTimeout(r, 50))) {
      ex = ((await rest('/executors')) as any[])[0];
      if (ex.numSpills === 3 && ex.rddBlocks === 4) break;
    }
    const storage = await rest(`/storage/rdd/${cached.id}`);
    expect(storage.numCachedPartitions).toBe(4);
    expect(storage.partitions.filter((p: { memoryUsed: number }) => p.memoryUsed === size)).toHaveLength(4);
    expect({
      rddBlocks: ex.rddBlocks,
      memoryUsed: ex.memoryUsed,
      diskUsed: ex.diskUsed,
      numSpills: ex.numSpills,
      memoryBytesSpilled: ex.memoryBytesSpilled,
      diskBytesSpilled: ex.diskBytesSpilled,
    }).toEqual({
      rddBlocks: 4,
      memoryUsed: size,
      diskUsed: 3 * size,
      numSpills: 3,
      memoryBytesSpilled: 3 * size,
      diskBytesSpilled: 3 * size,
    });
    // Unpersisting deletes the blocks; what was spilled stays counted.
    cached.unpersist();
    for (const t0 = Date.now(); Date.now() - t0 < 10_000; await new Promise((r) => setTimeout(r, 50))) {
      ex = ((await rest('/executors')) as any[])[0];
      if (ex.rddBlocks === 0) break;
    }
    expect([ex.rddBlocks, ex.memoryUsed, ex.diskUsed, ex.numSpills, ex.diskBytesSpilled]).toEqual([0, 0, 0, 3, 3 * size]); // prettier-ignore
  }, 60_000);

  it('refuses a memoryPerWorker below 1 MiB, naming the option', async () => {
    await expect(MicroSpark.local({ workers: 1, memoryPerWorker: 1000 })).rejects.toThrow(
      InvalidOperationError,
    );
    await expect(MicroSpark.local({ workers: 1, memoryPerWorker: 1000 })).rejects.toThrow(
      /memoryPerWorker must be a whole number of bytes of at least 1048576 \(1 MiB\), got 1000/,
    );
  });
});
