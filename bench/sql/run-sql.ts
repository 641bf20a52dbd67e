/**
 * The SQL workloads of `npm run bench` (D1–D5): TPC-H through `spark.sql` and the DataFrame API on
 * `MicroSpark.local({ workers: 2 })`, against DuckDB (2 threads), nodejs-polars and arquero run
 * in child processes on the same generated files, in the same run, with the answers compared.
 * bench/run.ts calls {@link runSqlBenchmarks} and puts its rows and table into its results file.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { MicroSpark } from '../../src/index.js';
import { ensureTpch } from '../tpch/generate.js';
import { tpchQueries, type TpchQuery } from '../tpch/queries.js';
import { compareAnswers, type Answer } from '../tpch/reference.js';
import type { ChildQuery, ChildReport, ChildSpec } from './child.js';
import { q1DataFrame, q6DataFrame, registerTpch, runSql, type Engine } from './workloads.js';
import { settle } from '../settle.js';

/** The SQL workload names, in the order they run. */
export const SQL_WORKLOADS = ['D4', 'D1', 'D3', 'D2', 'D5'] as const;

/** The six queries of D1 and D2. */
const D_QUERIES = ['q1', 'q3', 'q5', 'q6', 'q9', 'q18'];

/** How the harness asks for the SQL workloads. */
export interface SqlBenchOptions {
  /** TPC-H scale factor. */
  sf: number;
  /** Runs per query (medians); D5 runs each query once. */
  runs: number;
  /** The workloads to run (names outside D1–D5 are ignored). */
  only: ReadonlySet<string>;
  slotsPerWorker?: number;
  /** Iterations of D4. */
  latencyIterations: number;
  /** Run the reference child through tsx (as with the harness's --src). */
  src: boolean;
  /** Per-query time limit of D5, in seconds (default 900). */
  d5LimitSeconds?: number;
}

/** One row of the SQL table: a query of a workload against one reference, or a summary. */
export interface SqlRow {
  workload: string;
  query: string;
  reference?: string;
  microsparkSeconds?: number;
  referenceSeconds?: number;
  ratio?: number;
  p50Ms?: number;
  p99Ms?: number;
  microsparkPeakBytes?: number;
  referencePeakBytes?: number;
  memoryRatio?: number;
  correct: boolean;
  target: string;
  met?: boolean;
  /** /proc/loadavg (1, 5, 15 minutes) when the measurement started. */
  load: string;
  runs: { microspark: number[]; reference: number[] };
  notes?: string;
}

/** What the SQL workloads return to the harness. */
export interface SqlResult {
  params: { sf: number; runs: number; workers: 2; duckdbThreads: 2; queries: string[] };
  rows: SqlRow[];
  table: string;
}

const execFileP = promisify(execFile);

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const percentile = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const geomean = (xs: readonly number[]): number =>
  Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / Math.max(1, xs.length));
const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

function resetPeak(pid: number | 'self'): void {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    // Not allowed here: the peak then covers the process's whole life.
  }
}
function peakOf(pid: number | 'self'): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
function pidsOf(sc: MicroSpark): Array<number | 'self'> {
  return ['self', ...sc.localWorkers.flatMap((w) => (w.child.pid === undefined ? [] : [w.child.pid]))];
}

/** The command that runs bench/sql/child.ts: compiled to JavaScript (no loader), or through tsx. */
function childCommand(src: boolean): string[] {
  if (src) return ['--import', 'tsx', 'bench/sql/child.ts'];
  const out = 'bench/data/sql-child';
  const js = join(out, 'bench/sql/child.js');
  const sources = ['bench/sql/child.ts', 'bench/tpch/reference.ts', 'bench/tpch/schema.ts'];
  const newest = Math.max(...sources.map((f) => statSync(f).mtimeMs));
  if (!existsSync(js) || statSync(js).mtimeMs < newest) {
    execFileSync(
      process.execPath,
      [
        'node_modules/typescript/bin/tsc',
        ...['--outDir', out, '--rootDir', '.', '--module', 'nodenext', '--moduleResolution', 'nodenext'],
        ...['--target', 'es2022', '--strict', '--skipLibCheck', '--types', 'node', 'bench/sql/child.ts'],
      ],
      { stdio: 'inherit' },
    );
  }
  return [js];
}

let specNo = 0;
/** Runs a reference child on `spec`; its report. */
async function runChild(command: string[], spec: ChildSpec): Promise<ChildReport> {
  const file = join(tmpdir(), `microspark-bench-spec-${process.pid}-${++specNo}.json`);
  writeFileSync(file, JSON.stringify(spec));
  const { stdout } = await execFileP(process.execPath, [...command, file], { maxBuffer: 256 << 20 });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '') as ChildReport;
}

