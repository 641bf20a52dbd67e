/**
 * The web UI's pages in a real headless Chromium (Debian's `chromium`, driven by playwright-core)
 * against a local cluster of 3 workers, each page checked together with the REST answer behind it
 * (Spark's UISeleniumSuite): progress moving live, the DAG of a two-shuffle pipeline, a killed
 * worker's retried tasks, storage (per-partition sizes) before and after unpersist, the cancel
 * button (one action of two), a stage's metric quantiles, workers' task output, the SQL page. A screenshot of
 * every page goes to test-artifacts/ui/ (not committed). Run with `npm run test:browser`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { F, MicroSpark, type ProgressEvent } from '../../src/index.js';

const SHOTS = join(process.cwd(), 'test-artifacts', 'ui');
const FAST = { heartbeatMs: 200, deadAfterMs: 1000, leaseTtlMs: 3000, noWorkerGraceMs: 4000 } as const;

let sc: MicroSpark;
let browser: Browser;
let page: Page;
let base: string;
let appId: string;
const events: ProgressEvent[] = [];

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  sc = await MicroSpark.local({ workers: 3, slotsPerWorker: 1, defaultParallelism: 3, ui: { port: 0, killEnabled: true }, ...FAST }); // prettier-ignore
  sc.onProgress((e) => events.push(e));
  base = sc.uiWebUrl!.replace(/\/$/, '');
  appId = ((await (await fetch(`${base}/api/v1/applications`)).json()) as Array<{ id: string }>)[0]!.id;
  await (await fetch(`${base}/static/app.js`)).text(); // bundled once, before the first page
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] }); // prettier-ignore
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
});
const data = mkdtempSync(join(tmpdir(), 'microspark-browser-'));
afterAll(async () => {
  await browser?.close();
  await sc?.stop();
  rmSync(data, { recursive: true, force: true });
});

const rest = async (path: string): Promise<any> =>
  (await fetch(`${base}/api/v1/applications/${appId}${path}`)).json();
const open = async (path: string) => {
  await page.goto(`${base}/#/app/${appId}/${path}`);
  await page.waitForSelector('header');
};
const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
const lastAction = () => events.filter((e) => e.type === 'action').at(-1); // prettier-ignore
const slow = (x: number, env: { ms: number }) => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, env.ms);
  return x;
};

describe('web UI pages in Chromium', () => {
  it('the jobs page shows a running stage progress move without reloading', async () => {
    const action = sc
      .parallelize(
        Array.from({ length: 24 }, (_, i) => i),
        24,
      )
      .map(slow, { ms: 500 })
      .collect();
    await open('jobs');
    await page.evaluate(() => ((globalThis as any).marker = 'same page'));
    const progress = async () => {
      const text =
        (await page.locator('table.jobs tbody tr').first().locator('.bar span').textContent()) ?? '';
      return Number(/^(\d+)\//.exec(text)?.[1] ?? -1);
    };
    await page.waitForFunction(
      () => /RUNNING/.test((globalThis as any).document.querySelector('table.jobs')?.textContent ?? ''),
      undefined,
      { timeout: 10_000 },
    );
    const first = await progress();
    await shot('jobs-running');
    await page.waitForFunction(
      (n) => Number(/^(\d+)\//.exec((globalThis as any).document.querySelector('table.jobs tbody tr .bar span')?.textContent ?? '')?.[1] ?? -1) > n, // prettier-ignore
      first,
      { timeout: 15_000 },
    );
    expect(await progress()).toBeGreaterThan(first);
    expect(await page.evaluate(() => (globalThis as any).marker)).toBe('same page'); // updated live, not reloaded
    expect(await action).toHaveLength(24);
    await page.waitForFunction(() =>
      /SUCCEEDED/.test((globalThis as any).document.querySelector('table.jobs')?.textContent ?? ''),
    );
    const job = await rest(`/jobs/${lastAction().actionId}`);
    expect(await progress()).toBe(job.numCompletedTasks);
    expect(job.numCompletedTasks).toBe(24);
    await shot('jobs');
  });

  it('the DAG of a two-shuffle pipeline shows three stages and two shuffles', async () => {
    const out = await sc
      .parallelize(['a b', 'b c', 'c a b'], 3)
      .flatMap((l) => l.split(' '))
      .map((w) => [w, 1] as [string, number])
      .reduceByKey((a, b) => a + b, 2)
      .map(([w, n]) => [n, w] as [number, string])
      .groupByKey(2)
      .collect();
    expect(out.length).toBe(2);
    const id = lastAction().actionId;
    await open(`job/${id}`);
    await page.waitForSelector('svg.dag g.stage-box');
    const boxes = await page.locator('svg.dag g.stage-box').count();
    expect(boxes).toBe(3);
    expect(await page.locator('svg.dag polyline.shuffle').count()).toBe(2);
    const job = await rest(`/jobs/${id}`);
    expect(job.stageIds).toHaveLength(3);
    const titles = await page.locator('svg.dag text.title').allTextContents();
    expect(titles.map((t) => Number(/Stage (\d+)/.exec(t)![1])).sort((a, b) => a - b)).toEqual(job.stageIds);
    await shot('job-dag');
  });

  it('the storage page lists a cached RDD and drops it after unpersist', async () => {
    const cached = sc
      .parallelize([1, 2, 3, 4, 5, 6], 3)
      .map((x) => x * 10)
      .setName('tens')
      .cache();
    expect(await cached.sum()).toBe(210);
    await open('storage');
    await page.waitForSelector('table.storage');
    const row = page.locator('table.storage tbody tr');
    expect(await row.count()).toBe(1);
    expect(await row.first().textContent()).toContain('tens');
    expect(await row.first().textContent()).toContain('3/3');
    // Each partition's size, as the REST answer gives it.
    const detail = await rest(`/storage/rdd/${cached.id}`);
    const parts = page.locator('table.partitions tbody tr');
    expect(await parts.count()).toBe(3);
    expect(detail.partitions.map((p: { memoryUsed: number }) => p.memoryUsed > 0)).toEqual([
      true,
      true,
      true,
    ]);
    for (let i = 0; i < 3; i++) {
      const cells = await parts.nth(i).locator('td').allTextContents();
      expect(cells[0]).toBe(detail.partitions[i].blockName);
      expect(cells[2]).toBe(`${detail.partitions[i].memoryUsed} B`);
      expect(cells[3]).toBe(detail.partitions[i].executors[0]);
    }
    await shot('storage');
    cached.unpersist();
    await page.waitForSelector('p.empty', { timeout: 5000 }); // live: the next update shows it gone
    expect(await rest('/storage/rdd')).toEqual([]);
  });

  it('the cancel button cancels its action, not another one running beside it', async () => {
    const action = sc.parallelize([1, 2, 3, 4, 5, 6], 6).map(slow, { ms: 20_000 }).collect();
    action.catch(() => undefined);
    const other = sc.parallelize([1, 2, 3, 4, 5, 6], 3).map(slow, { ms: 200 }).sum();
    other.catch(() => undefined);
    const started = () => events.filter((e) => e.type === 'action' && e.state === 'started') as Array<{ actionId: number; name: string }>; // prettier-ignore
    await open('jobs');
    await page.locator('button.kill').nth(1).waitFor({ timeout: 10_000 });
    const victim = started().findLast((a) => a.name.startsWith('collect at'))!.actionId;
    await page.locator(`button.kill[data-job="${victim}"]`).click();
    await expect(action).rejects.toThrow(/cancel/);
    expect(await other).toBe(21); // the other action runs to its answer
    await page.waitForFunction(() =>
      /CANCELLED/.test((globalThis as any).document.querySelector('table.jobs')?.textContent ?? ''),
    );
    expect((await rest(`/jobs/${victim}`)).state).toBe('cancelled');
    const survivor = started().findLast((a) => a.name.startsWith('sum at'))!.actionId;
    expect((await rest(`/jobs/${survivor}`)).state).toBe('succeeded');
    await shot('jobs-cancelled');
  });

  it('the stage page shows quantiles of input, shuffle write and GC; the executors page shows task output', async () => {
    const file = join(data, 'words.txt');
    writeFileSync(file, Array.from({ length: 600 }, (_, i) => `w${i % 7} w${i % 5}`).join('\n') + '\n');
    const counts = await sc
      .textFile(file, 3)
      .flatMap((l) => {
        // eslint-disable-next-line no-console -- a task's output, shown on the executors page
        if (l === 'w0 w0') console.log(`saw ${l}`);
        return l.split(' ');
      })
      .map((w) => [w, 1] as [string, number])
      .reduceByKey((a, b) => a + b)
      .collectAsMap();
    expect(counts.get('w0')).toBe(Math.ceil(600 / 7) + 600 / 5);
    const job = await rest(`/jobs/${lastAction().actionId}`);
    const mapStage = job.stageIds[0];
    const st = (await rest(`/stages/${mapStage}?withSummaries=true`))[0];
    expect(st.inputRecords).toBe(600);
    await open(`stage/${mapStage}`);
    await page.waitForSelector('table.summary');
    const labels = await page.locator('table.summary tbody tr td:first-child').allTextContents();
    expect(labels).toEqual([
      'Duration',
      'Run time',
      'GC time',
      'CPU time',
      'Input size / records',
      'Shuffle write size / records',
    ]);
    const input = await page.locator('table.summary tbody tr').nth(4).locator('td').allTextContents();
    const records: number[] = st.taskMetricsDistributions.inputMetrics.recordsRead;
    expect(input.slice(1).map((c) => Number(c.split(' / ')[1]))).toEqual(records);
    await shot('stage-metrics');
    // The result stage's tasks parked until the map outputs were announced: a row and a column.
    const resultStage = job.stageIds[1];
    const rs = (await rest(`/stages/${resultStage}?withSummaries=true&quantiles=0,0.25,0.5,0.75,1`))[0];
    expect(rs.parkedTime).toBeGreaterThan(0);
    await open(`stage/${resultStage}`);
    await page.waitForSelector('table.summary');
    const parkedRow = page.locator('table.summary tbody tr', { hasText: 'Parked waiting for map outputs' });
    // The map stage's page had a table.summary too (without this row): wait for the new page's row.
    await parkedRow.waitFor({ timeout: 10_000 });
    expect(await parkedRow.locator('td').allTextContents()).toEqual([
      'Parked waiting for map outputs',
      ...rs.taskMetricsDistributions.parkedTime.map((ms: number) => (ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`)), // prettier-ignore
    ]);
    await open('executors');
    await page.waitForSelector('pre.log');
    expect(await page.locator('pre.log').allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining('saw w0 w0')])); // prettier-ignore
    await shot('executors-logs');
  });

  it('the SQL page shows a DataFrame query with its plan stages, rows and bytes', async () => {
    const df = sc.session.range(0, 300, 1, 3).withColumn('k', F.col('id').mod(10)).groupBy('k').agg(F.sum('id').alias('s')); // prettier-ignore
    expect(await df.count()).toBe(10);
    const xs = await rest('/sql');
    const x = xs.at(-1);
    expect(x.status).toBe('COMPLETED');
    await open('sql');
    await page.waitForSelector('table.sql');
    expect(await page.locator('table.sql tbody tr').count()).toBe(xs.length);
    await shot('sql');
    await open(`query/${x.id}`);
    await page.waitForSelector('table.plan-stages');
    const rows = page.locator('table.plan-stages tbody tr');
    expect(await rows.count()).toBe(x.stages.length);
    const outRows = await page.locator('table.plan-stages tbody tr td:nth-child(4)').allTextContents();
    expect(outRows.map(Number)).toEqual(x.stages.map((s: { rows: number }) => s.rows));
    // The plan's exchanges and shuffle reads carry their rows: the exchange of stage 0 and the
    // shuffle read of it in stage 1 both say stage 0's output rows.
    const metrics = await page.locator('table.plan-stages pre.plan .metric').allTextContents();
    expect(metrics.filter((m) => m.startsWith(`[rows: ${x.stages[0].rows},`))).toHaveLength(2);
    // One per `ShuffleRead stage N` line of the plan stages (count() adds a stage over the aggregate).
    const reads = x.stages.reduce((n: number, s: { text: string }) => n + (s.text.match(/ShuffleRead stage \d+/g)?.length ?? 0), 0); // prettier-ignore
    expect(reads).toBe(x.stages.length - 1);
    expect(await page.locator('table.plan-stages pre.plan .metric[data-kind="shuffle-read"]').count()).toBe(reads); // prettier-ignore
    expect(await page.locator('pre.plan').last().textContent()).toBe(x.planDescription);
    await shot('sql-query');
    await open(`job/${x.successJobIds[0]}`);
    await page.waitForSelector('table.plan-stages');
    await shot('job-sql-plan');
  });

  it('with spark.microspark.sql.operatorMetrics on, the SQL query page lists DuckDB operators under each plan stage', async () => {
    sc.session.conf.set('spark.microspark.sql.operatorMetrics', true);
    try {
      const df = sc.session.range(0, 300, 1, 3).withColumn('k', F.col('id').mod(10)).groupBy('k').sum('id');
      expect(await df.collect()).toHaveLength(10);
    } finally {
      sc.session.conf.unset('spark.microspark.sql.operatorMetrics');
    }
    const x = (await rest('/sql')).at(-1);
    expect(x.stages).toHaveLength(2);
    await open(`query/${x.id}`);
    await page.waitForSelector('ul.engine-ops');
    const lists = page.locator('table.plan-stages tbody tr ul.engine-ops');
    expect(await lists.count()).toBe(2);
    for (const [i, s] of (
      x.stages as Array<{ engineOperators: Array<{ name: string; rows: number; depth: number }> }>
    ).entries()) {
      const items = await lists.nth(i).locator('li').allTextContents();
      // One line per operator, in the REST order, each starting with its name and summed rows.
      expect(items.map((t) => t.split(' · ')[0])).toEqual(
        s.engineOperators.map((o) => `${o.name} rows ${o.rows}`),
      );
      const li = lists.nth(i).locator('li');
      const pads = await Promise.all(s.engineOperators.map((_, j) => li.nth(j).getAttribute('style')));
      expect(pads).toEqual(s.engineOperators.map((o) => `padding-left: ${o.depth * 1.5}em`));
    }
    const scanItems = await lists.first().locator('li').allTextContents();
    expect(scanItems.filter((t) => t.startsWith('RANGE rows 300'))).toHaveLength(1);
    await shot('sql-query-operators');
  });

  it("a killed worker's tasks show as retried with the reason on the stage page", async () => {
    let victim: string | undefined;
    const stop = sc.onProgress((e) => {
      if (victim || e.type !== 'task' || e.state !== 'running' || !e.worker) return;
      victim = e.worker;
      sc.localWorkers.find((w) => w.node === e.worker)?.child.kill('SIGKILL');
    });
    const out = await sc
      .parallelize(
        Array.from({ length: 9 }, (_, i) => i),
        9,
      )
      .map(slow, { ms: 300 })
      .collect();
    stop();
    expect(out).toHaveLength(9);
    expect(victim).toBeDefined(); // the fault fired
    const stageId = (await rest(`/jobs/${lastAction().actionId}`)).stageIds[0];
    const st = (await rest(`/stages/${stageId}`))[0];
    const lost = st.retryReasons['worker-lost'] + st.retryReasons['lease-expired'];
    expect(lost).toBeGreaterThanOrEqual(1);
    await open(`stage/${stageId}?status=FAILED`);
    await page.waitForSelector('table.tasks');
    const reasons = await page.locator('table.tasks tbody tr td:last-child').allTextContents();
    expect(reasons).toHaveLength(lost);
    for (const r of reasons) expect(['worker-lost', 'lease-expired']).toContain(r);
    expect(await page.locator('svg.task-timeline rect.task.retried').count()).toBe(lost);
    await open(`stage/${stageId}`);
    await page.waitForSelector('svg.task-timeline');
    await shot('stage');
    await open('executors');
    await page.waitForSelector('table.executors');
    expect(await page.locator('table.executors tbody tr').count()).toBe(3);
    expect(await page.locator('table.executors').textContent()).toContain('LOST');
    await shot('executors');
  });

  it('the stages and environment pages render what the REST API says', async () => {
    await open('stages');
    await page.waitForSelector('table.stages');
    const stages = await rest('/stages');
    expect(await page.locator('table.stages tbody tr').count()).toBe(stages.length);
    await shot('stages');
    await open('environment');
    await page.waitForSelector('table.env');
    expect(await page.locator('main').textContent()).toContain('local-cluster[3]');
    await shot('environment');
  });
});
