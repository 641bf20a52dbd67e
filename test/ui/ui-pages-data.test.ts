/**
 * What the executors, storage and SQL pages read, in process: each worker's recent task log lines
 * (a bounded ring), per-partition sizes of a cached RDD, a DataFrame action's plan with its
 * stages' rows and bytes. Every number is checked against what produced it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { MicroSpark } from '../../src/index.js';

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
