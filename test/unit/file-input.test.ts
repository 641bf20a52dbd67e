/**
 * File inputs and outputs: textFile over files, directories, globs and lists; Hadoop-style splits
 * that never lose or duplicate a line; gzip; whole files, binary files and records;
 * saveAsTextFile round trips; pipe.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidOperationError, TaskFailedError, type MicroSpark } from '../../src/index.js';
import { inProcessMode, modes } from '../support/modes.js';
import { mulberry32 } from '../../src/rdd/random.js';

/** Deterministic PRNG (the engine's mulberry32), so a failing case can be reproduced from its seed. */
const rng = mulberry32;

/** The lines of a text read whole: split at \n, one trailing \r dropped, no line after a final newline. */
function linesOf(text: string): string[] {
  if (text.length === 0) return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

// ASCII, 2-byte (é, ß), 3-byte (€, 中) and 4-byte (😀, 𝄞: surrogate pairs) UTF-8 characters.
const ALPHABET = ['a', 'b', 'z', ' ', '0', '9', ',', 'é', 'ß', '€', '中', '😀', '𝄞'];
const WIDE = ['é', '€', '中', '😀', '𝄞'];

interface Generated {
  readonly text: string;
  readonly lines: string[];
  readonly desc: string;
}

/** A random text file: lines of varying length (some empty, some long), \n or \r\n, with or without a final newline. */
function generateFile(seed: number): Generated {
  const rand = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const lineCount = 20 + Math.floor(rand() * 120);
  const crlfMode = pick(['lf', 'crlf', 'mixed'] as const);
  const wideOnly = rand() < 0.25; // lines made only of multi-byte characters
  const lines: string[] = [];
  for (let i = 0; i < lineCount; i++) {
    const r = rand();
    const len = r < 0.15 ? 0 : r < 0.9 ? 1 + Math.floor(rand() * 40) : 100 + Math.floor(rand() * 400);
    let s = '';
    for (let j = 0; j < len; j++) s += wideOnly ? pick(WIDE) : pick(ALPHABET);
    lines.push(s);
  }
  const finalNewline = rand() < 0.5;
  let text = '';
  for (let i = 0; i < lines.length; i++) {
    const eol = crlfMode === 'lf' ? '\n' : crlfMode === 'crlf' ? '\r\n' : rand() < 0.5 ? '\n' : '\r\n';
    text += lines[i] + (i < lines.length - 1 || finalNewline ? eol : '');
  }
  // Without a final newline, a last empty line is not a line; the file simply ends after the previous newline.
  const expected = !finalNewline && lines[lines.length - 1] === '' ? lines.slice(0, -1) : lines;
  return {
    text,
    lines: expected,
    desc: `seed=${seed} lines=${lineCount} eol=${crlfMode} finalNewline=${finalNewline}`,
  };
}

describe.each(modes)('file input and output ($name)', (mode) => {
  let sc: MicroSpark;
  let root: string;
  let n = 0;
  /** A fresh directory under the suite's temp root. */
  const freshDir = (label: string): string => {
    const d = join(root, `${label}-${n++}`);
    mkdirSync(d, { recursive: true });
    return d;
  };
  /** A path under the suite's temp root that does not exist yet. */
  const freshPath = (label: string): string => join(root, `${label}-${n++}`);

  beforeAll(async () => {
    sc = await mode.create(4);
    root = mkdtempSync(join(tmpdir(), 'microspark-file-input-'));
  });
  afterAll(async () => {
    await sc.stop();
    rmSync(root, { recursive: true, force: true });
  });

  describe('textFile path forms', () => {
    it('reads one file', async () => {
      const dir = freshDir('one');
      const f = join(dir, 'a.txt');
      writeFileSync(f, 'hello\nworld\n');
      expect(await sc.textFile(f).collect()).toEqual(['hello', 'world']);
    });

    it('reads the visible files of a directory, in name order, skipping _ and . files', async () => {
      const dir = freshDir('dir');
      writeFileSync(join(dir, 'b.txt'), 'b1\nb2\n');
      writeFileSync(join(dir, 'a.txt'), 'a1\na2');
      writeFileSync(join(dir, '_SUCCESS'), 'not data\n');
      writeFileSync(join(dir, '_temporary'), 'not data\n');
      writeFileSync(join(dir, '.a.txt.crc'), 'not data\n');
      writeFileSync(join(dir, '.hidden'), 'not data\n');
      mkdirSync(join(dir, 'sub'));
      writeFileSync(join(dir, 'sub', 'c.txt'), 'nested, not read\n');
      expect(await sc.textFile(dir).collect()).toEqual(['a1', 'a2', 'b1', 'b2']);
      expect(await sc.textFile(dir + '/').collect()).toEqual(['a1', 'a2', 'b1', 'b2']);
    });

    it('reads the files matching a glob, skipping hidden ones', async () => {
      const dir = freshDir('glob');
      writeFileSync(join(dir, 'part-1.txt'), 'one\n');
      writeFileSync(join(dir, 'part-2.txt'), 'two\n');
      writeFileSync(join(dir, 'part-3.csv'), 'not matched\n');
      writeFileSync(join(dir, '_part-4.txt'), 'hidden\n');
      writeFileSync(join(dir, '.part-5.txt'), 'hidden\n');
      expect(await sc.textFile(join(dir, '*.txt')).collect()).toEqual(['one', 'two']);
      expect(await sc.textFile(join(dir, 'part-[12].*')).collect()).toEqual(['one', 'two']);
    });

    it('reads a comma-separated list of files, directories and globs, in list order', async () => {
      const dir = freshDir('list');
      const sub = join(dir, 'd');
      mkdirSync(sub);
      writeFileSync(join(dir, 'x.txt'), 'x\n');
      writeFileSync(join(dir, 'y.txt'), 'y\n');
      writeFileSync(join(sub, 'z1.txt'), 'z1\n');
      writeFileSync(join(sub, 'z2.txt'), 'z2\n');
      const spec = [join(dir, 'y.txt'), join(dir, 'x.txt'), sub].join(',');
      expect(await sc.textFile(spec).collect()).toEqual(['y', 'x', 'z1', 'z2']);
      expect(await sc.textFile(`${join(dir, 'x.txt')}, ${join(sub, 'z*.txt')}`).collect()).toEqual([
        'x',
        'z1',
        'z2',
      ]);
    });

    it('rejects a path that does not exist or matches nothing', () => {
      const dir = freshDir('missing');
      expect(() => sc.textFile(join(dir, 'nope.txt'))).toThrow(InvalidOperationError);
      expect(() => sc.textFile(join(dir, '*.nothing'))).toThrow(InvalidOperationError);
    });

    it('reads an empty file as no lines and a lone newline as one empty line', async () => {
      const dir = freshDir('edge');
      writeFileSync(join(dir, 'empty.txt'), '');
      writeFileSync(join(dir, 'newline.txt'), '\n');
      writeFileSync(join(dir, 'crlf.txt'), '\r\n\r\n');
      expect(await sc.textFile(join(dir, 'empty.txt'), 3).collect()).toEqual([]);
      expect(await sc.textFile(join(dir, 'newline.txt'), 3).collect()).toEqual(['']);
      expect(await sc.textFile(join(dir, 'crlf.txt'), 3).collect()).toEqual(['', '']);
    });
  });

  describe('textFile splits', () => {
    // Exhaustive in-process (the split logic); over the cluster a fixed sample runs the same
    // reading on the workers without 1,200 cluster actions.
    const partitionCounts =
      mode === inProcessMode ? Array.from({ length: 50 }, (_, i) => i + 1) : [1, 2, 3, 7, 13, 29, 50];

    it('property: for generated files and minPartitions 1..50, the lines equal the file read whole', async () => {
      const dir = freshDir('prop');
      for (let seed = 1; seed <= 24; seed++) {
        const g = generateFile(seed);
        const path = join(dir, `f${seed}.txt`);
        writeFileSync(path, g.text);
        const size = Buffer.byteLength(g.text);
        // The generator and the reference reading agree (the generator's own sanity check).
        expect(linesOf(g.text), g.desc).toEqual(g.lines);
        for (const minPartitions of partitionCounts) {
          const rdd = sc.textFile(path, minPartitions);
          const where = `${g.desc} size=${size} minPartitions=${minPartitions}`;
          expect(rdd.getNumPartitions(), where).toBeGreaterThanOrEqual(Math.min(minPartitions, size));
          expect(await rdd.collect(), where).toEqual(g.lines);
        }
      }
    }, 180_000);

    it('property: a directory of generated files reads as their lines in file order for any minPartitions', async () => {
      const dir = freshDir('prop-dir');
      const expected: string[] = [];
      for (let seed = 101; seed <= 106; seed++) {
        const g = generateFile(seed);
        writeFileSync(join(dir, `f${seed}.txt`), g.text);
        expected.push(...g.lines);
      }
      for (let minPartitions = 1; minPartitions <= 50; minPartitions++) {
        expect(await sc.textFile(dir, minPartitions).collect(), `minPartitions=${minPartitions}`).toEqual(
          expected,
        );
      }
    });

    it('splits through multi-byte characters without corrupting or duplicating them', async () => {
      const dir = freshDir('wide');
      // Every line is 4-byte characters only, so nearly every byte boundary is inside a character.
      const lines = Array.from({ length: 200 }, (_, i) => '😀'.repeat(i % 7) + '𝄞'.repeat((i * 3) % 5));
      const path = join(dir, 'emoji.txt');
      writeFileSync(path, lines.join('\n'));
      for (const minPartitions of [7, 13, 29, 50]) {
        const rdd = sc.textFile(path, minPartitions);
        expect(rdd.getNumPartitions()).toBeGreaterThanOrEqual(minPartitions);
        const parts = await rdd.glom().collect();
        expect(parts.flat(), `minPartitions=${minPartitions}`).toEqual(lines);
        for (const line of parts.flat()) expect(line).not.toContain('\uFFFD');
      }
    });

    it('handles lines much longer than a split and than the read chunk', async () => {
      const dir = freshDir('long');
      const long1 = 'x'.repeat(200_000);
      const long2 = '€'.repeat(90_000); // 270 000 bytes
      const lines = ['first', long1, 'middle', '', long2, 'last'];
      const path = join(dir, 'long.txt');
      writeFileSync(path, lines.join('\r\n') + '\r\n');
      for (const minPartitions of [2, 5, 17, 50]) {
        const rdd = sc.textFile(path, minPartitions);
        const parts = await rdd.glom().collect();
        expect(parts.flat(), `minPartitions=${minPartitions}`).toEqual(lines);
        // Splits that start and end inside a long line own no line.
        expect(parts.some((p) => p.length === 0)).toBe(minPartitions >= 5);
      }
    });

    it('defaults to min(defaultParallelism, 2) partitions for a single small file', () => {
      const dir = freshDir('default');
      const path = join(dir, 'd.txt');
      writeFileSync(path, Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n'));
      expect(sc.textFile(path).getNumPartitions()).toBe(2);
    });
  });

  describe('gzip', () => {
    it('reads .gz files whole, in one partition each, with or without a final newline', async () => {
      const dir = freshDir('gz');
      const g1 = generateFile(7);
      const g2 = generateFile(8);
      writeFileSync(join(dir, 'a.txt.gz'), gzipSync(g1.text));
      writeFileSync(join(dir, 'b.txt.gz'), gzipSync(g2.text));
      writeFileSync(join(dir, 'c.gz'), gzipSync('no final newline\r\nhere'));
      writeFileSync(join(dir, 'd.gz'), gzipSync(''));
      for (const minPartitions of [1, 4, 50]) {
        const rdd = sc.textFile(join(dir, 'a.txt.gz'), minPartitions);
        expect(rdd.getNumPartitions()).toBe(1);
        expect(await rdd.collect()).toEqual(g1.lines);
      }
      const all = sc.textFile(dir, 10);
      expect(all.getNumPartitions()).toBe(4);
      expect(await all.collect()).toEqual([...g1.lines, ...g2.lines, 'no final newline', 'here']);
    });
  });

  describe('whole files', () => {
    it('wholeTextFiles returns [path, content] for each visible file', async () => {
      const dir = freshDir('whole');
      const contents: Record<string, string> = {
        'a.txt': 'alpha\nbeta\n',
        'b.txt': 'é€😀\r\nno newline',
        'c.txt': '',
      };
      for (const [name, text] of Object.entries(contents)) writeFileSync(join(dir, name), text);
      writeFileSync(join(dir, '_SUCCESS'), '');
      writeFileSync(join(dir, 'd.txt.gz'), gzipSync('compressed\n'));
      for (const minPartitions of [1, 2, 3, 10]) {
        const pairs = await sc.wholeTextFiles(dir, minPartitions).collect();
        expect(pairs).toEqual([
          [resolve(dir, 'a.txt'), contents['a.txt']],
          [resolve(dir, 'b.txt'), contents['b.txt']],
          [resolve(dir, 'c.txt'), ''],
          [resolve(dir, 'd.txt.gz'), 'compressed\n'],
        ]);
      }
    });

    it('binaryFiles returns [path, bytes] with the exact bytes', async () => {
      const dir = freshDir('binary');
      const a = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const b = Buffer.from([0xff, 0x00, 0xfe, 0x0a, 0x0d]);
      writeFileSync(join(dir, 'a.bin'), a);
      writeFileSync(join(dir, 'b.bin'), b);
      const pairs = await sc.binaryFiles(dir).collect();
      expect(pairs.map(([p]) => p)).toEqual([resolve(dir, 'a.bin'), resolve(dir, 'b.bin')]);
      expect(Buffer.isBuffer(pairs[0]![1])).toBe(true);
      expect(Buffer.compare(pairs[0]![1], a)).toBe(0);
      expect(Buffer.compare(pairs[1]![1], b)).toBe(0);
      // The bytes can be used in a transformation.
      const sizes = await sc
        .binaryFiles(dir)
        .map(([, bytes]) => bytes.length)
        .collect();
      expect(sizes).toEqual([256, 5]);
    });

    it('binaryRecords returns every fixed-length record once, also when splits are not aligned', async () => {
      const dir = freshDir('records');
      const recordLength = 13;
      const count = 1001; // 13 013 bytes: the split boundary (about 6 506) is inside a record
      const file = Buffer.alloc(recordLength * count);
      for (let r = 0; r < count; r++)
        for (let j = 0; j < recordLength; j++) file[r * recordLength + j] = (r * 7 + j) & 0xff;
      const path = join(dir, 'records.bin');
      writeFileSync(path, file);
      const rdd = sc.binaryRecords(path, recordLength);
      expect(rdd.getNumPartitions()).toBeGreaterThanOrEqual(2);
      const records = await rdd.collect();
      expect(records).toHaveLength(count);
      for (let r = 0; r < count; r++) {
        expect(
          Buffer.compare(records[r]!, file.subarray(r * recordLength, (r + 1) * recordLength)),
          `record ${r}`,
        ).toBe(0);
      }
      expect(() => sc.binaryRecords(path, 0)).toThrow(InvalidOperationError);
    });

    it('binaryRecords over a directory returns the records of each file in order', async () => {
      const dir = freshDir('records-dir');
      const recordLength = 3;
      const expected: number[][] = [];
      [10, 7, 1001].forEach((count, f) => {
        const recs = Array.from({ length: count }, (_, r) => [f, r & 0xff, (r >> 8) & 0xff]);
        writeFileSync(join(dir, `f${f}.bin`), Buffer.from(recs.flat()));
        expected.push(...recs);
      });
      const records = await sc.binaryRecords(dir, recordLength).collect();
      expect(records.map((b) => [...b])).toEqual(expected);
    });
  });

  describe('saveAsTextFile', () => {
    it('writes one part file per partition and _SUCCESS; textFile reads it back', async () => {
      const out = freshPath('save');
      const data = ['a', 'b', 'é€😀', '', 'c', 'd', 'e'];
      await sc.parallelize(data, 3).saveAsTextFile(out);
      expect(readdirSync(out).sort()).toEqual(['_SUCCESS', 'part-00000', 'part-00001', 'part-00002']);
      expect(readFileSync(join(out, '_SUCCESS'), 'utf8')).toBe('');
      expect(readFileSync(join(out, 'part-00000'), 'utf8')).toBe('a\nb\n');
      expect(await sc.textFile(out).collect()).toEqual(data);
    });

    it('writes empty partitions as empty files', async () => {
      const out = freshPath('save-empty');
      await sc.parallelize(['only'], 3).saveAsTextFile(out);
      expect(readdirSync(out).sort()).toEqual(['_SUCCESS', 'part-00000', 'part-00001', 'part-00002']);
      expect(readFileSync(join(out, 'part-00000'), 'utf8')).toBe('');
      expect(await sc.textFile(out).collect()).toEqual(['only']);
    });

    it('writes non-strings as JSON', async () => {
      const out = freshPath('save-json');
      await sc
        .parallelize<unknown>([1, 2.5, true, null, { a: 1, b: [2, 'x'] }, ['k', 3]], 2)
        .saveAsTextFile(out);
      const lines = await sc.textFile(out).collect();
      expect(lines).toEqual(['1', '2.5', 'true', 'null', '{"a":1,"b":[2,"x"]}', '["k",3]']);
      expect(lines.slice(4).map((l) => JSON.parse(l) as unknown)).toEqual([{ a: 1, b: [2, 'x'] }, ['k', 3]]);
    });

    it('rejects an existing output directory', async () => {
      const out = freshDir('save-exists');
      await expect(sc.parallelize(['x']).saveAsTextFile(out)).rejects.toThrow(InvalidOperationError);
      await expect(sc.parallelize(['x']).saveAsTextFile(out)).rejects.toThrow(/already exists/);
      expect(readdirSync(out)).toEqual([]);
    });

    it('gzip writes .gz parts that textFile reads back', async () => {
      for (const codec of ['gzip', 'org.apache.hadoop.io.compress.GzipCodec']) {
        const out = freshPath('save-gz');
        const data = Array.from({ length: 50 }, (_, i) => `row ${i} ${'é'.repeat(i % 4)}`);
        await sc.parallelize(data, 4).saveAsTextFile(out, codec);
        expect(readdirSync(out).sort()).toEqual([
          '_SUCCESS',
          'part-00000.gz',
          'part-00001.gz',
          'part-00002.gz',
          'part-00003.gz',
        ]);
        expect(gunzipSync(readFileSync(join(out, 'part-00000.gz'))).toString('utf8')).toBe(
          data.slice(0, 12).join('\n') + '\n',
        );
        expect(await sc.textFile(out).collect()).toEqual(data);
      }
    });

    it('onWorkers: each task writes its own part at the absolute path, the same files as the default', async () => {
      const data = Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? { n: i } : `line ${i}`));
      const viaClient = freshPath('save-client');
      const onWorkers = freshPath('save-workers');
      await sc.parallelize<unknown>(data, 4).saveAsTextFile(viaClient);
      await sc.parallelize<unknown>(data, 4).saveAsTextFile(onWorkers, { onWorkers: true });
      const files = ['_SUCCESS', 'part-00000', 'part-00001', 'part-00002', 'part-00003'];
      expect(readdirSync(onWorkers).sort()).toEqual(files); // no _temporary left behind
      for (const f of files)
        expect(readFileSync(join(onWorkers, f), 'utf8')).toBe(readFileSync(join(viaClient, f), 'utf8'));
      const gz = freshPath('save-workers-gz');
      await sc.parallelize<unknown>(data, 2).saveAsTextFile(gz, { compression: 'gzip', onWorkers: true });
      expect(readdirSync(gz).sort()).toEqual(['_SUCCESS', 'part-00000.gz', 'part-00001.gz']);
      expect(await sc.textFile(gz).collect()).toEqual(await sc.textFile(viaClient).collect());
    });

    it('rejects an unsupported codec', async () => {
      await expect(sc.parallelize(['x']).saveAsTextFile(freshPath('save-codec'), 'snappy')).rejects.toThrow(
        InvalidOperationError,
      );
    });
  });

  describe('pipe', () => {
    it("pipes ['1', '2', '', '3'] through cat (PySpark's example)", async () => {
      expect(await sc.parallelize(['1', '2', '', '3']).pipe('cat').collect()).toEqual(['1', '2', '', '3']);
    });

    it('writes non-strings as text and passes environment variables', async () => {
      const rdd = sc.parallelize<unknown>([1, 'two', [3]], 2);
      expect(await rdd.pipe('cat').collect()).toEqual(['1', 'two', '[3]']);
      const prefixed = rdd.pipe('while IFS= read -r l; do printf "%s%s\\n" "$MS_PREFIX" "$l"; done', {
        MS_PREFIX: '> ',
      });
      expect(await prefixed.collect()).toEqual(['> 1', '> two', '> [3]']);
    });

    it('runs once per partition', async () => {
      const counts = await sc.parallelize(['a', 'b', 'c', 'd', 'e'], 3).pipe('wc -l').collect();
      expect(counts.map((c) => Number(c.trim()))).toEqual([1, 2, 2]);
    });

    it('ignores a failing exit code unless checkCode is set', async () => {
      expect(await sc.parallelize(['1', '2']).pipe('exit 3').collect()).toEqual([]);
      const err = await sc
        .parallelize(['1', '2'], 1)
        .pipe('exit 3', undefined, true)
        .collect()
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(TaskFailedError);
      const cause = (err as TaskFailedError).cause as { remoteName?: string; message: string };
      expect(cause.remoteName).toBe('InvalidOperationError');
      expect(cause.message).toMatch(/exit 3.*exited with error code 3/);
    });
  });
});
