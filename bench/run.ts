/**
 * `npm run bench`: the five workloads of issue 5 (and W6, WebAssembly against JavaScript: bench/wasm.ts) on `MicroSpark.local({ workers: 2 })` against
 * plain single-process Node scripts, in one run, with the answers checked equal. Prints a table
 * (median of N runs, ratio to the plain script, peak memory summed over all processes) and writes
 * it to bench/results/<timestamp>.json and bench/results/latest.json.
 *
 *   npm run bench                          # 200 MB corpus, 10M-line CSV, 3 runs
 *   npm run bench -- --quick               # 20 MB, 1M lines, 1 run
 *   npm run bench -- --only W1,W4 --runs 5 --size 50 --lines 2000000 --no-write
 *   npm run bench -- --only D1,D4 --sf 0.1   # the SQL workloads (bench/sql/run-sql.ts)
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import type { ProgressEvent } from '../src/client/progress.js';
import { ensureCorpus, ensurePairsCsv } from './corpus.js';
import type { PlainReport } from './plain.js';
import { SQL_WORKLOADS, runSqlBenchmarks } from './sql/run-sql.js';
import { sortPairs, sumByKey, wordCount, wordCountAsync, type Answer } from './workloads.js';
import { convergenceWorkloads } from './convergence.js';
import { loadEngine } from './engine.js';
import { wasmWorkloads } from './wasm.js';
import { cpuMsOfAll, quietMachine, settle } from './settle.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    size: { type: 'string' },
    lines: { type: 'string' },
    runs: { type: 'string' },
    only: { type: 'string' },
    latency: { type: 'string', default: '200' },
    'heartbeat-ms': { type: 'string', default: '250' },
    'dead-after-ms': { type: 'string', default: '1500' },
    slots: { type: 'string' },
    cpus: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
    src: { type: 'boolean', default: false },
    sf: { type: 'string', default: '1' },
  },
});

const engine = await loadEngine(args.src);
const { MicroSpark } = engine;
type MicroSpark = import('../src/index.js').MicroSpark;

const sizeMb = Number(args.size ?? (args.quick ? 20 : 200));
const csvLines = Number(args.lines ?? (args.quick ? 1_000_000 : 10_000_000));
const runs = Number(args.runs ?? (args.quick ? 1 : 3));
const only = new Set(
  (args.only ?? `W1,W1A,W2,W3,W4,W5,W6,C1,${SQL_WORKLOADS.join(',')}`)
    .split(',')
    .map((s) => s.trim().toUpperCase()),
);
const latencyIterations = Number(args.latency);
const heartbeatMs = Number(args['heartbeat-ms']);
const deadAfterMs = Number(args['dead-after-ms']);
/** Task slots per worker daemon (`slotsPerWorker`). */
const slotsPerWorker = args.slots === undefined ? undefined : Number(args.slots);
/** Of those, JavaScript tasks run at once per worker (`cpusPerWorker`). */
const cpusPerWorker = args.cpus === undefined ? undefined : Number(args.cpus);
const corpusPath = `bench/data/corpus-${sizeMb}mb.txt`;
const csvPath = `bench/data/pairs-${csvLines}.csv`;

