/**
 * W6 of `npm run bench`: functions in WebAssembly against the same functions in JavaScript, on the
 * same data, on a local cluster of two workers.
 *   - cheap: x * x + 1 over numbers; JS map, WASM element by element, WASM batched (one mapF64
 *     call per partition); target: batched at most 1.5x the JS time.
 *   - expensive: Levenshtein distance over pairs of strings; JS map against the C and Rust guests
 *     (one `distances` call per partition); reported, the WASM builds should be faster.
 * Every variant's answer is checked against JavaScript's.
 */
import { readFileSync } from 'node:fs';
import wabtInit from 'wabt';
import type { MicroSpark as MicroSparkType, WasmModule } from '../src/index.js';

/** A row of the bench table (the shape run.ts prints). */
export interface WasmRow {
  workload: string;
  description: string;
  microsparkSeconds?: number;
  plainSeconds?: number;
  ratio?: number;
  correct: boolean;
  target: string;
  met: boolean;
  runs: { microspark: number[]; plain: number[] };
  notes?: string;
}

/** What the workload needs from run.ts. */
export interface WasmBenchOptions {
  readonly MicroSpark: typeof MicroSparkType;
  readonly runs: number;
  readonly quick: boolean;
  /** Overrides the data sizes (a smoke run of the harness). */
  readonly sizes?: { readonly numbers: number; readonly pairs: number };
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function randomWord(seed: { s: number }, min: number, max: number): string {
  const next = () => (seed.s = (Math.imul(seed.s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const n = min + Math.floor(next() * (max - min + 1));
  let w = '';
  for (let i = 0; i < n; i++) w += String.fromCharCode(97 + Math.floor(next() * 8));
  return w;
}

async function time(
  runs: number,
  body: () => Promise<number>,
): Promise<{ seconds: number[]; answer: number }> {
  const seconds: number[] = [];
  let answer = NaN;
  await body(); // warm-up: threads instantiate the module, the functions compile
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    answer = await body();
    seconds.push((performance.now() - t0) / 1000);
  }
  return { seconds, answer };
}

/** Runs W6 (see module doc) and returns its rows. */
export async function wasmWorkloads({
  MicroSpark,
  runs,
  quick,
  sizes,
}: WasmBenchOptions): Promise<WasmRow[]> {
  const n = sizes?.numbers ?? (quick ? 1_000_000 : 4_000_000);
  const pairsN = sizes?.pairs ?? (quick ? 20_000 : 100_000);
  const wabt = await wabtInit();
  const mod = wabt.parseWat('guest.wat', readFileSync('test/wasm/fixtures/guest.wat', 'utf8'));
  const watBytes = new Uint8Array(mod.toBinary({}).buffer);
  mod.destroy();
  const sc = await MicroSpark.local({ workers: 2 });
  const rows: WasmRow[] = [];
  try {
    const parts = sc.defaultParallelism * 2;
    const numbers = sc
      .range(0, n, 1, parts)
      .map((i) => (i % 1000) / 10)
      .cache();
    await numbers.count();
    const g = await sc.wasm(watBytes, { name: 'g', maxMemoryMb: 256 });
    const js = await time(runs, () => numbers.map((x) => x * x + 1).sum());
    const each = await time(runs, () =>
      numbers.map((x, env: { g: WasmModule }) => env.g.score(x) as number, { g }).sum(),
    );
    const batched = await time(runs, () =>
      numbers.mapPartitions((it, env: { g: WasmModule }) => env.g.mapF64('score_all', it), { g }).sum(),
    );
    const row = (
      name: string,
      description: string,
      r: { seconds: number[]; answer: number },
      target: number | undefined,
    ): WasmRow => {
      const microsparkSeconds = median(r.seconds);
      const plainSeconds = median(js.seconds);
      const ratio = microsparkSeconds / plainSeconds;
      const correct = Math.abs(r.answer - js.answer) <= 1e-9 * Math.abs(js.answer);
      return {
        workload: name,
        description,
        microsparkSeconds,
        plainSeconds,
        ratio,
        correct,
        target: target === undefined ? 'reported' : `≤ ${target}x JS`,
        met: correct && (target === undefined || ratio <= target),
        runs: { microspark: r.seconds, plain: js.seconds },
        notes: 'plain = the same map in JavaScript on the same cluster',
      };
    };
    rows.push(row('W6a', `WASM x*x+1 element by element, ${n} numbers`, each, undefined));
    rows.push(row('W6b', `WASM x*x+1 batched (mapF64), ${n} numbers`, batched, 1.5));

    const seed = { s: 42 };
    const pairs = Array.from(
      { length: pairsN },
      () => [randomWord(seed, 10, 40), randomWord(seed, 10, 40)] as const,
    );
    const pairRdd = sc.parallelize(pairs, parts).cache();
    await pairRdd.count();
    const jsDist = await time(runs, () =>
      pairRdd
        .map(([a, b]) => {
          const row = Array.from({ length: b.length + 1 }, (_, j) => j);
          for (let i = 1; i <= a.length; i++) {
            let diag = row[0]!;
            row[0] = i;
            for (let j = 1; j <= b.length; j++) {
              const up = row[j]!;
              row[j] = Math.min(
                diag + (a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1),
                up + 1,
                row[j - 1]! + 1,
              );
              diag = up;
            }
          }
          return row[b.length]!;
        })
        .sum(),
    );
    for (const lang of ['c', 'rust'] as const) {
      const m = await sc.wasm(`test/wasm/fixtures/${lang}/strdist.wasm`, { maxMemoryMb: 256 });
      const r = await time(runs, () =>
        pairRdd
          .mapPartitions((it, env: { m: WasmModule }) => env.m.distances([...it]) as number[], { m })
          .sum(),
      );
      const microsparkSeconds = median(r.seconds);
      const plainSeconds = median(jsDist.seconds);
      const correct = r.answer === jsDist.answer;
      rows.push({
        workload: lang === 'c' ? 'W6c' : 'W6d',
        description: `Levenshtein over ${pairsN} pairs, ${lang === 'c' ? 'C' : 'Rust'} batched vs JS`,
        microsparkSeconds,
        plainSeconds,
        ratio: microsparkSeconds / plainSeconds,
        correct,
        target: '< 1x JS (reported)',
        met: correct && microsparkSeconds < plainSeconds,
        runs: { microspark: r.seconds, plain: jsDist.seconds },
        notes: 'plain = the same distance in JavaScript on the same cluster',
      });
    }
  } finally {
    await sc.stop();
  }
  return rows;
}
