/**
 * The web UI's REST API against a real local cluster (3 worker daemons on 127.0.0.1) running real
 * actions: a two-shuffle pipeline over a cached RDD with a retried task, a failed action, a
 * cancelled one (through the kill POST), a worker killed mid-stage. Every count the API gives is
 * compared with what `sc.onProgress` delivered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MicroSpark, type ProgressEvent } from '../../src/index.js';
import { encode } from '../../src/protocol/codec.js';

const FAST = { heartbeatMs: 200, deadAfterMs: 1000, leaseTtlMs: 3000, noWorkerGraceMs: 4000 } as const;

let sc: MicroSpark;
let base: string;
let appId: string;
const events: ProgressEvent[] = [];

beforeAll(async () => {
  sc = await MicroSpark.local({
    workers: 3,
    slotsPerWorker: 2,
    defaultParallelism: 4,
    maxTaskFailures: 3,
    ui: { port: 0, killEnabled: true },
    ...FAST,
  });
  sc.onProgress((e) => events.push(e));
  base = sc.uiWebUrl!.replace(/\/$/, '');
  appId = ((await api('/applications')) as Array<{ id: string }>)[0]!.id;
});
afterAll(async () => {
  await sc?.stop();
});

async function api(path: string): Promise<any> {
  const res = await fetch(`${base}/api/v1${path}`, { signal: AbortSignal.timeout(5000) });
  expect(res.status).toBe(200);
  return res.json();
}
const app = (path: string) => api(`/applications/${appId}${path}`);

/** What the events say of one action: its stages and per-stage task event counts. */
function fromEvents(jobId: number) {
  const stages = new Map<number, { tasks: number; kind: string; state: string }>();
  for (const e of events) if (e.type === 'stage' && e.actionId === jobId) stages.set(e.stageId, { tasks: e.tasks, kind: e.kind, state: e.state }); // prettier-ignore
  const count = (stageId: number, state: string, reason?: string) =>
    events.filter((e) => e.type === 'task' && e.stageId === stageId && e.state === state && (reason === undefined || e.reason === reason)).length; // prettier-ignore
  return { stages, count };
}

function lastAction(): Extract<ProgressEvent, { type: 'action' }> {
  return events.filter((e) => e.type === 'action').at(-1);
}

