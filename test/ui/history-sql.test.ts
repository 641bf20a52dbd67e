/**
 * The history server's SQL tab: a context that ran a DataFrame action over two CSV files and a SQL
 * query that failed (an invalid cast, at run time) writes its event log; `microspark history DIR`
 * serves it, and its `/sql` answers (plan, plan stages, the stages that ran them, rows, bytes,
 * per-operator numbers, job states) equal the live UI's, which equal what the progress events
 * carried.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MicroSpark, type ProgressEvent } from '../../src/index.js';
import type { TaskMetrics } from '../../src/client/progress.js';

const dir = mkdtempSync(join(tmpdir(), 'ms-history-sql-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const getJson = async (url: string): Promise<any> => {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  expect(res.status).toBe(200);
  return res.json();
};

describe('history server: the SQL tab', () => {
  it('serves a DataFrame action and a failed SQL query as the live UI did, with their plans and rows', async () => {
    const csv = join(dir, 'sales');
    mkdirSync(csv);
    const keys = ['a', 'b', 'c'];
    // Two files of 15 rows (two scan tasks): k cycles a, b, c; v = i.
    for (const f of [0, 1]) {
      const lines = Array.from({ length: 15 }, (_, j) => `${keys[(15 * f + j) % 3]},${15 * f + j}`);
      writeFileSync(join(csv, `part-${f}.csv`), 'k,v\n' + lines.join('\n') + '\n');
    }
    const csvBytes = statSync(join(csv, 'part-0.csv')).size + statSync(join(csv, 'part-1.csv')).size;
    const logDir = join(dir, 'events');
    const sc = await MicroSpark.inProcess({
      defaultParallelism: 2,
      ui: { port: 0 },
      eventLog: { dir: logDir },
    });
    const seen: ProgressEvent[] = [];
    sc.onProgress((e) => seen.push(e));
    (await sc.session.read.option('header', true).option('inferSchema', true).csv(csv)).createOrReplaceTempView('sales'); // prettier-ignore
    const df = await sc.session.sql('select k, sum(v) as s from sales group by k');
    const rows = (await df.collect()).map((r: any) => [r.k, Number(r.s)]).sort();
    expect(rows).toEqual([
      ['a', 135],
      ['b', 145],
      ['c', 155],
    ]);
    const bad = await sc.session.sql('select k, cast(k as int) as n from sales');
    await expect(bad.collect()).rejects.toThrow(/CAST_INVALID_INPUT/);

    const base = sc.uiWebUrl!.replace(/\/$/, '');
    const appId = (await getJson(`${base}/api/v1/applications`))[0].id as string;
    const liveSql = await getJson(`${base}/api/v1/applications/${appId}/sql`);
    const liveOne = await getJson(`${base}/api/v1/applications/${appId}/sql/1`);
    await sc.stop();
    expect(readdirSync(logDir)).toEqual([`${appId}.jsonl`]);

    // What the progress events said: two queries, two actions, and each stage's SQL rows and bytes.
    const sqlEvents = seen.filter((e): e is Extract<ProgressEvent, { type: 'sql' }> => e.type === 'sql');
    expect(sqlEvents.map((e) => e.executionId)).toEqual([0, 1]);
    const actions = seen.filter((e): e is Extract<ProgressEvent, { type: 'action' }> => e.type === 'action' && e.state !== 'started'); // prettier-ignore
    expect(actions.map((a) => [a.actionId, a.state])).toEqual([
      [0, 'succeeded'],
      [1, 'failed'],
    ]);
    const stageOf = new Map<number, number>(); // stage → action
    for (const e of seen)
      if (e.type === 'stage' && e.state === 'submitted') stageOf.set(e.stageId, e.actionId);
    const done = seen.filter((e): e is Extract<ProgressEvent, { type: 'task' }> & { metrics: TaskMetrics } => e.type === 'task' && e.state === 'done' && e.metrics !== undefined); // prettier-ignore
    const total = (stageId: number, k: 'sqlRows' | 'sqlBytes' | 'shuffleWriteBytes' | 'inputBytes') =>
      done.filter((d) => d.stageId === stageId).reduce((n, d) => n + d.metrics[k], 0);

    // The history server, in its own process, from the log alone.
    const history = spawn(process.execPath, ['--import', 'tsx', 'bin/microspark.ts', 'history', logDir, '--ui-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] }); // prettier-ignore
    children.push(history);
    let stderr = '';
    history.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    for (const t0 = Date.now(); !/at (http:\S+)/.test(stderr) && Date.now() - t0 < 30_000;)
      await new Promise((r) => setTimeout(r, 50));
    const url = /at (http:\S+)/.exec(stderr)![1]!;
    const hist = (path: string) => getJson(`${url}api/v1/applications/${appId}${path}`);
    const sql = await hist('/sql');
    // Exactly what the live UI answered: every field, both queries.
    expect(sql).toEqual(liveSql);
    expect(await hist('/sql/1')).toEqual(liveOne);

    const [ok, failed] = sql;
    // The DataFrame action: its plan is explain's; a scan stage feeding the final aggregate.
    expect(ok).toMatchObject({ id: 0, status: 'COMPLETED', successJobIds: [0], failedJobIds: [], runningJobIds: [] }); // prettier-ignore
    expect(ok.description).toMatch(/^collect at .*history-sql\.test\.ts:\d+/);
    expect(ok.planDescription).toBe(sqlEvents[0]!.plan);
    expect(ok.planDescription.replace(/#\d+/g, '')).toBe(df.engine.explain(df._plan, 'simple').replace(/#\d+/g, '')); // prettier-ignore
    expect(ok.stages.map((s: any) => s.text)).toEqual(sqlEvents[0]!.stages.map((s) => s.text));
    const [scan, final] = ok.stages;
    expect(scan.text.split('\n')[0]).toMatch(/^Stage 0 \((\d+) tasks\) → Exchange hashpartitioning\(k, 2\)$/);
    expect(final.text.split('\n')[0]).toBe('Stage 1 (2 tasks) → Result');
    expect(final.inputs).toEqual([0]);
    expect(ok.edges).toEqual([{ fromId: 0, toId: 1 }]);
    // The stages that ran each plan stage, and their numbers as the task events summed them.
    expect(scan.stageIds.map((id: number) => stageOf.get(id))).toEqual([0]);
    expect(final.stageIds.map((id: number) => stageOf.get(id))).toEqual([0]);
    const [s0] = scan.stageIds as number[];
    const [s1] = final.stageIds as number[];
    // Partial aggregates: the 3 keys in each scan task's rows; the final aggregate: 3 rows.
    expect(scan.rows).toBe(3 * scan.numTasks);
    expect(final.rows).toBe(3);
    expect([scan.rows, scan.bytes, scan.shuffleWriteBytes, scan.inputBytes]).toEqual([
      total(s0!, 'sqlRows'),
      total(s0!, 'sqlBytes'),
      total(s0!, 'shuffleWriteBytes'),
      total(s0!, 'inputBytes'),
    ]);
    expect(scan.inputBytes).toBe(csvBytes);
    expect([final.rows, final.bytes]).toEqual([total(s1!, 'sqlRows'), total(s1!, 'sqlBytes')]);
    expect([scan.numCompleteTasks, final.numTasks, final.numCompleteTasks]).toEqual([scan.numTasks, 2, 2]);
    // Per operator: the exchange's output, the file scan's input, the shuffle read of stage 0.
    const lines = (s: any) => s.text.split('\n') as string[];
    const scanLine = lines(scan).findIndex((l) => /Relation csv/.test(l));
    expect(scanLine).toBeGreaterThan(0);
    expect(scan.operators).toEqual([
      {
        line: 0,
        kind: 'exchange',
        rows: scan.rows,
        bytes: scan.bytes,
        shuffleWriteBytes: scan.shuffleWriteBytes,
      },
      { line: scanLine, kind: 'scan', inputBytes: csvBytes },
    ]);
    expect(final.operators).toEqual([
      { line: 0, kind: 'exchange', rows: 3, bytes: final.bytes, shuffleWriteBytes: 0 },
      { line: lines(final).findIndex((l) => l.includes('ShuffleRead stage 0')), kind: 'shuffle-read', rows: scan.rows, bytes: scan.bytes }, // prettier-ignore
    ]);
    expect(ok.nodes.map((n: any) => n.metrics[0])).toEqual([
      { name: 'number of output rows', value: String(scan.rows) },
      { name: 'number of output rows', value: '3' },
    ]);

    // The failed query: planned (one stage), ran, failed; no task succeeded, so no rows.
    expect(failed).toMatchObject({ id: 1, status: 'FAILED', successJobIds: [], failedJobIds: [1], runningJobIds: [] }); // prettier-ignore
    expect(failed.planDescription).toBe(sqlEvents[1]!.plan);
    expect(failed.stages).toHaveLength(1);
    const [only] = failed.stages;
    expect(only.text.split('\n')[0]).toMatch(/^Stage 0 \(\d+ tasks\) → Result$/);
    expect([only.rows, only.bytes, only.numCompleteTasks]).toEqual([0, 0, 0]);
    expect(only.stageIds.map((id: number) => stageOf.get(id))).toEqual([1]);
    const job = await hist('/jobs/1');
    expect(job).toMatchObject({ status: 'FAILED', state: 'failed', stageIds: only.stageIds });
    expect(job.errorMessage).toMatch(/CAST_INVALID_INPUT/);
    const failedStage = (await hist(`/stages/${only.stageIds[0]}`))[0];
    expect([failedStage.status, failedStage.numCompleteTasks, failedStage.numFailedTasks]).toEqual([
      'FAILED',
      0,
      4,
    ]);

    history.kill('SIGINT');
  }, 90_000);
});
