/**
 * The plain single-process Node versions of the benchmark workloads, written as a user would
 * without MicroSpark. Run as a child process by bench/run.ts so that its peak memory is its own:
 * `tsx bench/plain.ts <W1|W2|W3> <path>`. Prints one JSON line: seconds, the answer's digest and
 * the process's peak RSS.
 */
import { open } from 'node:fs/promises';
import { combineChecksums, digestEntries, partChecksum } from './checksum.js';

/** What a plain run reports to the harness. */
export interface PlainReport {
  readonly seconds: number;
  readonly digest: string;
  readonly count: number;
  readonly maxRssBytes: number;
}

/**
 * Calls `each` with the lines of a file, a 16 MiB chunk's worth at a time (awaiting what it
 * returns before the next chunk); a line cut by a chunk's end goes with the next chunk.
 */
async function forEachChunk(file: string, each: (lines: string[]) => void | Promise<void>): Promise<void> {
  const fh = await open(file, 'r');
  const buf = Buffer.allocUnsafe(16 * 1024 * 1024);
  let rest = '';
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, buf.length, null);
    if (bytesRead === 0) break;
    const lines = (rest + buf.toString('utf8', 0, bytesRead)).split('\n');
    rest = lines.pop() ?? '';
    await each(lines);
  }
  if (rest.length > 0) await each([rest]);
  await fh.close();
}

/** Calls `each` with every line of a file. */
function forEachLine(file: string, each: (line: string) => void): Promise<void> {
  return forEachChunk(file, (lines) => {
    for (const line of lines) each(line);
  });
}

/** W1: word count with split + Map. */
export async function wordCount(file: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  await forEachLine(file, (line) => {
    for (const w of line.split(' ')) counts.set(w, (counts.get(w) ?? 0) + 1);
  });
  return counts;
}

/**
 * W1A's plain version: W1 with the same async function awaited once per line, 16 lines in flight
 * at a time in input order (as MicroSpark's async map runs it).
 */
export async function wordCountAsync(file: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const split = async (line: string) => {
    const words = await Promise.resolve(line.split(' '));
    return words;
  };
  const window: Array<Promise<string[]>> = [];
  const drain = async () => {
    for (const p of window) for (const w of await p) counts.set(w, (counts.get(w) ?? 0) + 1);
    window.length = 0;
  };
  await forEachChunk(file, async (lines) => {
    for (const line of lines) {
      window.push(split(line));
      if (window.length === 16) await drain();
    }
  });
  await drain();
  return counts;
}

/** W2: sum of values per key of the CSV. */
async function sumByKey(file: string): Promise<Map<number, number>> {
  const sums = new Map<number, number>();
  await forEachLine(file, (line) => {
    const [k, v] = line.split(',');
    const key = Number(k);
    sums.set(key, (sums.get(key) ?? 0) + Number(v));
  });
  return sums;
}

/** W3: the CSV's pairs sorted by key, then value. */
async function sortPairs(file: string): Promise<Array<[number, number]>> {
  const pairs: Array<[number, number]> = [];
  await forEachLine(file, (line) => {
    const [k, v] = line.split(',');
    pairs.push([Number(k), Number(v)]);
  });
  pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return pairs;
}

/** Runs one workload and returns its report (timing covers the computation, not the digest). */
export async function runPlain(workload: string, file: string): Promise<PlainReport> {
  const t0 = performance.now();
  let answer: { digest: string; count: number };
  switch (workload) {
    case 'W1':
    case 'W1A': {
      const counts = await (workload === 'W1' ? wordCount(file) : wordCountAsync(file));
      const seconds = (performance.now() - t0) / 1000;
      answer = digestEntries(counts);
      return { seconds, ...answer, maxRssBytes: process.resourceUsage().maxRSS * 1024 };
    }
    case 'W2': {
      const sums = await sumByKey(file);
      const seconds = (performance.now() - t0) / 1000;
      answer = digestEntries(sums);
      return { seconds, ...answer, maxRssBytes: process.resourceUsage().maxRSS * 1024 };
    }
    case 'W3': {
      const sorted = await sortPairs(file);
      const seconds = (performance.now() - t0) / 1000;
      const digest = combineChecksums([partChecksum(sorted)]);
      return { seconds, digest, count: sorted.length, maxRssBytes: process.resourceUsage().maxRSS * 1024 };
    }
    default:
      throw new Error(`no plain version of ${workload}`);
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  const [workload, file] = process.argv.slice(2);
  if (!workload || !file) throw new Error('usage: tsx bench/plain.ts <W1|W2|W3> <path>');
  console.log(JSON.stringify(await runPlain(workload, file)));
}
