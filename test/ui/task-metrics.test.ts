/**
 * Task metrics (bytes and records read and written, shuffle read and write, fetch wait, GC) in
 * the `task` progress events and the REST API, in process and on a local cluster of 2 worker
 * daemons (result tasks report them in `job.complete`, map tasks through their source's
 * `job.event`): the cluster's numbers equal the in-process ones, and the totals equal the input
 * file, the words and the files written.
 */
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MicroSpark, type ProgressEvent } from '../../src/index.js';
import type { TaskMetrics } from '../../src/client/progress.js';

const dir = mkdtempSync(join(tmpdir(), 'microspark-metrics-'));
const input = join(dir, 'words.txt');
const LINES = 1000;
// Every line holds the same 10 words: each split has 10 distinct keys whatever its boundary.
writeFileSync(input, Array.from({ length: LINES }, () => 'w0 w1 w2 w3 w4 w5 w6 w7 w8 w9').join('\n') + '\n');
const contexts: MicroSpark[] = [];
afterAll(async () => {
  for (const sc of contexts.splice(0)) await sc.stop();
  rmSync(dir, { recursive: true, force: true });
});

type Done = Extract<ProgressEvent, { type: 'task' }> & { metrics: TaskMetrics };

/** The metrics without the times (which differ between runs) and the local/remote split (placement). */
const sizes = (m: TaskMetrics) => {
  const { executorRunTime: _r, gcTime: _g, shuffleFetchWaitTime: _f, executorCpuTime: _c, parkedTime: _p, ...rest } = m; // prettier-ignore
  const { shuffleLocalBytesRead: _lb, shuffleLocalBlocksFetched: _lk, ...rest2 } = rest;
  const { shuffleRemoteBytesRead: _rb, shuffleRemoteBlocksFetched: _rk, ...same } = rest2;
  return same;
};

/** A task's shuffle read split: [local bytes, local blocks, remote bytes, remote blocks]. */
const split = (m: TaskMetrics) => [
  m.shuffleLocalBytesRead,
  m.shuffleLocalBlocksFetched,
  m.shuffleRemoteBytesRead,
  m.shuffleRemoteBlocksFetched,
];

async function run(mode: 'inProcess' | 'local'): Promise<{
  map: Done[];
  result: Done[];
  gc: Done[];
  out: string;
  rest: (path: string) => Promise<any>;
  stageIds: number[];
}> {
  const opts = { defaultParallelism: 2, ui: { port: 0 } } as const;
  const sc = mode === 'inProcess' ? await MicroSpark.inProcess(opts) : await MicroSpark.local({ workers: 2, ...opts }); // prettier-ignore
  contexts.push(sc);
  const events: ProgressEvent[] = [];
  sc.onProgress((e) => events.push(e));
  const out = join(dir, `out-${mode}`);
  await sc
    .textFile(input, 2)
    .flatMap((l) => l.split(' '))
    .map((w) => [w, 1] as [string, number])
    .reduceByKey((a, b) => a + b, 3)
    .saveAsTextFile(out);
  // A task that allocates: its thread collects garbage while it runs.
  const n = await sc
    .parallelize([0], 1)
    .map(() => {
      const kept: Array<{ i: number }> = [];
      for (let i = 0; i < 1_000_000; i++) kept.push({ i });
      return kept.length;
    })
    .collect();
  expect(n).toEqual([1_000_000]);
  const stages = events.filter((e) => e.type === 'stage' && e.state === 'submitted');
  const stageIds = stages.map((s) => (s as { stageId: number }).stageId);
  const done = (stageId: number) =>
    events
      .filter((e): e is Done => e.type === 'task' && e.state === 'done' && e.stageId === stageId)
      .sort((a, b) => a.partition - b.partition);
  const base = sc.uiWebUrl!.replace(/\/$/, '');
  const appId = ((await (await fetch(`${base}/api/v1/applications`)).json()) as Array<{ id: string }>)[0]!.id;
  const rest = async (path: string) => {
    const res = await fetch(`${base}/api/v1/applications/${appId}${path}`, {
      signal: AbortSignal.timeout(5000),
    });
    expect(res.status).toBe(200);
    return res.json();
  };
  return { map: done(stageIds[0]!), result: done(stageIds[1]!), gc: done(stageIds[2]!), out, rest, stageIds };
}

const sum = (ds: Done[], k: Exclude<keyof TaskMetrics, 'sqlOperators'>) =>
  ds.reduce((n, d) => n + (d.metrics[k] ?? 0), 0);

