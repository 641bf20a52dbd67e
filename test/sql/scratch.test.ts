import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  chooseScratchDir,
  MIN_MEMORY_SCRATCH_BYTES,
  scratchDir,
  scratchPath,
  sweepScratch,
} from '../../src/sql/exec/scratch.js';

describe('SQL scratch directory', () => {
  it('takes the memory directory only when it exists, is writable and has room', () => {
    expect(chooseScratchDir('/nonexistent/microspark-shm', '/fallback')).toBe('/fallback');
    const dir = mkdtempSync(join(tmpdir(), 'microspark-scratch-test-'));
    try {
      const fs = statfsSync(dir);
      const roomy = fs.bavail * fs.bsize >= MIN_MEMORY_SCRATCH_BYTES;
      expect(chooseScratchDir(dir, '/fallback')).toBe(roomy ? dir : '/fallback');
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('names every scratch path uniquely inside the chosen directory', () => {
    const a = scratchPath('out.parquet');
    const b = scratchPath('out.parquet');
    expect(a).not.toBe(b);
    expect(a.startsWith(join(scratchDir(), `microspark-sql-${process.pid}-`))).toBe(true);
    expect(a.endsWith('-out.parquet')).toBe(true);
  });

  it('sweeps what processes no longer running left, and nothing else', () => {
    const dir = mkdtempSync(join(tmpdir(), 'microspark-sweep-test-'));
    try {
      // A pid that was a process and is gone: a child that has exited.
      const dead = Number(
        execFileSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }),
      );
      writeFileSync(join(dir, `microspark-sql-${dead}-1-3-out.parquet`), 'x');
      mkdirSync(join(dir, `microspark-sql-${dead}-2-4-out`));
      writeFileSync(join(dir, `microspark-sql-${dead}-2-4-out`, 'data_0.parquet'), 'x');
      writeFileSync(join(dir, `microspark-sql-${process.pid}-1-5-in-0.parquet`), 'x'); // alive: kept
      writeFileSync(join(dir, 'microspark-sql-notapid-x'), 'x'); // not ours: kept
      writeFileSync(join(dir, 'other-file'), 'x');
      expect(sweepScratch(dir)).toBe(2);
      expect(readdirSync(dir).sort()).toEqual(
        [`microspark-sql-${process.pid}-1-5-in-0.parquet`, 'microspark-sql-notapid-x', 'other-file'].sort(),
      );
      // The liveness test decides: told no process runs, this process's own file goes too; a
      // missing directory sweeps nothing.
      expect(sweepScratch(dir, () => false)).toBe(1);
      expect(sweepScratch(join(dir, 'nope'))).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
