/**
 * What tasks print on workers spawned by MicroSpark.local: console.log (the daemon's stdout)
 * reaches the client's stderr marked with the worker, as console.error's output does.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MicroSpark } from '../../src/index.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('task output with local workers', () => {
  it("console.log in a task reaches the client's stderr, marked with the worker", async () => {
    const written: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
      written.push(String(chunk));
      return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
    });
    const sc = await MicroSpark.local({ workers: 1, slotsPerWorker: 1 });
    try {
      const out = await sc
        .parallelize([1, 2, 3], 3)
        .map((x) => {
          // eslint-disable-next-line no-console -- the task's own output is what is tested
          console.log(`task-line ${x}`);
          return x;
        })
        .collect();
      expect(out).toEqual([1, 2, 3]);
      const short = sc.localWorkers[0]!.node.slice(0, 6);
      await vi.waitFor(() => expect(written.filter((l) => l.includes('task-line'))).toHaveLength(3));
      expect(written.filter((l) => l.includes('task-line')).sort()).toEqual([
        `[worker ${short}] task-line 1\n`,
        `[worker ${short}] task-line 2\n`,
        `[worker ${short}] task-line 3\n`,
      ]);
    } finally {
      await sc.stop();
    }
  });
});
