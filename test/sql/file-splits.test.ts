import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { MicroSpark } from '../../src/index.js';
import { defaultFilePacking, packFiles } from '../../src/sql/physical/file-splits.js';

const MB = 1024 * 1024;

describe('packFiles (Spark FilePartition packing)', () => {
  it("twelve 16 MB files on four slots: four partitions of three files (TPC-H sf 1 lineitem's shape)", () => {
    const files = Array.from({ length: 12 }, (_, i) => `part-${String(i).padStart(5, '0')}.parquet`);
    const parts = packFiles(files, () => 16 * MB, defaultFilePacking(4));
    // maxSplit = min(128 MB, (12 * 20 MB) / 4) = 60 MB; each file counts 16 + 4 MB.
    expect(parts).toEqual([files.slice(0, 3), files.slice(3, 6), files.slice(6, 9), files.slice(9, 12)]);
  });

  it('keeps path order and whole files; a file bigger than the split is a partition alone', () => {
    const sizes: Record<string, number> = { a: 1 * MB, b: 300 * MB, c: 1 * MB, d: 1 * MB };
    const parts = packFiles(['a', 'b', 'c', 'd'], (f) => sizes[f]!, defaultFilePacking(2));
    // total 319 MB / 2 = 159.5 MB, capped at 128 MB.
    expect(parts).toEqual([['a'], ['b'], ['c', 'd']]);
  });

  it('small files: at least the open cost per split, so many tiny files are not one task each', () => {
    const files = Array.from({ length: 10 }, (_, i) => `f${i}`);
    const parts = packFiles(files, () => 1000, defaultFilePacking(4));
    // total 10 * (4 MB + 1000) / 4 ≈ 10 MB per split: two whole files (8 MB + 2000 B) and a third passes.
    expect(parts.map((p) => p.length)).toEqual([3, 3, 3, 1]);
    expect(parts.flat()).toEqual(files);
  });

  it('no files: one empty partition; one file: itself', () => {
    expect(packFiles([], () => 0, defaultFilePacking(4))).toEqual([[]]);
    expect(packFiles(['x'], () => 5 * MB, defaultFilePacking(4))).toEqual([['x']]);
  });

  it('settings: maxPartitionBytes caps a split, minPartitionNum raises the count', () => {
    const files = ['a', 'b', 'c', 'd'];
    const conf = { maxPartitionBytes: 10 * MB, openCostInBytes: 0, minPartitionNum: 1 };
    expect(packFiles(files, () => 4 * MB, conf)).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    expect(packFiles(files, () => 4 * MB, { ...conf, maxPartitionBytes: 128 * MB })).toEqual([files]);
    expect(
      packFiles(files, () => 4 * MB, { ...conf, maxPartitionBytes: 128 * MB, minPartitionNum: 4 }),
    ).toEqual(files.map((f) => [f]));
  });
});

describe('a scan partition of several files (in process)', () => {
  it('reads each file by column name and keeps file order; partitions follow the packing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'microspark-splits-'));
    const db = await DuckDBInstance.create(':memory:', {
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
    });
    const conn = await db.connect();
    const sc = await MicroSpark.inProcess({ defaultParallelism: 2 });
    try {
      // The second file has its columns the other way round.
      await conn.run(`COPY (SELECT 1 AS a, 'x' AS b UNION ALL SELECT 2, 'y') TO '${join(dir, 'p1.parquet')}' (FORMAT parquet)`); // prettier-ignore
      await conn.run(`COPY (SELECT 'z' AS b, 3 AS a) TO '${join(dir, 'p2.parquet')}' (FORMAT parquet)`);
      await conn.run(`COPY (SELECT 4 AS a, 'w' AS b) TO '${join(dir, 'p3.parquet')}' (FORMAT parquet)`);
      const df = await sc.session.read.parquet(dir);
      df.createOrReplaceTempView('t');
      // Three tiny files on two slots: a split of (4 MB + bytes) * 3 / 2, so p1 and p2 share one.
      const rows = await (await sc.session.sql('SELECT spark_partition_id() AS p, a, b FROM t')).collect();
      expect(rows).toEqual([
        { p: 0, a: 1, b: 'x' },
        { p: 0, a: 2, b: 'y' },
        { p: 0, a: 3, b: 'z' },
        { p: 1, a: 4, b: 'w' },
      ]);
      sc.session.conf.set('spark.sql.files.minPartitionNum', '3');
      const three = await (await sc.session.sql('SELECT spark_partition_id() AS p, a FROM t')).collect();
      expect(three).toEqual([
        { p: 0, a: 1 },
        { p: 0, a: 2 },
        { p: 1, a: 3 },
        { p: 2, a: 4 },
      ]);
    } finally {
      conn.closeSync();
      db.closeSync();
      await sc.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
