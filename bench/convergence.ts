/**
 * C1 of `npm run bench`: membership convergence on real processes. For 8, 16 and 32 worker
 * daemons on this machine (`MicroSpark.local`, one slot each), the time from the last worker
 * being ready (the client counts all of them) until every worker counts every other as a member,
 * read from each worker's `snapshot` with `hints` (which list every worker it knows); then a
 * word count on the cluster, checked against the in-process answer. Target: within 2 s.
 */
import { RpcClient } from '../src/partition-server/rpc.js';
import type { MicroSpark as MicroSparkType } from '../src/index.js';

/** A row of the bench table (the shape run.ts prints). */
export interface ConvergenceRow {
  workload: string;
  description: string;
  microsparkSeconds?: number;
  correct: boolean;
  target: string;
  met: boolean;
  runs: { microspark: number[]; plain: number[] };
  notes?: string;
}

const WORDS = 'a b c d e f g h a b c a b a the quick brown fox jumps over the lazy dog'.split(' ');

async function wordCount(sc: MicroSparkType, parts: number): Promise<Array<[string, number]>> {
  const words = Array.from({ length: 2000 }, (_, i) => WORDS[i % WORDS.length]!);
  const out = await sc
    .parallelize(words, parts)
    .map((w): [string, number] => [w, 1])
    .reduceByKey((a, b) => a + b, parts)
    .collect();
  return out.sort((x, y) => (x[0] < y[0] ? -1 : 1));
}

/** Runs C1 for each cluster size. */
export async function convergenceWorkloads(
  MicroSpark: typeof MicroSparkType,
  sizes: readonly number[] = [8, 16, 32],
): Promise<ConvergenceRow[]> {
  const inProcess = await MicroSpark.inProcess({ defaultParallelism: 4 });
  const expected = await wordCount(inProcess, 4);
  await inProcess.stop();
  const rows: ConvergenceRow[] = [];
  for (const n of sizes) {
    const sc = await MicroSpark.local({ workers: n, slotsPerWorker: 1, joinTimeoutMs: 120_000 });
    try {
      const ready = performance.now();
      const rpcs = sc.localWorkers.map((w) => new RpcClient(w.rpc));
      const nodes = new Set(sc.localWorkers.map((w) => w.node));
      let converged: number | undefined;
      let lagging = n;
      try {
        while (performance.now() - ready < 30_000) {
          const views = await Promise.all(
            rpcs.map((c) =>
              c.request({ op: 'snapshot', hints: true }, { timeoutMs: 5000 }).then(
                (r) => (r as { records: Array<{ kind: string; peer?: { node: string } }> }).records,
                () => [],
              ),
            ),
          );
          lagging = views.filter((records, i) => {
            const self = sc.localWorkers[i]!.node;
            const known = new Set(records.filter((r) => r.kind === 'peer').map((r) => r.peer!.node));
            return [...nodes].some((o) => o !== self && !known.has(o));
          }).length;
          if (lagging === 0) {
            converged = (performance.now() - ready) / 1000;
            break;
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      } finally {
        await Promise.all(rpcs.map((c) => c.close()));
      }
      const got = await wordCount(sc, Math.min(n, 16));
      const correct = JSON.stringify(got) === JSON.stringify(expected);
      console.log(
        `  C1 ${n} workers: ${converged === undefined ? `not converged in 30 s (${lagging} lagging)` : `converged ${converged.toFixed(2)} s after the last was ready`}; word count ${correct ? 'correct' : 'WRONG'}`,
      );
      rows.push({
        workload: `C1-${n}`,
        description: `${n} worker daemons: every worker knows every other, after the last is ready; then a word count`,
        ...(converged !== undefined && { microsparkSeconds: converged }),
        correct,
        target: 'converged ≤ 2 s, word count correct',
        met: correct && converged !== undefined && converged <= 2,
        runs: { microspark: converged === undefined ? [] : [converged], plain: [] },
      });
    } finally {
      await sc.stop();
    }
  }
  return rows;
}
