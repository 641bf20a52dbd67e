/**
 * Deterministic benchmark inputs, generated with mulberry32 (seed 42) and cached under bench/data/:
 * a text corpus (lines of about 10 words from a 50,000-word vocabulary with Zipf(1) frequencies)
 * and a `key,value` CSV of uniform integer pairs.
 */
import { createWriteStream, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { mulberry32 } from '../src/rdd/random.js';

/** Writes `bytes` (about) of corpus to `path` unless a file of at least that size is already there. */
export async function ensureCorpus(path: string, bytes: number, vocabularySize = 50_000): Promise<void> {
  if (existsSync(path) && statSync(path).size >= bytes) return;
  mkdirSync(dirname(path), { recursive: true });
  const rand = mulberry32(42);
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const vocab: string[] = [];
  const seen = new Set<string>();
  while (vocab.length < vocabularySize) {
    const len = 2 + Math.floor(rand() * 9);
    let w = '';
    for (let i = 0; i < len; i++) w += letters[Math.floor(rand() * 26)];
    if (!seen.has(w)) {
      seen.add(w);
      vocab.push(w);
    }
  }
  // Zipf(1): P(rank r) ∝ 1/r, sampled by binary search over the cumulative distribution.
  const cdf = new Float64Array(vocabularySize);
  let total = 0;
  for (let r = 0; r < vocabularySize; r++) cdf[r] = total += 1 / (r + 1);
  const pick = (): string => {
    const u = rand() * total;
    let lo = 0;
    let hi = vocabularySize - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return vocab[lo]!;
  };
  const tmp = `${path}.tmp`;
  const out = createWriteStream(tmp);
  let written = 0;
  while (written < bytes) {
    let chunk = '';
    for (let l = 0; l < 20_000; l++) {
      const n = 8 + Math.floor(rand() * 5);
      let line = pick();
      for (let i = 1; i < n; i++) line += ' ' + pick();
      chunk += line + '\n';
    }
    written += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolveEnd, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolveEnd())),
  );
  renameSync(tmp, path);
}

/**
 * Writes a `key,value` CSV of `lines` lines to `path` unless it is already there: keys uniform
 * integers in [0, 1e6), values uniform integers in [0, 1000), from mulberry32 (seed 42).
 */
export async function ensurePairsCsv(path: string, lines: number): Promise<void> {
  if (existsSync(path) && statSync(path).size > 0) return;
  mkdirSync(dirname(path), { recursive: true });
  const rand = mulberry32(42);
  const tmp = `${path}.tmp`;
  const out = createWriteStream(tmp);
  for (let done = 0; done < lines;) {
    let chunk = '';
    const n = Math.min(50_000, lines - done);
    for (let l = 0; l < n; l++) {
      const key = Math.floor(rand() * 1_000_000);
      const value = Math.floor(rand() * 1000);
      chunk += `${key},${value}\n`;
    }
    done += n;
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolveEnd, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolveEnd())),
  );
  renameSync(tmp, path);
}