const mb = (b?: number): string => (b === undefined ? '—' : `${(b / 1024 ** 2).toFixed(0)} MB`);
const sec = (s?: number): string =>
  s === undefined ? '—' : s < 10 ? `${s.toFixed(3)} s` : `${s.toFixed(1)} s`;
const asAnswer = (q: ChildQuery): Answer => ({ columns: q.columns, rows: q.rows });

/** Renders the SQL rows as a Markdown table. */
export function sqlTable(rows: readonly SqlRow[]): string {
  const head = ['', 'query', 'MicroSpark', 'reference', 'ratio', 'peak mem (MicroSpark / reference)'];
  head.push('correct', 'target', 'met', 'load (1 min)');
  const body = rows.map((r) => [
    r.workload,
    r.query,
    r.p50Ms !== undefined
      ? `p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms!.toFixed(2)} ms`
      : sec(r.microsparkSeconds),
    r.referenceSeconds === undefined ? '—' : `${r.reference} ${sec(r.referenceSeconds)}`,
    r.ratio === undefined ? '—' : `${r.ratio.toFixed(2)}x`,
    r.microsparkPeakBytes === undefined
      ? '—'
      : `${mb(r.microsparkPeakBytes)} / ${mb(r.referencePeakBytes)}${r.memoryRatio === undefined ? '' : ` (${r.memoryRatio.toFixed(2)}x)`}`,
    r.correct ? 'yes' : 'NO',
    r.target,
    r.met === undefined ? '' : r.met ? 'yes' : 'no',
    r.load
      .split(' / ')
      .map((l) => l.split(' ')[0])
      .join(' / '),
  ]);
  const all = [head, ...body];
  const widths = head.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  const line = (row: string[]) => `| ${row.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

/** Runs the asked SQL workloads; their rows (per query, then a summary per workload) and table. */
export async function runSqlBenchmarks(engine: Engine, opts: SqlBenchOptions): Promise<SqlResult> {
  const { sf, runs } = opts;
  const want = (w: string) => opts.only.has(w);
  const local = () =>
    engine.MicroSpark.local({
      workers: 2,
      ...(opts.slotsPerWorker && { slotsPerWorker: opts.slotsPerWorker }),
    });
  const child = childCommand(opts.src);
  const all = tpchQueries();
  const six = all.filter((q) => D_QUERIES.includes(q.name));
  const rows: SqlRow[] = [];
  const log = (s: string) => console.log(`  ${s}  [load ${load()}]`);

  if (want('D4')) {
    const sc = await local();
    const l = load();
    const times: number[] = [];
    let correct = true;
    try {
      const spark = sc.session;
      const t = spark.range(1000).cache();
      t.createOrReplaceTempView('t');
      for (let i = 0; i < 20; i++) await (await spark.sql('SELECT count(*) FROM t')).collect(); // warm-up
      for (let i = 0; i < opts.latencyIterations; i++) {
        const t0 = performance.now();
        const got = await (await spark.sql('SELECT count(*) FROM t')).collect();
        times.push(performance.now() - t0);
        if (Number(Object.values(got[0] ?? {})[0]) !== 1000 || got.length !== 1) correct = false;
      }
    } finally {
      await sc.stop();
    }
    const p50Ms = percentile(times, 50);
    const p99Ms = percentile(times, 99);
    log(`D4 p50 ${p50Ms.toFixed(2)} ms, p99 ${p99Ms.toFixed(2)} ms`);
    rows.push({
      workload: 'D4',
      query: `count(*) of a cached 1,000-row view, ${opts.latencyIterations} times, warm`,
      p50Ms,
      p99Ms,
      correct,
      target: 'p50 ≤ 5 ms, p99 ≤ 20 ms',
      met: correct && p50Ms <= 5 && p99Ms <= 20,
      load: l,
      runs: { microspark: times, reference: [] },
    });
  }

  /** D1/D2: the six queries on one format, median of `runs`, against DuckDB. */
  const versusDuckDb = async (name: 'D1' | 'D2', format: 'parquet' | 'csv') => {
    const { dir } = await ensureTpch({ sf, format });
    // The cluster starts first and each query's DuckDB runs come right before its MicroSpark
    // runs, so that this machine's drift in speed (minutes long) falls on both sides of a ratio.
    const sc = await local();
    const out: SqlRow[] = [];
    try {
      await registerTpch(sc.session, dir, format);
      const pids = pidsOf(sc);
      const daemons = pids.filter((p): p is number => p !== 'self');
      for (const q of six) {
        await settle(daemons);
        const refLoad = load();
        const report = await runChild(child, {
          engine: 'duckdb',
          dir,
          format,
          queries: [q],
          runs,
          threads: 2,
        });
        const ref = { q: report.queries[0]!, peak: report.maxRssBytes, load: refLoad };
        log(`${name} ${q.name} DuckDB: ${ref.q.seconds.map((s) => sec(s)).join(', ')}`);
        const l = load();
        for (const p of pids) resetPeak(p);
        const seconds: number[] = [];
        let answer: Answer | undefined;
        for (let r = 0; r < runs; r++) {
          const t0 = performance.now();
          answer = await runSql(sc.session, q.sql);
          seconds.push((performance.now() - t0) / 1000);
        }
        const peak = pids.reduce<number>((t, p) => t + peakOf(p), 0);
        const diffs = compareAnswers(asAnswer(ref.q), answer!, { ordered: q.ordered });
        log(
          `${name} ${q.name} MicroSpark: ${seconds.map((s) => sec(s)).join(', ')}${diffs.length ? ' WRONG' : ''}`,
        );
        const microsparkSeconds = median(seconds);
        const referenceSeconds = median(ref.q.seconds);
        out.push({
          workload: name,
          query: q.name,
          reference: 'DuckDB',
          microsparkSeconds,
          referenceSeconds,
          ratio: microsparkSeconds / referenceSeconds,
          microsparkPeakBytes: peak,
          referencePeakBytes: ref.peak,
          memoryRatio: peak / ref.peak,
          correct: diffs.length === 0,
          target: name === 'D1' ? '≤ 4x' : '',
          ...(name === 'D1' && { met: diffs.length === 0 && microsparkSeconds / referenceSeconds <= 4 }),
          load: `${ref.load} / ${l}`,
          runs: { microspark: seconds, reference: ref.q.seconds },
          ...(diffs.length > 0 && { notes: diffs.slice(0, 5).join('; ') }),
        });
      }
    } finally {
      await sc.stop();
    }
    const g = geomean(out.map((r) => r.ratio!));
    const correct = out.every((r) => r.correct);
    const worst = Math.max(...out.map((r) => r.ratio!));
    const msPeak = Math.max(...out.map((r) => r.microsparkPeakBytes!));
    const refPeak = Math.max(...out.map((r) => r.referencePeakBytes!));
    rows.push(...out, {
      workload: name,
      query: `geometric mean (${format})`,
      reference: 'DuckDB',
      ratio: g,
      correct,
      target: name === 'D1' ? '≤ 2.0x, none > 4x' : '≤ 2.0x',
      met: correct && g <= 2 && (name === 'D2' || worst <= 4),
      load: out[0]?.load ?? load(),
      runs: { microspark: [], reference: [] },
    });
    if (name === 'D1')
      rows.push({
        workload: 'D1',
        query: 'peak memory (max over queries)',
        reference: 'DuckDB',
        microsparkPeakBytes: msPeak,
        referencePeakBytes: refPeak,
        memoryRatio: msPeak / refPeak,
        correct,
        target: 'memory ≤ 2x',
        met: msPeak / refPeak <= 2,
        load: out[0]?.load ?? load(),
        runs: { microspark: [], reference: [] },
        notes:
          'MicroSpark: VmHWM summed over the client and both workers; DuckDB: the child process’s max RSS',
      });
  };

  if (want('D1')) await versusDuckDb('D1', 'parquet');

  if (want('D3')) {
    const { dir } = await ensureTpch({ sf, format: 'parquet' });
    const queries = all.filter((q) => q.name === 'q1' || q.name === 'q6');
    const refs: Record<string, ChildReport> = {};
    for (const e of ['duckdb', 'polars', 'arquero'] as const) {
      refs[e] = await runChild(child, { engine: e, dir, format: 'parquet', queries, runs, threads: 2 });
      log(
        `D3 ${e}: ${refs[e].queries.map((q) => `${q.name} ${q.seconds.map((s) => sec(s)).join(', ')}`).join('; ')}`,
      );
    }
    const sc = await local();
    try {
      const pids = pidsOf(sc);
      for (const q of queries) {
        const l = load();
        for (const p of pids) resetPeak(p);
        const seconds: number[] = [];
        let answer: Answer | undefined;
        for (let r = 0; r < runs; r++) {
          const t0 = performance.now();
          answer = await (q.name === 'q1' ? q1DataFrame : q6DataFrame)(engine, sc.session, dir);
          seconds.push((performance.now() - t0) / 1000);
        }
        const peak = pids.reduce<number>((t, p) => t + peakOf(p), 0);
        const expected = asAnswer(refs.duckdb!.queries.find((x) => x.name === q.name)!);
        const ours = compareAnswers(expected, answer!, { ordered: true });
        log(
          `D3 ${q.name} MicroSpark: ${seconds.map((s) => sec(s)).join(', ')}${ours.length ? ' WRONG' : ''}`,
        );
        for (const e of ['polars', 'arquero'] as const) {
          const theirs = refs[e]!.queries.find((x) => x.name === q.name)!;
          const diffs = [...ours, ...compareAnswers(expected, asAnswer(theirs), { ordered: true })];
          const ratio = median(seconds) / median(theirs.seconds);
          rows.push({
            workload: 'D3',
            query: `${q.name} (DataFrame API)`,
            reference: e === 'polars' ? 'Polars' : 'arquero',
            microsparkSeconds: median(seconds),
            referenceSeconds: median(theirs.seconds),
            ratio,
            microsparkPeakBytes: peak,
            referencePeakBytes: refs[e]!.maxRssBytes,
            memoryRatio: peak / refs[e]!.maxRssBytes,
            correct: diffs.length === 0,
            target: e === 'arquero' ? '≤ 0.1x' : 'reported',
            ...(e === 'arquero' && { met: diffs.length === 0 && ratio <= 0.1 }),
            load: l,
            runs: { microspark: seconds, reference: theirs.seconds },
            ...(e === 'arquero' && {
              notes: `arquero loads the columns through nodejs-polars (Parquet → Arrow IPC): ${median(theirs.loadSeconds ?? []).toFixed(3)} s of its time; DuckDB alone: ${sec(median(refs.duckdb!.queries.find((x) => x.name === q.name)!.seconds))}`,
            }),
            ...(diffs.length > 0 && { notes: diffs.slice(0, 5).join('; ') }),
          });
        }
      }
    } finally {
      await sc.stop();
    }
  }

  if (want('D2')) await versusDuckDb('D2', 'csv');

  if (want('D5')) {
    const { dir } = await ensureTpch({ sf, format: 'parquet' });
    const l0 = load();
    const ref = await runChild(child, {
      engine: 'duckdb',
      dir,
      format: 'parquet',
      queries: all,
      runs: 1,
      threads: 2,
    });
    log(`D5 DuckDB: ${ref.queries.map((q) => `${q.name} ${sec(q.seconds[0])}`).join(', ')}`);
    const sc = await local();
    const out: SqlRow[] = [];
    const limit = (opts.d5LimitSeconds ?? 900) * 1000;
    try {
      await registerTpch(sc.session, dir, 'parquet');
      for (const q of all) {
        const l = load();
        const t0 = performance.now();
        let answer: Answer | undefined;
        let error: string | undefined;
        let timer: NodeJS.Timeout | undefined;
        try {
          answer = await Promise.race([
            runSql(sc.session, q.sql),
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => reject(new Error(`not finished after ${limit / 1000} s`)), limit);
            }),
          ]);
        } catch (e) {
          error = (e as Error).message.split('\n')[0];
        } finally {
          clearTimeout(timer);
        }
        const seconds = (performance.now() - t0) / 1000;
        const r = ref.queries.find((x) => x.name === q.name)!;
        const diffs = answer ? compareAnswers(asAnswer(r), answer, { ordered: q.ordered }) : [error!];
        log(`D5 ${q.name} MicroSpark: ${sec(seconds)}${diffs.length ? ` FAILED: ${diffs[0]}` : ''}`);
        out.push({
          workload: 'D5',
          query: q.name,
          reference: 'DuckDB',
          ...(answer && { microsparkSeconds: seconds }),
          referenceSeconds: r.seconds[0]!,
          ...(answer && { ratio: seconds / r.seconds[0]! }),
          correct: diffs.length === 0,
          target: 'finishes, equal',
          met: diffs.length === 0,
          load: `${l0} / ${l}`,
          runs: { microspark: answer ? [seconds] : [], reference: r.seconds },
          ...(diffs.length > 0 && { notes: diffs.slice(0, 5).join('; ') }),
        });
        if (error) break; // a query left running would skew the others: stop here
      }
    } finally {
      await sc.stop();
    }
    const ok = out.filter((r) => r.met).length;
    rows.push(...out, {
      workload: 'D5',
      query: `${ok} of ${all.length} finish with DuckDB's answers`,
      reference: 'DuckDB',
      ...(out.every((r) => r.ratio !== undefined) && { ratio: geomean(out.map((r) => r.ratio!)) }),
      correct: ok === all.length,
      target: '22 of 22',
      met: ok === all.length,
      load: l0,
      runs: { microspark: [], reference: [] },
      notes: 'one run per query; ratio: geometric mean',
    });
  }

  return {
    params: { sf, runs, workers: 2, duckdbThreads: 2, queries: six.map((q: TpchQuery) => q.name) },
    rows,
    table: sqlTable(rows),
  };
}
