/**
 * The MicroSpark side of the SQL benchmarks (D1–D5): TPC-H views over Parquet or CSV, a query
 * run to its answer, Q1 and Q6 written with the DataFrame API, and a recorder of what an action
 * did (per-stage wall time, tasks, bytes of map output shuffled).
 */
import type { MicroSpark, SparkSession, ProgressEvent } from '../../src/index.js';
import type { Answer } from '../tpch/reference.js';
import { TPCH_SCHEMA, TPCH_TABLES } from '../tpch/schema.js';

/** The engine module as the harness loaded it (compiled, or the sources with --src). */
export type Engine = typeof import('../../src/index.js');

/** Spark DDL of a TPC-H table (for `read.csv` with a schema: no inference pass). */
export function tpchDdl(table: (typeof TPCH_TABLES)[number]): string {
  return TPCH_SCHEMA[table]
    .map(([n, t]) => `${n} ${t === 'INTEGER' ? 'INT' : t === 'VARCHAR' ? 'STRING' : t}`)
    .join(', ');
}

/** Registers the eight TPC-H tables of `dir` as temp views (CSV with header and the schema). */
export async function registerTpch(
  spark: SparkSession,
  dir: string,
  format: 'parquet' | 'csv',
): Promise<void> {
  for (const t of TPCH_TABLES) {
    const df =
      format === 'parquet'
        ? await spark.read.parquet(`${dir}/${t}`)
        : await spark.read.csv(`${dir}/${t}`, { header: true, schema: tpchDdl(t) });
    df.createOrReplaceTempView(t);
  }
}

const norm = (v: unknown): unknown => {
  if (v instanceof Date) {
    const iso = v.toISOString();
    return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso;
  }
  return typeof v === 'bigint' ? Number(v) : v;
};

/** Collects a DataFrame into an {@link Answer} (dates as 'YYYY-MM-DD', as the reference gives them). */
export async function answerOf(df: {
  collect(): Promise<Array<Record<string, unknown>>>;
  columns: string[];
}): Promise<Answer> {
  const rows = await df.collect();
  const columns = df.columns;
  return { columns, rows: rows.map((r) => columns.map((c) => norm(r[c]))) };
}

/** `spark.sql(sql).collect()` as an {@link Answer}. */
export async function runSql(spark: SparkSession, sql: string): Promise<Answer> {
  return answerOf(await spark.sql(sql));
}

/** TPC-H Q1 with the DataFrame API (same output names as the SQL text). */
export async function q1DataFrame(engine: Engine, spark: SparkSession, dir: string): Promise<Answer> {
  const { F } = engine;
  const li = await spark.read.parquet(`${dir}/lineitem`);
  const discPrice = F.col('l_extendedprice').multiply(F.lit(1).minus(F.col('l_discount')));
  const df = li
    .filter(F.col('l_shipdate').leq(F.date_sub(F.lit('1998-12-01').cast('date'), 90)))
    .groupBy('l_returnflag', 'l_linestatus')
    .agg(
      F.sum('l_quantity').alias('sum_qty'),
      F.sum('l_extendedprice').alias('sum_base_price'),
      F.sum(discPrice).alias('sum_disc_price'),
      F.sum(discPrice.multiply(F.lit(1).plus(F.col('l_tax')))).alias('sum_charge'),
      F.avg('l_quantity').alias('avg_qty'),
      F.avg('l_extendedprice').alias('avg_price'),
      F.avg('l_discount').alias('avg_disc'),
      F.count('*').alias('count_order'),
    )
    .orderBy('l_returnflag', 'l_linestatus');
  return answerOf(df);
}

/** TPC-H Q6 with the DataFrame API. */
export async function q6DataFrame(engine: Engine, spark: SparkSession, dir: string): Promise<Answer> {
  const { F } = engine;
  const li = await spark.read.parquet(`${dir}/lineitem`);
  const df = li
    .filter(
      F.col('l_shipdate')
        .geq(F.lit('1994-01-01').cast('date'))
        .and(F.col('l_shipdate').lt(F.lit('1995-01-01').cast('date')))
        .and(F.col('l_discount').between(0.05, 0.07))
        .and(F.col('l_quantity').lt(24)),
    )
    .agg(F.sum(F.col('l_extendedprice').multiply(F.col('l_discount'))).alias('revenue'));
  return answerOf(df);
}

/** One stage of an action, as the recorder saw it. */
export interface StageRecord {
  stageId: number;
  kind: 'shuffle-map' | 'result';
  name: string;
  tasks: number;
  /** Milliseconds from the start of recording to submission and to completion. */
  submittedMs: number;
  completedMs?: number;
  /** Tasks run per worker node (first 6 characters of its id). */
  tasksByWorker: Record<string, number>;
  /** Milliseconds from each task's first `running` event to its `done` event. */
  taskMs: number[];
  /** Milliseconds from the stage's submission to its first task's `running` event. */
  firstTaskMs?: number;
}

/** What a recorded action did: its stages and the bytes of the map outputs it shuffled. */
export interface ActionProfile {
  stages: StageRecord[];
  /** Sum of the announced map output sizes (msgpack-framed Parquet batches), over all shuffles. */
  shuffleBytes: number;
  /** The same, per shuffle id. */
  shuffleBytesById: Record<string, number>;
}

/**
 * Records the progress events and the announced map outputs of what runs while `body` does.
 * Map output records are withdrawn when their action ends, so they are sampled on every event.
 */
export async function recordAction<T>(
  sc: MicroSpark,
  body: () => Promise<T>,
): Promise<{ value: T; profile: ActionProfile }> {
  const t0 = performance.now();
  const stages = new Map<number, StageRecord>();
  const outputs = new Map<string, number>();
  const started = new Map<string, number>();
  const sample = () => {
    for (const b of sc.cluster?.seenRecords().blocks ?? [])
      if (b.blockId.startsWith('shuffle_')) outputs.set(`${b.holder}/${b.blockId}`, b.bytes);
  };
  const off = sc.onProgress((e: ProgressEvent) => {
    const now = performance.now() - t0;
    if (e.type === 'stage') {
      if (e.state === 'submitted')
        stages.set(e.stageId, {
          stageId: e.stageId,
          kind: e.kind,
          name: e.name,
          tasks: e.tasks,
          submittedMs: now,
          tasksByWorker: {},
          taskMs: [],
        });
      else {
        const s = stages.get(e.stageId);
        if (s) s.completedMs = now;
      }
    } else if (e.type === 'task' && e.state === 'running') {
      const s = stages.get(e.stageId);
      if (s) s.firstTaskMs ??= now - s.submittedMs;
      started.set(`${e.stageId}/${e.partition}`, now);
    } else if (e.type === 'task' && e.state === 'done') {
      const s = stages.get(e.stageId);
      const w = (e.worker ?? 'client').slice(0, 6);
      const t = started.get(`${e.stageId}/${e.partition}`);
      if (s) s.tasksByWorker[w] = (s.tasksByWorker[w] ?? 0) + 1;
      if (s && t !== undefined) s.taskMs.push(now - t);
    }
    sample();
  });
  const timer = setInterval(sample, 5);
  try {
    const value = await body();
    sample();
    const byId: Record<string, number> = {};
    let total = 0;
    for (const [key, bytes] of outputs) {
      const id = /shuffle_(.+)_\d+$/.exec(key)?.[1] ?? key;
      byId[id] = (byId[id] ?? 0) + bytes;
      total += bytes;
    }
    return { value, profile: { stages: [...stages.values()], shuffleBytes: total, shuffleBytesById: byId } };
  } finally {
    clearInterval(timer);
    off();
  }
}
