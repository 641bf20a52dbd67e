/**
 * Profiles TPC-H queries on `MicroSpark.local({ workers: 2 })`: per stage its wall time, tasks
 * (per worker) and the bytes of map output it shuffled, and each stage's DuckDB fragment SQL.
 *
 *   npx tsx bench/sql/profile.ts --sf 0.1 --query q1,q9 [--format csv] [--runs 2] [--sql]
 *     [--conf spark.sql.shuffle.partitions=4,spark.sql.autoBroadcastJoinThreshold=100m]
 *
 * CPU profiles: of the client with `node --cpu-prof --import tsx bench/sql/profile.ts …`; of the
 * worker daemons (and their task threads) with `--prof-workers DIR` (Node refuses --cpu-prof in
 * NODE_OPTIONS, so the daemons are started through a wrapper that adds it).
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { RDD } from '../../src/index.js';
import * as engine from '../../src/index.js';
import { ensureTpch } from '../tpch/generate.js';
import { tpchQueries } from '../tpch/queries.js';
import { recordAction, registerTpch, runSql } from './workloads.js';

const { values: args } = parseArgs({
  options: {
    sf: { type: 'string', default: '0.1' },
    query: { type: 'string', default: 'q1' },
    format: { type: 'string', default: 'parquet' },
    runs: { type: 'string', default: '2' },
    slots: { type: 'string' },
    sql: { type: 'boolean', default: false },
    'prof-workers': { type: 'string' },
    /** `key=value,key=value`: spark.conf settings. */
    conf: { type: 'string' },
  },
});

interface InternalEngine {
  analyzer: { analyze(plan: unknown): unknown };
  prepare(plan: unknown): Promise<unknown>;
  resultRdd(plan: unknown): Promise<RDD<unknown>>;
}
interface Def {
  method: string;
  numPartitions: number;
  params?: { task?: { sql: string; output: { kind: string } } };
  parents?: RDD<unknown>[];
  shuffles?: Array<{ rdd: RDD<unknown> }>;
}

/** The fragment SQL of every stage of a query's plan, children first. */
async function fragments(spark: engine.SparkSession, sql: string): Promise<string[]> {
  const df = await spark.sql(sql);
  const e = spark.engine as unknown as InternalEngine;
  const plan = (df as unknown as { plan: unknown }).plan;
  const rdd = await e.resultRdd(await e.prepare(e.analyzer.analyze(plan)));
  const out: string[] = [];
  const seen = new Set<RDD<unknown>>();
  const visit = (r: RDD<unknown>) => {
    if (seen.has(r)) return;
    seen.add(r);
    const def = (r as unknown as { def: Def }).def;
    for (const s of def.shuffles ?? []) visit(s.rdd);
    for (const p of def.parents ?? []) visit(p);
    if (def.params?.task)
      out.push(
        `-- ${def.method} (${def.numPartitions} tasks, output ${def.params.task.output.kind})\n${def.params.task.sql}`,
      );
  };
  visit(rdd);
  return out;
}

const sf = Number(args.sf);
const format = args.format as 'parquet' | 'csv';
const { dir } = await ensureTpch({ sf, format });
const names = args.query.split(',');
const profDir = args['prof-workers'];
if (profDir !== undefined) {
  // The local cluster spawns its daemons with process.execPath: point it at a wrapper.
  const dirAbs = resolve(profDir);
  mkdirSync(dirAbs, { recursive: true });
  const wrapper = join(dirAbs, 'node-cpu-prof.sh');
  writeFileSync(wrapper, `#!/bin/sh\nexec ${process.execPath} --cpu-prof --cpu-prof-dir=${dirAbs} "$@"\n`);
  chmodSync(wrapper, 0o755);
  process.execPath = wrapper;
}
const sc = await engine.MicroSpark.local({
  workers: 2,
  ...(args.slots !== undefined && { slotsPerWorker: Number(args.slots) }),
});
try {
  for (const kv of args.conf?.split(',') ?? []) {
    const [k, v] = kv.split('=');
    sc.session.conf.set(k!, v!);
  }
  await registerTpch(sc.session, dir, format);
  for (const q of tpchQueries().filter((x) => names.includes(x.name))) {
    for (let r = 0; r < Number(args.runs); r++) {
      const t0 = performance.now();
      const { profile } = await recordAction(sc, () => runSql(sc.session, q.sql));
      const total = performance.now() - t0;
      console.log(
        `${q.name} run ${r + 1}: ${total.toFixed(0)} ms, ${(profile.shuffleBytes / 1024 ** 2).toFixed(2)} MB shuffled`,
      );
      for (const s of profile.stages)
        console.log(
          `  stage ${String(s.stageId).padStart(3)} ${s.kind.padEnd(11)} ${String(s.tasks).padStart(3)} tasks ` +
            `${s.submittedMs.toFixed(0).padStart(6)} → ${(s.completedMs ?? NaN).toFixed(0).padStart(6)} ms ` +
            `(${((s.completedMs ?? NaN) - s.submittedMs).toFixed(0).padStart(5)} ms) first task after ` +
            `${(s.firstTaskMs ?? NaN).toFixed(0)} ms, tasks [${s.taskMs.map((t) => t.toFixed(0)).join(' ')}] ms ${JSON.stringify(s.tasksByWorker)}`,
        );
      for (const [id, b] of Object.entries(profile.shuffleBytesById))
        console.log(`  shuffle ${id}: ${(b / 1024).toFixed(1)} KB`);
    }
    if (args.sql) for (const f of await fragments(sc.session, q.sql)) console.log(`${f}\n`);
  }
} finally {
  await sc.stop();
}
