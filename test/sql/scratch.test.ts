import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  chooseScratchDir,
  MIN_MEMORY_SCRATCH_BYTES,
  scratchDir,
  scratchPath,
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
});
