/**
 * `spark.microspark.sql.operatorMetrics`: with it on, every SQL stage's task profiles its fragment
 * in DuckDB and sends the operators in its task metrics; REST `/sql/{id}` sums them per plan stage
 * (`engineOperators`), in process and on a local cluster of 2 workers alike. Off (the default): no
 * profiling, no field. A bad value is a ConfigError.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { F, MicroSpark, type ProgressEvent } from '../../src/index.js';
import { ConfigError } from '../../src/protocol/errors.js';
import { TaskMetricsWire } from '../../src/protocol/messages.js';
import { zeroMetrics } from '../../src/rdd/runner.js';
import { INFO_MAX_CHARS, profileOperators, sumOperators } from '../../src/sql/exec/profile.js';

const KEY = 'spark.microspark.sql.operatorMetrics';

const getJson = async (url: string): Promise<any> => {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  expect(res.status).toBe(200);
  return res.json();
};

type Op = { name: string; depth: number; rows: number; timeMs: number; info?: string };
const shape = (ops: Op[]) => ops.map((o) => [o.name, o.depth, o.rows]);

// On a local cluster the operators travel the wire: a map task's in `job.event`, a result task's in `job.complete`.
describe.each(['inProcess', 'local'] as const)('SQL operator metrics (DuckDB profiling), %s', (mode) => {
  let sc: MicroSpark;
  const seen: ProgressEvent[] = [];
  let sqlUrl: string;
  beforeAll(async () => {
    const opts = { defaultParallelism: 2, ui: { port: 0 } } as const;
    sc = mode === 'inProcess' ? await MicroSpark.inProcess(opts) : await MicroSpark.local({ workers: 2, ...opts }); // prettier-ignore
    sc.onProgress((e) => seen.push(e));
    const base = sc.uiWebUrl!.replace(/\/$/, '');
    const appId = (await getJson(`${base}/api/v1/applications`))[0].id as string;
    sqlUrl = `${base}/api/v1/applications/${appId}/sql`;
  });
  afterAll(async () => {
    await sc.stop();
  });

  const query = () =>
    sc.session.range(0, 300, 1, 3).withColumn('k', F.col('id').mod(10)).groupBy('k').sum('id');
  const doneTasks = (from: number) =>
    seen
      .slice(from)
      .filter((e): e is Extract<ProgressEvent, { type: 'task' }> => e.type === 'task' && e.state === 'done');

  it('is off by default: no operators in the task metrics, no engineOperators', async () => {
    const from = seen.length;
    const rows = await query().collect();
    expect(rows).toHaveLength(10);
    const tasks = doneTasks(from);
    expect(tasks).toHaveLength(3 + 2);
    expect(tasks.filter((t) => t.metrics?.sqlOperators !== undefined)).toHaveLength(0);
    const x = (await getJson(sqlUrl)).at(-1);
    expect(x.stages).toHaveLength(2);
    for (const s of x.stages) {
      expect(s).not.toHaveProperty('engineOperators');
      expect(s).not.toHaveProperty('engineOperatorTasks');
    }
  });

  it('on: each plan stage has DuckDB operators summed over its tasks', async () => {
    sc.session.conf.set(KEY, true);
    try {
      const from = seen.length;
      const rows = (await query().collect()).map((r: any) => [Number(r.k), Number(r['sum(id)'])]);
      // k = id % 10 over 0..299: 30 ids each, sum 30k + 10·(0+…+29)·… = 30k + 4350.
      expect(rows.sort((a, b) => a[0]! - b[0]!)).toEqual(
        Array.from({ length: 10 }, (_, k) => [k, 30 * k + 4350]),
      );
      const tasks = doneTasks(from);
      expect(tasks.map((t) => (t.metrics?.sqlOperators?.length ?? 0) > 0)).toEqual([
        true,
        true,
        true,
        true,
        true,
      ]);
      const x = (await getJson(sqlUrl)).at(-1);
      const [scan, final] = x.stages;
      expect(scan.text.split('\n')[0]).toBe('Stage 0 (3 tasks) → Exchange hashpartitioning(k, 2)');
      expect([scan.engineOperatorTasks, final.engineOperatorTasks]).toEqual([3, 2]);
      // The map stage: the range's 300 rows, the partial aggregate's 10 groups per task (its output).
      // (COPY_TO_FILE emits one row per task: the count it wrote.)
      expect(shape(scan.engineOperators)).toEqual([
        ['COPY_TO_FILE', 0, 3],
        ['PROJECTION', 1, 30],
        ['PROJECTION', 2, 30],
        ['HASH_GROUP_BY', 3, 30],
        ['PROJECTION', 4, 300],
        ['PROJECTION', 5, 300],
        ['RANGE', 6, 300],
      ]);
      const partial = scan.engineOperators.find((o: Op) => o.name === 'HASH_GROUP_BY');
      expect(partial.rows).toBe(scan.rows);
      expect(scan.rows).toBe(30);
      expect(scan.engineOperators.find((o: Op) => o.name === 'RANGE').info).toBe('Function: RANGE');
      expect(partial.info).toMatch(/^Groups: #0; Aggregates: sum\(#1\)/);
      // The final aggregate: 10 groups over the 2 reduce tasks.
      // The final stage reads the map stage's 30 partial rows (one Parquet batch per bucket). Its
      // result, bounded to 300 rows by the plan, goes back as rows: no COPY_TO_FILE above it.
      expect(shape(final.engineOperators)).toEqual([
        ['PROJECTION', 0, 10],
        ['HASH_GROUP_BY', 1, 10],
        ['PROJECTION', 2, 30],
        ['READ_PARQUET', 3, scan.rows],
      ]);
      const finalAgg = final.engineOperators.filter((o: Op) => o.name === 'HASH_GROUP_BY');
      expect(finalAgg.map((o: Op) => o.rows)).toEqual([10]);
      expect(final.rows).toBe(10);
      for (const s of [scan, final])
        for (const o of s.engineOperators as Op[]) expect(o.timeMs).toBeGreaterThanOrEqual(0);
      // The sums are the tasks' lists added position by position.
      const scanStage = scan.stageIds[0] as number;
      const perTask = tasks.filter((t) => t.stageId === scanStage).map((t) => t.metrics!.sqlOperators!);
      expect(perTask.map((l) => shape(l as Op[]))).toEqual(
        [0, 1, 2].map(() => [
          ['COPY_TO_FILE', 0, 1],
          ['PROJECTION', 1, 10],
          ['PROJECTION', 2, 10],
          ['HASH_GROUP_BY', 3, 10],
          ['PROJECTION', 4, 100],
          ['PROJECTION', 5, 100],
          ['RANGE', 6, 100],
        ]),
      );
    } finally {
      sc.session.conf.unset(KEY);
    }
  });

  it('refuses a value that is not a boolean, naming the key', async () => {
    let err: unknown;
    try {
      sc.session.conf.set(KEY, 'yes');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).option).toBe(KEY);
    expect((err as Error).message).toBe(`${KEY} must be true or false, got 'yes'`);
    expect(sc.session.conf.get(KEY)).toBeUndefined();
    // SQL's SET goes through the same check.
    await expect(async () => sc.session.sql(`SET ${KEY} = maybe`)).rejects.toMatchObject({ name: 'ConfigError', option: KEY, message: `${KEY} must be true or false, got 'maybe'` }); // prettier-ignore
    expect(sc.session.conf.get(KEY)).toBeUndefined();
    sc.session.conf.set(KEY, 'FALSE');
    expect(sc.session.conf.get(KEY)).toBe('FALSE');
    sc.session.conf.unset(KEY);
  });
});

describe('operator lists', () => {
  it('parse DuckDB profile JSON in pre-order, skipping estimates and truncating long info', () => {
    const long = 'x'.repeat(400);
    const ops = profileOperators({
      children: [
        {
          operator_name: 'HASH_JOIN',
          operator_cardinality: 5,
          operator_timing: 0.002,
          extra_info: { Conditions: long, 'Estimated Cardinality': '9' },
          children: [
            { operator_name: 'READ_PARQUET ', operator_cardinality: 7, extra_info: {}, children: [] },
            { operator_name: 'RANGE', operator_cardinality: 3, extra_info: { Function: 'RANGE' } },
          ],
        },
      ],
    });
    expect(ops).toEqual([
      {
        name: 'HASH_JOIN',
        depth: 0,
        rows: 5,
        timeMs: 2,
        info: `Conditions: ${long}`.slice(0, INFO_MAX_CHARS - 1) + '…',
      },
      { name: 'READ_PARQUET', depth: 1, rows: 7, timeMs: 0 },
      { name: 'RANGE', depth: 1, rows: 3, timeMs: 0, info: 'Function: RANGE' },
    ]);
    expect(ops[0]!.info).toHaveLength(INFO_MAX_CHARS);
  });

  it('sum by position; a list of another shape is left out and counted', () => {
    const a = [
      { name: 'A', depth: 0, rows: 1, timeMs: 1 },
      { name: 'B', depth: 1, rows: 2, timeMs: 1 },
    ];
    const other = [{ name: 'A', depth: 0, rows: 100, timeMs: 0 }];
    expect(sumOperators([a, a, other, a])).toEqual({
      operators: [
        { name: 'A', depth: 0, rows: 3, timeMs: 3 },
        { name: 'B', depth: 1, rows: 6, timeMs: 3 },
      ],
      skipped: 1,
    });
  });

  it('travel in the wire schema of task metrics (optional)', () => {
    const ops = [{ name: 'RANGE', depth: 0, rows: 100, timeMs: 0.5, info: 'Function: RANGE' }];
    expect(TaskMetricsWire.parse({ ...zeroMetrics(), sqlOperators: ops }).sqlOperators).toEqual(ops);
    expect(TaskMetricsWire.parse(zeroMetrics())).not.toHaveProperty('sqlOperators');
    expect(TaskMetricsWire.safeParse({ ...zeroMetrics(), sqlOperators: [{ name: 'X', depth: -1, rows: 0, timeMs: 0 }] }).success).toBe(false); // prettier-ignore
  });
});