/** One row of the results table. */
interface Row {
  workload: string;
  description: string;
  microsparkSeconds?: number;
  plainSeconds?: number;
  ratio?: number;
  p50Ms?: number;
  p99Ms?: number;
  microsparkPeakBytes?: number;
  plainPeakBytes?: number;
  memoryRatio?: number;
  correct: boolean;
  target: string;
  met: boolean;
  runs: { microspark: number[]; plain: number[]; beside?: number[]; plainBeside?: number[] };
  notes?: string;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const percentile = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

/** Resets a process's peak RSS (VmHWM) to its current RSS; false where the kernel refuses. */
function resetPeak(pid: number | 'self'): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** VmHWM of a process, in bytes (0 if unreadable). */
function peakOf(pid: number | 'self'): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Summed VmHWM of processes, in bytes. */
function sumPeaks(pids: ReadonlyArray<number | 'self'>): number {
  let total = 0;
  for (const p of pids) total += peakOf(p);
  return total;
}

function pidsOf(sc: MicroSpark): Array<number | 'self'> {
  return ['self', ...sc.localWorkers.flatMap((w) => (w.child.pid === undefined ? [] : [w.child.pid]))];
}

const execFileP = promisify(execFile);

/**
 * How to run the plain scripts: as JavaScript compiled from bench/plain.ts (a plain Node script
 * carries no TypeScript loader), or through tsx with --src.
 */
function plainCommand(): string[] {
  if (args.src) return ['--import', 'tsx', 'bench/plain.ts'];
  const out = 'bench/data/plain';
  const js = join(out, 'plain.js');
  const newest = Math.max(statSync('bench/plain.ts').mtimeMs, statSync('bench/checksum.ts').mtimeMs);
  if (!existsSync(js) || statSync(js).mtimeMs < newest) {
    execFileSync(
      process.execPath,
      [
        'node_modules/typescript/bin/tsc',
        ...['--outDir', out, '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022'],
        ...['--strict', '--skipLibCheck', '--types', 'node', 'bench/plain.ts'],
      ],
      { stdio: 'inherit' },
    );
  }
  return [js];
}
const plainArgs = plainCommand();

async function plainRun(workload: string, file: string): Promise<PlainReport> {
  const { stdout } = await execFileP(process.execPath, [...plainArgs, workload, file], {
    maxBuffer: 1 << 20,
  });
  const last = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as PlainReport;
}

/** Runs a cluster workload once: seconds, summed peak memory, answer. */
async function clusterRun(
  sc: MicroSpark,
  body: (sc: MicroSpark) => Promise<() => Answer>,
): Promise<{ seconds: number; peakBytes: number; answer: Answer }> {
  const pids = pidsOf(sc);
  for (const p of pids) resetPeak(p);
  const t0 = performance.now();
  const finish = await body(sc);
  const seconds = (performance.now() - t0) / 1000;
  const peakBytes = sumPeaks(pids);
  return { seconds, peakBytes, answer: finish() };
}

const mb = (b?: number): string => (b === undefined ? '—' : `${(b / 1024 ** 2).toFixed(0)} MB`);
const sec = (s?: number): string => (s === undefined ? '—' : `${s.toFixed(2)} s`);

async function batchWorkload(
  name: string,
  description: string,
  file: string,
  body: (sc: MicroSpark, file: string) => Promise<() => Answer>,
  maxRatio: number,
  /**
   * Another workload run on the same cluster right after each MicroSpark run (W1 beside W1A),
   * and its plain script's name, run after it.
   */
  beside?: { body: (sc: MicroSpark, file: string) => Promise<() => Answer>; plain: string },
): Promise<Row> {
  // Plain and MicroSpark runs alternate, so that this machine's drift in speed (minutes long)
  // falls on both sides of the ratio; the idle cluster's heartbeats cost the plain runs nothing
  // measurable.
  const plain: PlainReport[] = [];
  await quietMachine();
  const sc = await MicroSpark.local({
    workers: 2,
    ...(slotsPerWorker && { slotsPerWorker }),
    ...(cpusPerWorker && { cpusPerWorker }),
  });
  const cluster: Array<{ seconds: number; peakBytes: number; answer: Answer }> = [];
  const besideRuns: Array<{ seconds: number; answer: Answer }> = [];
  const plainBeside: PlainReport[] = [];
  try {
    const daemons = pidsOf(sc).filter((p): p is number => p !== 'self');
    for (let r = 0; r < runs; r++) {
      await settle(daemons);
      const cpu0 = cpuMsOfAll(daemons);
      plain.push(await plainRun(name, file));
      const daemonsCpu = cpuMsOfAll(daemons) - cpu0;
      console.log(
        `  ${name} plain run ${r + 1}: ${sec(plain.at(-1).seconds)} (daemons' CPU meanwhile ${daemonsCpu} ms)`,
      );
      cluster.push(await clusterRun(sc, (s) => body(s, file)));
      console.log(`  ${name} MicroSpark run ${r + 1}: ${sec(cluster.at(-1).seconds)}`);
      if (beside) {
        await settle(daemons);
        besideRuns.push(await clusterRun(sc, (s) => beside.body(s, file)));
        console.log(`  ${name}: ${beside.plain} beside it, run ${r + 1}: ${sec(besideRuns.at(-1).seconds)}`);
        await settle(daemons);
        plainBeside.push(await plainRun(beside.plain, file));
        console.log(
          `  ${name}: ${beside.plain} plain beside it, run ${r + 1}: ${sec(plainBeside.at(-1).seconds)}`,
        );
      }
    }
  } finally {
    await sc.stop();
  }
  const correct = [...cluster, ...besideRuns, ...plainBeside.map((p) => ({ answer: p }))].every((c) =>
    plain.every((p) => p.digest === c.answer.digest && p.count === c.answer.count),
  );
  if (!correct) console.log(`  ${name}: ANSWERS DIFFER`, { plain: plain[0], microspark: cluster[0]!.answer });
  const microsparkSeconds = median(cluster.map((c) => c.seconds));
  const plainSeconds = median(plain.map((p) => p.seconds));
  const microsparkPeakBytes = Math.max(...cluster.map((c) => c.peakBytes));
  const plainPeakBytes = Math.max(...plain.map((p) => p.maxRssBytes));
  const ratio = microsparkSeconds / plainSeconds;
  const memoryRatio = microsparkPeakBytes / plainPeakBytes;
  // Every batch workload: at most twice the plain script's peak memory (issue 12).
  const memTarget = true;
  return {
    workload: name,
    description,
    microsparkSeconds,
    plainSeconds,
    ratio,
    microsparkPeakBytes,
    plainPeakBytes,
    memoryRatio,
    correct,
    target: `≤ ${maxRatio}x${memTarget ? ', memory ≤ 2x' : ''}`,
    met: correct && ratio <= maxRatio && (!memTarget || memoryRatio <= 2),
    runs: {
      microspark: cluster.map((c) => c.seconds),
      plain: plain.map((p) => p.seconds),
      ...(beside && {
        beside: besideRuns.map((c) => c.seconds),
        plainBeside: plainBeside.map((p) => p.seconds),
      }),
    },
  };
}

async function latencyWorkload(): Promise<Row> {
  const sc = await MicroSpark.local({
    workers: 2,
    ...(slotsPerWorker && { slotsPerWorker }),
    ...(cpusPerWorker && { cpusPerWorker }),
  });
  const times: number[] = [];
  let correct = true;
  try {
    const rdd = sc.parallelize([1, 2, 3, 4]);
    for (let i = 0; i < 20; i++) await rdd.count(); // warm-up
    for (let i = 0; i < latencyIterations; i++) {
      const t0 = performance.now();
      const n = await rdd.count();
      times.push(performance.now() - t0);
      if (n !== 4) correct = false;
    }
  } finally {
    await sc.stop();
  }
  const p50Ms = percentile(times, 50);
  const p99Ms = percentile(times, 99);
  return {
    workload: 'W4',
    description: `count() of a 4-element RDD, ${latencyIterations} times, warm`,
    p50Ms,
    p99Ms,
    correct,
    target: 'p50 ≤ 3 ms, p99 ≤ 10 ms',
    met: correct && p50Ms <= 3 && p99Ms <= 10,
    runs: { microspark: times, plain: [] },
  };
}

async function recoveryWorkload(w1: Row | undefined): Promise<Row> {
  const reference = await plainRun('W1', corpusPath);
  const seconds: number[] = [];
  const peaks: number[] = [];
  let correct = true;
  const notes: string[] = [];
  const warm: number[] = [];
  for (let r = 0; r < runs; r++) {
    const sc = await MicroSpark.local({
      workers: 2,
      ...(slotsPerWorker && { slotsPerWorker }),
      heartbeatMs,
      deadAfterMs,
    });
    try {
      // Warm the cluster as W1's median runs are: one unmeasured W1 first, then one measured on
      // the same cluster, the W1 this run is held against (this machine's speed drifts over minutes).
      await wordCount(sc, corpusPath);
      const w0 = performance.now();
      await wordCount(sc, corpusPath);
      warm.push((performance.now() - w0) / 1000);
      const victim = sc.localWorkers[1]!;
      let mapStage = -1;
      let mapTasks = 0;
      let done = 0;
      let victimDone = 0;
      let killedAt = -1;
      let victimPeak = 0;
      const t0 = performance.now();
      const off = sc.onProgress((e: ProgressEvent) => {
        if (e.type === 'stage' && e.kind === 'shuffle-map' && e.state === 'submitted' && mapStage < 0) {
          mapStage = e.stageId;
          mapTasks = e.tasks;
        }
        if (e.type !== 'task' || e.stageId !== mapStage || e.state !== 'done' || killedAt >= 0) return;
        done++;
        if (e.worker === victim.node) victimDone++;
        if (done >= Math.ceil(mapTasks / 2) && victimDone > 0) {
          killedAt = performance.now() - t0;
          victimPeak = victim.child.pid === undefined ? 0 : peakOf(victim.child.pid);
          victim.child.kill('SIGKILL');
        }
      });
      const pids = pidsOf(sc);
      for (const p of pids) resetPeak(p);
      const finish = await wordCount(sc, corpusPath);
      seconds.push((performance.now() - t0) / 1000);
      peaks.push(sumPeaks(pids) + victimPeak); // the killed worker's /proc entry is gone: its peak was read at the kill
      off();
      const answer = finish();
      const ok = killedAt >= 0 && answer.digest === reference.digest && answer.count === reference.count;
      if (!ok) correct = false;
      notes.push(
        `run ${r + 1}: killed worker after ${victimDone} of its / ${done} of ${mapTasks} map tasks at ${(killedAt / 1000).toFixed(2)} s (W1 just before on this cluster: ${sec(warm.at(-1))})`,
      );
      console.log(
        `  W5 MicroSpark run ${r + 1}: ${sec(seconds.at(-1))} (${notes.at(-1)})${ok ? '' : ' WRONG'}`,
      );
    } finally {
      await sc.stop();
    }
  }
  const microsparkSeconds = median(seconds);
  const w1s = median(warm);
  const allowed = w1s + deadAfterMs / 1000 + w1s / 4;
  return {
    workload: 'W5',
    description: `W1 on a warm cluster, one of its 2 workers SIGKILLed half way through the map stage (dead after ${deadAfterMs} ms, heartbeat ${heartbeatMs} ms)`,
    microsparkSeconds,
    plainSeconds: reference.seconds,
    ratio: microsparkSeconds / reference.seconds,
    microsparkPeakBytes: Math.max(...peaks),
    plainPeakBytes: reference.maxRssBytes,
    memoryRatio: Math.max(...peaks) / reference.maxRssBytes,
    correct,
    target: `correct, ≤ W1 + ${deadAfterMs / 1000} s + W1/4 = ${allowed.toFixed(2)} s (W1 run just before on the same cluster: ${sec(w1s)})`,
    met: correct && microsparkSeconds <= allowed,
    runs: { microspark: seconds, plain: [reference.seconds], beside: warm },
    notes: [
      `${(microsparkSeconds - w1s).toFixed(2)} s slower than the W1 runs just before it`,
      ...(w1?.microsparkSeconds === undefined
        ? []
        : [`${(microsparkSeconds - w1.microsparkSeconds).toFixed(2)} s slower than the W1 row`]),
      ...notes,
    ].join('; '),
  };
}

function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cpus: cpus.length,
    memoryBytes: os.totalmem(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
  };
}

