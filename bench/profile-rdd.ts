/**
 * Profiles the RDD benchmark workloads (W1, W1A, W2, W3 of bench/workloads.ts) on
 * `MicroSpark.local({ workers: 2 })`: per run its time, each process's peak memory (VmHWM of the
 * client and each daemon), each process's CPU time, and per stage the tasks' run, CPU (their
 * threads' own) and GC times and each process's largest RSS while it ran.
 *
 *   npx tsx bench/profile-rdd.ts --only W1,W2 --runs 2 --size 50 --lines 2000000
 *     [--slots N] [--prof-workers DIR] [--node-flags '--max-semi-space-size=4'] [--src]
 *
 * `--prof-workers DIR` writes CPU profiles of the daemons and their task threads into DIR (Node
 * refuses --cpu-prof in NODE_OPTIONS, so the daemons are started through a wrapper that adds it).
 * The engine is the compiled build of bench/engine.ts (as `npm run bench` runs it); `--src` runs
 * the TypeScript sources through tsx.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ProgressEvent } from '../src/client/progress.js';
import { ensureCorpus, ensurePairsCsv } from './corpus.js';
import { loadEngine } from './engine.js';
import { sortPairs, sumByKey, wordCount, wordCountAsync } from './workloads.js';

const { values: args } = parseArgs({
  options: {
    only: { type: 'string', default: 'W1' },
    runs: { type: 'string', default: '2' },
    size: { type: 'string', default: '50' },
    lines: { type: 'string', default: '2000000' },
    slots: { type: 'string' },
    'prof-workers': { type: 'string' },
    /** Node flags for the daemons, space-separated (`--max-semi-space-size=4`). */
    'node-flags': { type: 'string' },
    src: { type: 'boolean', default: false },
  },
});
const { MicroSpark } = await loadEngine(args.src);

const corpus = `bench/data/corpus-${args.size}mb.txt`;
const csv = `bench/data/pairs-${args.lines}.csv`;
const workloads = {
  W1: [corpus, wordCount],
  W1A: [corpus, wordCountAsync],
  W2: [csv, sumByKey],
  W3: [csv, sortPairs],
} as const;
const only = args.only.split(',').map((s) => s.trim().toUpperCase()) as Array<keyof typeof workloads>;
if (only.some((w) => w === 'W1' || w === 'W1A')) await ensureCorpus(corpus, Number(args.size) * 1024 * 1024);
if (only.some((w) => w === 'W2' || w === 'W3')) await ensurePairsCsv(csv, Number(args.lines));

const profDir = args['prof-workers'];
const nodeFlags = [
  ...(profDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${resolve(profDir)}`]),
  ...(args['node-flags']?.split(' ').filter((f) => f.length > 0) ?? []),
];
if (nodeFlags.length > 0) {
  // The local cluster spawns its daemons with process.execPath: point it at a wrapper that adds the flags.
  const dir = resolve(profDir ?? 'bench/data');
  mkdirSync(dir, { recursive: true });
  const wrapper = join(dir, 'node-with-flags.sh');
  writeFileSync(wrapper, `#!/bin/sh\nexec ${process.execPath} ${nodeFlags.join(' ')} "$@"\n`);
  chmodSync(wrapper, 0o755);
  process.execPath = wrapper;
}

/** A /proc/<pid>/status field in MB (VmHWM: the peak RSS, VmRSS: the RSS now); 0 if unreadable. */
const status = (pid: number | 'self', field: 'VmHWM' | 'VmRSS'): number => {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
};
/** CPU seconds (user + system, all threads) a process has used so far; 0 if unreadable. */
const cpuSeconds = (pid: number | 'self'): number => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ)
  } catch {
    return 0;
  }
};
const peak = (pid: number | 'self'): number => status(pid, 'VmHWM');
const rss = (pid: number | 'self'): number => status(pid, 'VmRSS');
const resetPeak = (pid: number | 'self'): void => {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    // not permitted here: the peak is the process's lifetime peak
  }
};

const sc = await MicroSpark.local({
  workers: 2,
  ...(args.slots !== undefined && { slotsPerWorker: Number(args.slots) }),
});
try {
  const pids: Array<number | 'self'> = [
    'self',
    ...sc.localWorkers.flatMap((w) => (w.child.pid === undefined ? [] : [w.child.pid])),
  ];
  for (const name of only) {
    const [file, body] = workloads[name];
    for (let r = 0; r < Number(args.runs); r++) {
      const stages = new Map<
        number,
        { kind: string; run: number[]; cpu: number[]; gc: number[]; rss: number[] }
      >();
      // The stages running now (from their first task's start to their completion).
      const running = new Set<number>();
      const off = sc.onProgress((e: ProgressEvent) => {
        if (e.type === 'stage' && e.state === 'submitted')
          stages.set(e.stageId, { kind: e.kind, run: [], cpu: [], gc: [], rss: pids.map(() => 0) });
        if (e.type === 'task' && e.state === 'running') running.add(e.stageId);
        if (e.type === 'stage' && e.state !== 'submitted') running.delete(e.stageId);
        if (e.type === 'task' && e.state === 'done' && e.metrics) {
          const s = stages.get(e.stageId);
          s?.run.push(e.metrics.executorRunTime);
          s?.cpu.push((e.metrics.executorCpuTime ?? NaN) / 1e6);
          s?.gc.push(e.metrics.gcTime);
        }
      });
      (globalThis as { gc?: () => void }).gc?.();
      for (const p of pids) resetPeak(p);
      // Each process's largest RSS while each stage ran, sampled every 50 ms.
      const sampler = setInterval(() => {
        const now = pids.map(rss);
        for (const id of running) {
          const r = stages.get(id)?.rss;
          if (r) for (let i = 0; i < r.length; i++) r[i] = Math.max(r[i]!, now[i]!);
        }
      }, 50);
      const cpu0 = pids.map(cpuSeconds);
      const t0 = performance.now();
      await body(sc, file).finally(() => clearInterval(sampler));
      const seconds = (performance.now() - t0) / 1000;
      const cpu = pids.map((p, i) => cpuSeconds(p) - cpu0[i]!);
      off();
      const peaks = pids.map(peak);
      console.log(
        `${name} run ${r + 1}: ${seconds.toFixed(2)} s, peak ${peaks.reduce((a, b) => a + b, 0).toFixed(0)} MB ` +
          `(client ${peaks.map((p) => p.toFixed(0)).join(' MB, daemons ')} MB), ` +
          `CPU ${cpu.map((c) => c.toFixed(2)).join(' s, daemons ')} s`,
      );
      const ms = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(' ');
      for (const [id, s] of stages)
        console.log(
          `  stage ${id} ${s.kind}: run [${ms(s.run)}] ms, cpu [${ms(s.cpu)}] ms, gc [${ms(s.gc)}] ms, ` +
            `largest RSS [${ms(s.rss)}] MB`,
        );
    }
  }
} finally {
  await sc.stop();
}
