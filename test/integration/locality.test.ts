/**
 * Locality on real daemons: a task whose input is a cached block runs on the worker holding it
 * (its job record prefers that worker, and the others leave it to it for their locality wait),
 * for RDD tasks and for a SQL query over a cached view read by one task.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MicroSpark } from '../../src/index.js';
import type { ProgressEvent } from '../../src/client/progress.js';

describe('locality', () => {
  let sc: MicroSpark;
  let endpointOf: Map<string, string>;
  const done: Array<Extract<ProgressEvent, { type: 'task' }>> = [];
  beforeAll(async () => {
    // A wait far longer than any of these tasks: a task on another worker would be a miss, not a race.
    sc = await MicroSpark.local({ workers: 2, slotsPerWorker: 2, localityWaitMs: 10_000 });
    endpointOf = new Map(sc.cluster!.workerStatus().map((w) => [w.node, w.endpoint]));
    expect(endpointOf.size).toBe(2);
    sc.onProgress((e) => {
      if (e.type === 'task' && e.state === 'done') done.push(e);
    });
  });
  afterAll(async () => {
    await sc.stop();
  });

  it('runs each task of a cached RDD where its block is', async () => {
    const cached = sc
      .parallelize([...Array(800).keys()], 8)
      .map((x) => x * 2)
      .cache();
    expect(await cached.count()).toBe(800);
    const where = sc.cacheLocations(cached);
    expect(where.size).toBe(8);
    expect(new Set(where.values()).size).toBe(2); // both workers hold blocks
    done.length = 0;
    for (let i = 0; i < 5; i++) expect(await cached.map((x) => x + 1).sum()).toBe(800 * 799 + 800);
    expect(done).toHaveLength(40);
    const elsewhere = done.filter((e) => endpointOf.get(e.worker ?? '') !== where.get(e.partition));
    expect(elsewhere.map((e) => [e.partition, e.worker])).toEqual([]);
  });

  it('runs a one-task SQL query over a cached view on the worker holding most of it', async () => {
    const spark = sc.session;
    const view = spark.range(1000).cache();
    view.createOrReplaceTempView('locality_t');
    expect(await view.count()).toBe(1000);
    done.length = 0;
    for (let i = 0; i < 10; i++) {
      const rows = await (await spark.sql('SELECT count(*) AS n FROM locality_t')).collect();
      expect(rows.map((r) => Number(r.n))).toEqual([1000]);
    }
    expect(done).toHaveLength(10);
    // One worker ran every one of them: the same preferred holder each time.
    expect(new Set(done.map((e) => e.worker)).size).toBe(1);
  });
});