function table(rows: readonly Row[]): string {
  const head = [
    '',
    'MicroSpark',
    'plain',
    'ratio',
    'peak mem (MicroSpark / plain)',
    'correct',
    'target',
    'met',
  ];
  const body = rows.map((r) => [
    r.workload,
    r.p50Ms !== undefined
      ? `p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms!.toFixed(2)} ms`
      : sec(r.microsparkSeconds),
    sec(r.plainSeconds),
    r.ratio === undefined ? '—' : `${r.ratio.toFixed(2)}x`,
    r.microsparkPeakBytes === undefined
      ? '—'
      : `${mb(r.microsparkPeakBytes)} / ${mb(r.plainPeakBytes)} (${r.memoryRatio!.toFixed(2)}x)`,
    r.correct ? 'yes' : 'NO',
    r.target,
    r.met ? 'yes' : 'no',
  ]);
  const all = [head, ...body];
  const widths = head.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  const line = (row: string[]) => `| ${row.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

const started = new Date();
console.log(
  `MicroSpark bench: corpus ${sizeMb} MB, CSV ${csvLines} lines, ${runs} run(s), workloads ${[...only].join(',')}`,
);
if (only.has('W1') || only.has('W1A') || only.has('W5')) await ensureCorpus(corpusPath, sizeMb * 1024 * 1024);
if (only.has('W2') || only.has('W3')) await ensurePairsCsv(csvPath, csvLines);

const rows: Row[] = [];
// W4 runs first: a latency measured while this harness still holds the garbage of the batch
// workloads (their answers, digests) would measure the harness's collector, not the engine.
const latency = only.has('W4') ? await latencyWorkload() : undefined;
if (only.has('W1'))
  rows.push(await batchWorkload('W1', `word count, ${sizeMb} MB text`, corpusPath, wordCount, 0.6));
if (only.has('W1A')) {
  // Its target is W1's own time (issue 12: within 10 %). This machine's speed drifts over
  // minutes, so W1 runs again on the same cluster right after each W1A run and W1A is taken
  // against those runs. Its plain script awaits the same function per line; the synchronous
  // plain script runs beside it too, to show what the async function itself costs.
  const row = await batchWorkload(
    'W1A',
    `W1 with an async map that awaits, once per line`,
    corpusPath,
    wordCountAsync,
    Infinity,
    { body: wordCount, plain: 'W1' },
  );
  const w1 = median(row.runs.beside ?? []);
  const plainSync = median(row.runs.plainBeside ?? []);
  // Each W1A run against the W1 run right after it: the median of those ratios (the pairs share
  // the machine's speed of the moment; medians of each side's runs need not).
  const paired = median(row.runs.microspark.map((s, i) => s / (row.runs.beside?.[i] ?? NaN)));
  row.target = `≤ W1 × 1.1 (each run against the W1 run beside it; W1's median ${sec(w1)}), memory ≤ 2x`;
  row.met = row.correct && paired <= 1.1 && (row.memoryRatio === undefined || row.memoryRatio <= 2);
  row.notes =
    `${((paired - 1) * 100).toFixed(1)} % against the W1 run beside each (runs: ${row.runs.microspark
      .map((s, i) => `${sec(s)} / ${sec(row.runs.beside?.[i])}`)
      .join(', ')}); ` +
    `the plain script with the async function: ${((median(row.runs.plain.map((s, i) => s / (row.runs.plainBeside?.[i] ?? NaN))) - 1) * 100).toFixed(1)} % against the synchronous one beside each (its median ${sec(plainSync)})`;
  rows.push(row);
}
if (only.has('W2'))
  rows.push(
    await batchWorkload('W2', `reduceByKey (sum per key), ${csvLines} lines`, csvPath, sumByKey, 0.7),
  );
if (only.has('W3'))
  rows.push(await batchWorkload('W3', `sortBy key then value, ${csvLines} lines`, csvPath, sortPairs, 0.6));
if (latency) rows.push(latency);
if (only.has('W5')) rows.push(await recoveryWorkload(rows.find((r) => r.workload === 'W1')));
if (only.has('W6')) rows.push(...(await wasmWorkloads({ MicroSpark, runs, quick: args.quick })));
if (only.has('C1')) rows.push(...(await convergenceWorkloads(MicroSpark)));
if (SQL_WORKLOADS.some((w) => only.has(w))) await quietMachine();
const sql = SQL_WORKLOADS.some((w) => only.has(w))
  ? await runSqlBenchmarks(engine, {
      sf: Number(args.sf),
      runs,
      only,
      latencyIterations,
      src: args.src,
      ...(slotsPerWorker && { slotsPerWorker }),
    })
  : undefined;

const result = {
  date: started.toISOString(),
  command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
  machine: machine(),
  params: {
    sizeMb,
    csvLines,
    runs,
    latencyIterations,
    heartbeatMs,
    deadAfterMs,
    workers: 2,
    slotsPerWorker: slotsPerWorker ?? os.availableParallelism(),
  },
  rows,
  table: table(rows),
  ...(sql && { sql }),
};
if (rows.length > 0) console.log(`\n${result.table}\n`);
for (const r of rows) if (r.notes) console.log(`${r.workload}: ${r.notes}`);
if (sql) console.log(`\nSQL (TPC-H sf ${sql.params.sf}):\n${sql.table}\n`);
console.log(
  `machine: ${result.machine.cpu} × ${result.machine.cpus}, ${mb(result.machine.memoryBytes)}, ${result.machine.os}, node ${result.machine.node}`,
);
if (!args['no-write']) {
  mkdirSync('bench/results', { recursive: true });
  const json = JSON.stringify(result, null, 2) + '\n';
  const file = `bench/results/${started.toISOString().replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, json);
  writeFileSync('bench/results/latest.json', json);
  console.log(`wrote ${file} and bench/results/latest.json`);
}