async function waitFor<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 15_000,
): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('web UI REST API on a local cluster', () => {
  it('a two-shuffle pipeline over a cached RDD with a retried task: every route matches the events', async () => {
    const cached = sc
      .parallelize(
        Array.from({ length: 40 }, (_, i) => i),
        4,
      )
      .map((x) => x * 2)
      .cache();
    expect(await cached.count()).toBe(40);
    const until = Date.now() + 2500;
    const result = await cached
      .map(
        (x, env) => {
          // The first attempt of the task holding 0 fails once (it starts before `until` and ends after it).
          if (x === 0 && Date.now() < env.until) {
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, env.until - Date.now() + 20);
            throw new Error('first attempt fails');
          }
          return [x % 5, x] as [number, number];
        },
        { until },
      )
      .reduceByKey((a, b) => a + b, 3)
      .map(([k, v]) => [v % 3, k] as [number, number])
      .groupByKey(2)
      .mapValues((ks) => [...ks].length)
      .collect();
    expect(result.reduce((n, [, c]) => n + c, 0)).toBe(5);
    const end = lastAction();
    expect(end.state).toBe('succeeded');
    const { stages, count } = fromEvents(end.actionId);
    expect([...stages.values()].map((s) => s.kind)).toEqual(['shuffle-map', 'shuffle-map', 'result']);
    const retried = [...stages.keys()].reduce((n, id) => n + count(id, 'retried', 'error'), 0);
    expect(retried).toBe(1); // the fault fired, once

    const job = await app(`/jobs/${end.actionId}`);
    const ids = [...stages.keys()];
    const sum = (f: (id: number) => number) => ids.reduce((n, id) => n + f(id), 0);
    expect(job).toMatchObject({
      jobId: end.actionId,
      name: end.name,
      status: 'SUCCEEDED',
      state: 'succeeded',
      stageIds: ids,
      numTasks: sum((id) => stages.get(id)!.tasks),
      numActiveTasks: 0,
      numCompletedTasks: sum((id) => count(id, 'done')),
      numFailedTasks: sum((id) => count(id, 'retried') + count(id, 'failed')),
      numRetriedTasks: 1,
      numCompletedIndices: 4 + 3 + 2,
      numActiveStages: 0,
      numCompletedStages: 3,
      numFailedStages: 0,
    });
    const jobs = await app('/jobs');
    expect(jobs.map((j: { jobId: number }) => j.jobId)).toEqual([end.actionId, end.actionId - 1]);
    expect(await app('/jobs?status=succeeded')).toHaveLength(2);
    expect(await app('/jobs?status=failed')).toHaveLength(0);

    // The DAG: map stage 1 reads nothing (the cache), map stage 2 reads 1, the result reads 2.
    const [s1, s2, s3] = ids as [number, number, number];
    const stage = async (id: number) => (await app(`/stages/${id}`))[0];
    expect((await stage(s1)).parentIds).toEqual([]);
    expect((await stage(s2)).parentIds).toEqual([s1]);
    expect((await stage(s3)).parentIds).toEqual([s2]);
    expect((await stage(s1)).operations.at(-1)).toMatch(/^map at rest-cluster\.test\.ts:\d+$/);

    for (const id of ids) {
      const st = await stage(id);
      expect(st).toMatchObject({
        stageId: id,
        attemptId: 0,
        status: 'COMPLETE',
        numTasks: stages.get(id)!.tasks,
        numCompleteTasks: count(id, 'done'),
        numFailedTasks: count(id, 'retried') + count(id, 'failed'),
        numActiveTasks: 0,
        numCompletedIndices: stages.get(id)!.tasks,
      });
      const tasks = Object.values<{ status: string; retryReason?: string; executorId: string; host: string }>(st.tasks); // prettier-ignore
      expect(tasks).toHaveLength(count(id, 'done') + count(id, 'retried') + count(id, 'failed')); // one per attempt
      expect(tasks.filter((t) => t.status === 'SUCCESS')).toHaveLength(count(id, 'done'));
      expect(tasks.filter((t) => t.status === 'FAILED').map((t) => t.retryReason)).toEqual(
        Array(count(id, 'retried', 'error')).fill('error'),
      );
      for (const t of tasks) expect(t.host).toMatch(/^127\.0\.0\.1:\d+$/);
      const list = await fetch(
        `${base}/api/v1/applications/${appId}/stages/${id}/0/taskList?length=2&sortBy=-runtime`,
      );
      expect(list.headers.get('x-total-count')).toBe(String(tasks.length));
      expect(await list.json()).toHaveLength(Math.min(2, tasks.length));
      const summary = await app(`/stages/${id}/0/taskSummary?quantiles=0,0.5,1`);
      expect(summary.quantiles).toEqual([0, 0.5, 1]);
      expect(summary.numTasks).toBe(count(id, 'done'));
      expect(summary.duration[0]).toBeLessThanOrEqual(summary.duration[2]);
    }
    const failedTask = Object.values<{ status: string }>((await stage(s1)).tasks).filter((t) => t.status === 'FAILED'); // prettier-ignore
    expect(failedTask).toHaveLength(1);

    // Executors: the 3 workers, with task counts summed over every action so far.
    const executors = await app('/executors');
    expect(executors).toHaveLength(3);
    const done = events.filter((e) => e.type === 'task' && e.state === 'done');
    for (const ex of executors) {
      expect(ex.completedTasks).toBe(done.filter((e) => e.type === 'task' && e.worker === ex.id).length);
      expect(ex.totalCores).toBe(2);
      expect(ex.hostPort).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(ex.isActive).toBe(true);
      expect(ex.heartbeatAgeMs).toBeLessThan(2000);
    }
    expect(executors.reduce((n: number, e: { completedTasks: number }) => n + e.completedTasks, 0)).toBe(
      done.length,
    );
    expect(executors.reduce((n: number, e: { failedTasks: number }) => n + e.failedTasks, 0)).toBe(1);

    // Storage: the cached RDD, all 4 partitions, each on a worker; gone after unpersist.
    const rdds = await app('/storage/rdd');
    expect(rdds).toEqual([
      expect.objectContaining({ id: cached.id, numPartitions: 4, numCachedPartitions: 4, storageLevel: 'Memory Serialized 1x Replicated' }), // prettier-ignore
    ]);
    expect(rdds[0].memoryUsed).toBeGreaterThan(0);
    const one = await app(`/storage/rdd/${cached.id}`);
    const holders = new Set(executors.map((e: { hostPort: string }) => e.hostPort));
    expect(one.partitions).toHaveLength(4);
    for (const p of one.partitions) expect(holders.has(p.executors[0])).toBe(true);
    // Each partition's size is its block's: the 10 doubled numbers of its slice, encoded.
    const sizes = [0, 1, 2, 3].map((i) => encode(Array.from({ length: 10 }, (_, j) => (i * 10 + j) * 2)).byteLength); // prettier-ignore
    expect(one.partitions.map((p: { index: number; memoryUsed: number }) => [p.index, p.memoryUsed])).toEqual(sizes.map((b, i) => [i, b])); // prettier-ignore
    expect(rdds[0].memoryUsed).toBe(sizes.reduce((a, b) => a + b, 0));
    expect(one.dataDistribution.reduce((n: number, d: { memoryUsed: number }) => n + d.memoryUsed, 0)).toBe(rdds[0].memoryUsed); // prettier-ignore
    cached.unpersist();
    expect(await app('/storage/rdd')).toEqual([]);

    const env = await app('/environment');
    expect(env.sparkProperties).toContainEqual(['microspark.master', 'local-cluster[3]']);
    expect(env.sparkProperties).toContainEqual(['microspark.maxTaskFailures', '3']);
    expect(env.runtime.nodeVersion).toBe(process.version);
    const apps = await api('/applications');
    expect(apps).toHaveLength(1);
    expect(apps[0].attempts[0].completed).toBe(false);
  });

  it('a failed action: FAILED job and stage, error message, failures counted as the events', async () => {
    await expect(
      sc
        .parallelize([1, 2, 3, 4], 2)
        .map((x) => {
          if (x === 3) throw new Error('three is not allowed');
          return x;
        })
        .collect(),
    ).rejects.toThrow(/three is not allowed/);
    const end = lastAction();
    expect(end.state).toBe('failed');
    const { stages, count } = fromEvents(end.actionId);
    const [id] = [...stages.keys()] as [number];
    const job = await app(`/jobs/${end.actionId}`);
    expect(job).toMatchObject({
      status: 'FAILED',
      state: 'failed',
      errorMessage: end.error,
      numFailedTasks: count(id, 'retried') + count(id, 'failed'),
      numFailedStages: 1,
    });
    expect(count(id, 'failed')).toBe(1);
    expect(count(id, 'retried', 'error')).toBe(2); // 3 attempts in all
    expect((await app(`/stages/${id}`))[0]).toMatchObject({ status: 'FAILED', numFailedTasks: 3 });
    expect(await app('/jobs?status=failed')).toHaveLength(1);
  });

  it('the kill POST cancels the running action; a forged one is refused', async () => {
    const action = sc
      .parallelize([1, 2, 3, 4, 5, 6], 6)
      .map((x) => {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20_000);
        return x;
      })
      .collect();
    action.catch(() => undefined);
    const running = await waitFor(async () => {
      const jobs = await app('/jobs?status=running');
      return jobs.length === 1 && jobs[0].numActiveTasks > 0 ? jobs[0] : undefined;
    });
    const page = await (await fetch(`${base}/`)).text();
    const csrf = /name="microspark-csrf" content="([0-9a-f]+)"/.exec(page)![1]!;
    const kill = (headers: Record<string, string>) =>
      fetch(`${base}/api/v1/applications/${appId}/jobs/${running.jobId}/kill`, { method: 'POST', headers });
    expect((await kill({})).status).toBe(403); // no CSRF token: what a form on another site sends
    expect((await kill({ 'x-microspark-csrf': csrf, origin: 'http://evil.example' })).status).toBe(403);
    expect((await kill({ 'x-microspark-csrf': 'f'.repeat(32) })).status).toBe(403);
    expect(lastAction().state).toBe('started'); // still running
    const ok = await kill({ 'x-microspark-csrf': csrf, origin: base });
    expect(ok.status).toBe(200);
    await expect(action).rejects.toThrow(/cancel/);
    const end = lastAction();
    expect(end.state).toBe('cancelled');
    const job = await app(`/jobs/${end.actionId}`);
    expect(job).toMatchObject({
      status: 'FAILED',
      state: 'cancelled',
      numActiveTasks: 0,
      numCompletedTasks: 0,
    });
    const [id] = [...fromEvents(end.actionId).stages.keys()] as [number];
    expect((await app(`/stages/${id}`))[0].status).toBe('FAILED');
    expect((await kill({ 'x-microspark-csrf': csrf })).status).toBe(409); // no longer running
  });

  it('a worker killed mid-stage: its tasks show as retried with the reason, the executor as lost', async () => {
    let victim: string | undefined;
    const stop = sc.onProgress((e) => {
      if (victim || e.type !== 'task' || e.state !== 'running' || !e.worker) return;
      victim = e.worker;
      sc.localWorkers.find((w) => w.node === e.worker)?.child.kill('SIGKILL');
    });
    const out = await sc
      .parallelize(
        Array.from({ length: 8 }, (_, i) => i),
        8,
      )
      .map((x) => {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
        return x + 1;
      })
      .collect();
    stop();
    expect(out).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(victim).toBeDefined(); // the fault fired
    const end = lastAction();
    const { stages, count } = fromEvents(end.actionId);
    const [id] = [...stages.keys()] as [number];
    const lost = count(id, 'retried', 'worker-lost') + count(id, 'retried', 'lease-expired');
    expect(lost).toBeGreaterThanOrEqual(1);
    const st = (await app(`/stages/${id}`))[0];
    expect(st.retryReasons['worker-lost'] + st.retryReasons['lease-expired']).toBe(lost);
    expect(st.numCompleteTasks).toBe(count(id, 'done'));
    expect(st.numCompletedIndices).toBe(8);
    const tasks = Object.values<{ status: string; retryReason?: string; executorId: string }>(st.tasks);
    expect(tasks.filter((t) => t.retryReason === 'worker-lost' || t.retryReason === 'lease-expired')).toHaveLength(lost); // prettier-ignore
    expect(await waitFor(async () => ((await app('/executors')).length === 2 ? true : undefined))).toBe(true);
    const all = await app('/allexecutors');
    expect(all).toHaveLength(3);
    expect(all.find((e: { id: string }) => e.id === victim)).toMatchObject({ isActive: false });
  });
});
