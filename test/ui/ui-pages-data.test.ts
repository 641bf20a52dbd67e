/**
 * What the executors, storage and SQL pages read, in process: each worker's recent task log lines
 * (a bounded ring), per-partition sizes of a cached RDD, a DataFrame action's plan with its
 * stages' rows and bytes. Every number is checked against what produced it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { F, MicroSpark } from '../../src/index.js';
import { encode } from '../../src/protocol/codec.js';

const contexts: MicroSpark[] = [];
afterAll(async () => {
  for (const sc of contexts.splice(0)) await sc.stop();
});

async function start(ui: Record<string, unknown> = {}) {
  const sc = await MicroSpark.inProcess({ defaultParallelism: 2, ui: { port: 0, ...ui } });
  contexts.push(sc);
  const base = sc.uiWebUrl!.replace(/\/$/, '');
  const get = async (path: string) => {
    const res = await fetch(`${base}/api/v1${path}`, { signal: AbortSignal.timeout(5000) });
    return { status: res.status, body: (await res.json()) as any };
  };
  const appId = ((await get('/applications')).body as Array<{ id: string }>)[0]!.id;
  const app = async (path: string) => {
    const r = await get(`/applications/${appId}${path}`);
    expect(r.status).toBe(200);
    return r.body;
  };
  return { sc, get, app, appId };
}

describe('executors page: recent log lines', () => {
  it('keeps the newest retainedLogLines lines per worker, with the count of all printed', async () => {
    const { sc, app, get, appId } = await start({ retainedLogLines: 100 });
    await sc.parallelize([0], 1).foreachPartition(() => {
      // eslint-disable-next-line no-console -- the task's own output is what is tested
      for (let i = 0; i < 150; i++) console.log(`line ${i}`);
      // eslint-disable-next-line no-console -- the task's own output is what is tested
      console.error('the last one');
    });
    const logs = await app('/executors/driver/logs');
    expect(logs.executorId).toBe('driver');
    expect(logs.numLines).toBe(151);
    expect(logs.numDroppedLines).toBe(51);
    expect(logs.lines).toHaveLength(100);
    expect(logs.lines.map((l: any) => l.line)).toEqual([
      ...Array.from({ length: 99 }, (_, i) => `line ${i + 51}`),
      'the last one',
    ]);
    expect(logs.lines.at(-1)).toMatchObject({ stream: 'stderr', stageId: 0, partition: 0, attempt: 0 });
    expect(logs.lines[0]).toMatchObject({ stream: 'stdout' });
    const ex = (await app('/allexecutors')) as any[];
    expect(ex.map((e) => [e.id, e.numLogLines])).toEqual([['driver', 151]]);
    expect((await get(`/applications/${appId}/executors/nobody/logs`)).status).toBe(404);
  });
});

describe('SQL page: a DataFrame action and its plan', () => {
  it('shows the physical plan, the stages that ran each plan stage, their rows and bytes', async () => {
    const { sc, app } = await start();
    const df = sc.session
      .range(0, 1000, 1, 4)
      .withColumn('k', F.col('id').mod(10))
      .groupBy('k')
      .agg(F.sum('id').alias('s'));
    const rows = await df.collect();
    expect(rows).toHaveLength(10);
    const xs = (await app('/sql')) as any[];
    expect(xs).toHaveLength(1);
    const x = xs[0];
    expect(x.status).toBe('COMPLETED');
    expect(x.description).toMatch(/^collect at .*ui-pages-data\.test\.ts:\d+/);
    // The plan is explain's physical plan (attribute ids differ from one analysis to the next).
    const noIds = (t: string) => t.replace(/#\d+/g, '');
    expect(noIds(x.planDescription)).toBe(noIds(df.engine.explain(df._plan, 'simple')));
    expect(x.stages.map((s: any) => s.text.split('\n')[0])).toEqual([
      'Stage 0 (4 tasks) → Exchange hashpartitioning(k, 2)',
      'Stage 1 (2 tasks) → Result',
    ]);
    const jobs = (await app('/jobs')) as any[];
    expect(x.successJobIds).toEqual([jobs[0].jobId]);
    const [partial, final] = x.stages;
    const uiStages = await Promise.all(
      [...partial.stageIds, ...final.stageIds].map(async (id: number) => (await app(`/stages/${id}`))[0]),
    );
    expect(uiStages.map((s) => [s.kind, s.numTasks])).toEqual([
      ['shuffle-map', 4],
      ['result', 2],
    ]);
    // Partial aggregates: 10 keys in each of the 4 range partitions; the final one: 10 rows.
    expect([partial.rows, final.rows]).toEqual([40, 10]);
    expect(partial.bytes).toBe(uiStages[0].sqlBytes);
    expect(final.bytes).toBe(uiStages[1].sqlBytes);
    expect(final.bytes).toBeGreaterThan(0);
    expect(partial.shuffleWriteBytes).toBe(uiStages[0].shuffleWriteBytes);
    // A SQL map output's buckets are its Parquet batches as they are: no framing around them.
    expect(partial.shuffleWriteBytes).toBe(partial.bytes);
    expect(x.edges).toEqual([{ fromId: 0, toId: 1 }]);
    expect(x.nodes[1].metrics[0]).toEqual({ name: 'number of output rows', value: '10' });
  });
});

describe('storage page: per-partition sizes', () => {
  it('gives each cached partition its size and holder; the totals are their sums', async () => {
    const { sc, app } = await start();
    const words = ['a', 'bb', 'ccc', 'dddd', 'eeeee', 'ffffff', 'g'.repeat(100)];
    const cached = sc.parallelize(words, 3).cache();
    expect(await cached.count()).toBe(7);
    // Slice i of 7 items into 3 holds [floor(7i/3), floor(7(i+1)/3)).
    const slices = [words.slice(0, 2), words.slice(2, 4), words.slice(4)];
    const sizes = slices.map((s) => encode(s).byteLength);
    const one = await app(`/storage/rdd/${cached.id}`);
    expect(one.partitions).toEqual(
      sizes.map((b, i) => ({
        blockName: `rdd_${cached.id}_${i}`,
        storageLevel: 'Memory Serialized 1x Replicated',
        memoryUsed: b,
        diskUsed: 0,
        executors: ['in-process'],
        index: i,
      })),
    );
    expect(one.memoryUsed).toBe(sizes[0]! + sizes[1]! + sizes[2]!);
    expect(one.dataDistribution).toEqual([
      { address: 'in-process', memoryUsed: one.memoryUsed, diskUsed: 0, numBlocks: 3 },
    ]);
  });
});