describe('task metrics', () => {
  it('in process and on a cluster: input, shuffle and output totals are exact and equal; GC is measured; REST shows them', async () => {
    const local = await run('inProcess');
    const cluster = await run('local');
    for (const r of [local, cluster]) {
      expect(r.map).toHaveLength(2);
      expect(r.result).toHaveLength(3);
      // Every successful task carries its metrics.
      expect([...r.map, ...r.result].every((d) => d.metrics !== undefined)).toBe(true);
      expect(sum(r.map, 'inputBytes')).toBe(statSync(input).size);
      expect(sum(r.map, 'inputRecords')).toBe(LINES);
      // Map-side combine: 10 distinct words per split.
      expect(r.map.map((d) => d.metrics.shuffleWriteRecords)).toEqual([10, 10]);
      expect(sum(r.map, 'shuffleReadBytes')).toBe(0);
      const written = sum(r.map, 'shuffleWriteBytes');
      expect(written).toBeGreaterThan(0);
      expect(sum(r.result, 'shuffleReadBytes')).toBe(written);
      expect(sum(r.result, 'shuffleReadRecords')).toBe(20);
      expect(sum(r.result, 'shuffleWriteBytes')).toBe(0);
      expect(sum(r.result, 'inputBytes')).toBe(0);
      // The save: 10 words written, as many bytes as the part files hold.
      const parts = readdirSync(r.out).filter((f) => f.startsWith('part-'));
      expect(parts).toHaveLength(3);
      expect(sum(r.result, 'outputRecords')).toBe(10);
      expect(sum(r.result, 'outputBytes')).toBe(parts.reduce((n, f) => n + statSync(join(r.out, f)).size, 0)); // prettier-ignore
      expect(r.gc).toHaveLength(1);
      expect(r.gc[0]!.metrics.gcTime).toBeGreaterThan(0);
      expect(r.gc[0]!.metrics.executorRunTime).toBeGreaterThanOrEqual(r.gc[0]!.metrics.gcTime);
    }
    // Parked time: nothing parks in process; on the cluster the map tasks read no shuffle (never
    // park) and the result tasks park until the map outputs they read are announced.
    expect([...local.map, ...local.result, ...local.gc].map((d) => d.metrics.parkedTime)).toEqual([0, 0, 0, 0, 0, 0]); // prettier-ignore
    expect(cluster.map.map((d) => d.metrics.parkedTime)).toEqual([0, 0]);
    expect(cluster.result.filter((d) => d.metrics.parkedTime > 0)).toHaveLength(3);
    // CPU time: measured only in a worker daemon's task threads (Linux's per-thread clock), in ns,
    // never more than the thread's wall time (give or take the clock's tick, at most 10 ms at each
    // end); the in-process run (main thread) does not send it.
    expect([...local.map, ...local.result, ...local.gc].filter((d) => 'executorCpuTime' in d.metrics)).toEqual([]); // prettier-ignore
    if (process.platform === 'linux') {
      for (const d of [...cluster.map, ...cluster.result, ...cluster.gc]) {
        expect(d.metrics.executorCpuTime).toBeGreaterThanOrEqual(0);
        expect(d.metrics.executorCpuTime!).toBeLessThanOrEqual((d.metrics.executorRunTime + 1 + 20) * 1e6);
      }
      // The task that allocates a million objects uses its thread's CPU for many ticks.
      expect(cluster.gc[0]!.metrics.executorCpuTime).toBeGreaterThan(0);
    }
    // The cluster measures what the in-process run measures, task for task.
    expect(cluster.map.map((d) => sizes(d.metrics))).toEqual(local.map.map((d) => sizes(d.metrics)));
    expect(cluster.result.map((d) => sizes(d.metrics))).toEqual(local.result.map((d) => sizes(d.metrics)));
    // In process every bucket is local; a block is a non-empty bucket (one per map output).
    for (const d of local.result) {
      const n = d.metrics.shuffleReadBytes;
      expect(split(d.metrics)).toEqual([n, n > 0 ? 2 : 0, 0, 0]);
    }
    // On the cluster, by where each map output was written: both splits hold the same 10 words
    // with counts of equal width, so the two map outputs' buckets have equal sizes.
    expect(cluster.map[0]!.metrics.shuffleWriteBytes).toBe(cluster.map[1]!.metrics.shuffleWriteBytes);
    expect(cluster.map.every((d) => d.worker !== undefined)).toBe(true);
    for (const d of cluster.result) {
      const bucket = d.metrics.shuffleReadBytes / 2;
      const here = cluster.map.filter((mp) => mp.worker === d.worker).length;
      const block = bucket > 0 ? 1 : 0;
      expect(split(d.metrics)).toEqual([
        bucket * here,
        block * here,
        bucket * (2 - here),
        block * (2 - here),
      ]);
    }

    for (const r of [local, cluster]) {
      const [mapStage, resultStage] = r.stageIds as [number, number];
      const st = (await r.rest(`/stages/${mapStage}?withSummaries=true&quantiles=0,0.5,1`))[0];
      expect(st.inputBytes).toBe(statSync(input).size);
      expect(st.inputRecords).toBe(LINES);
      expect(st.shuffleWriteRecords).toBe(20);
      expect(st.shuffleWriteBytes).toBe(sum(r.map, 'shuffleWriteBytes'));
      const records = r.map.map((d) => d.metrics.inputRecords).sort((a, b) => a - b);
      expect(st.taskMetricsDistributions.quantiles).toEqual([0, 0.5, 1]);
      expect(st.taskMetricsDistributions.inputMetrics.recordsRead).toEqual([
        records[0],
        records[1],
        records[1],
      ]);
      expect(st.taskMetricsDistributions.shuffleWriteMetrics.writeRecords).toEqual([10, 10, 10]);
      const rs = await r.rest(`/stages/${resultStage}/0`);
      expect(rs.shuffleLocalBytesRead + rs.shuffleRemoteBytesRead).toBe(st.shuffleWriteBytes);
      expect(rs.shuffleRemoteBlocksFetched).toBe(sum(r.result, 'shuffleRemoteBlocksFetched'));
      expect([rs.shuffleReadRecords, rs.outputRecords, rs.shuffleReadBytes]).toEqual([
        20,
        10,
        st.shuffleWriteBytes,
      ]);
      const summary = await r.rest(`/stages/${resultStage}/0/taskSummary?quantiles=0,1`);
      const reads = r.result.map((d) => d.metrics.shuffleReadRecords).sort((a, b) => a - b);
      expect(summary.shuffleReadMetrics.readRecords).toEqual([reads[0], reads[2]]);
      expect(summary.numMeasuredTasks).toBe(3);
      const tasks = (await r.rest(`/stages/${resultStage}/0/taskList?sortBy=index`)) as any[];
      expect(tasks.map((t) => t.taskMetrics.outputMetrics.recordsWritten)).toEqual(r.result.map((d) => d.metrics.outputRecords)); // prettier-ignore
      // Parked and CPU time as the events carried them: per task, summed per stage, as quantiles.
      expect(tasks.map((t) => t.taskMetrics.parkedTime)).toEqual(r.result.map((d) => d.metrics.parkedTime));
      expect(tasks.map((t) => t.taskMetrics.executorCpuTime)).toEqual(r.result.map((d) => d.metrics.executorCpuTime)); // prettier-ignore
      expect(rs.parkedTime).toBe(sum(r.result, 'parkedTime'));
      expect(rs.executorCpuTime).toBe(sum(r.result, 'executorCpuTime'));
      const parked = r.result.map((d) => d.metrics.parkedTime).sort((a, b) => a - b);
      expect(summary.parkedTime).toEqual([parked[0], parked[2]]);
      const cpu = r.result.flatMap((d) => (d.metrics.executorCpuTime === undefined ? [] : [d.metrics.executorCpuTime])).sort((a, b) => a - b); // prettier-ignore
      expect(summary.numCpuMeasuredTasks).toBe(cpu.length);
      expect(summary.executorCpuTime).toEqual(cpu.length === 0 ? undefined : [cpu[0], cpu[2]]);
      const srm = (t: any) => t.taskMetrics.shuffleReadMetrics;
      expect(tasks.map((t) => [srm(t).localBytesRead, srm(t).localBlocksFetched, srm(t).remoteBytesRead, srm(t).remoteBlocksFetched])).toEqual(r.result.map((d) => split(d.metrics))); // prettier-ignore
      const executors = (await r.rest('/allexecutors')) as any[];
      expect(executors.reduce((n, e) => n + e.totalInputBytes, 0)).toBe(statSync(input).size);
      expect(executors.reduce((n, e) => n + e.totalShuffleWrite, 0)).toBe(st.shuffleWriteBytes);
      expect(executors.reduce((n, e) => n + e.totalGCTime, 0)).toBe(
        [...r.map, ...r.result, ...r.gc].reduce((n, d) => n + d.metrics.gcTime, 0),
      );
    }
  }, 60_000);
});
