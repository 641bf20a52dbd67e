import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MicroSpark } from '../../src/index.js';
import { runCommand } from '../../src/console/commands.js';
import { evaluate } from '../../src/console/evaluate.js';
import { initialState, reduce, type ConsoleState } from '../../src/console/view-model.js';
import { modes } from '../support/modes.js';

describe.each(modes)('console commands ($name)', (mode) => {
  let sc: MicroSpark;
  let state: ConsoleState = initialState;
  let stop: () => void;
  beforeAll(async () => {
    sc = await mode.create(2);
    stop = sc.onProgress((event) => (state = reduce(state, { type: 'progress', event, now: Date.now() })));
    (globalThis as Record<string, unknown>).sc = sc;
  });
  afterAll(async () => {
    stop();
    delete (globalThis as Record<string, unknown>).sc;
    await sc.stop();
  });
  const run = async (line: string) => {
    const r = await runCommand(line, { sc, state });
    if (r.kind !== 'print') throw new Error(`${line} did not print`);
    return r;
  };

  it(':cache lists persisted RDDs with their level and where each partition is', async () => {
    expect((await run(':cache')).text).toMatch(/^no persisted RDDs/);
    const cached = sc.parallelize([1, 2, 3, 4], 2).setName('nums').cache();
    expect((await run(':cache')).text.split('\n')[1]).toMatch(/^nums\[\d+\]\s+Memory Serialized 1x Replicated\s+0\/2\s+0 B\s+\(not computed yet\)$/); // prettier-ignore
    expect(await cached.count()).toBe(4);
    const row = (await run(':cache')).text.split('\n')[1]!;
    expect(row).toMatch(/\s2\/2\s/);
    const holders =
      mode.name === 'inProcess'
        ? /in-process: 0,1$/
        : /127\.0\.0\.1:\d+: (0,1|0|1)(; 127\.0\.0\.1:\d+: (0|1))?$/;
    expect(row).toMatch(holders);
    cached.unpersist();
    expect((await run(':cache')).text).toMatch(/^no persisted RDDs/);
  });

  it(':jobs shows the finished actions with their stages and tasks', async () => {
    state = initialState;
    await sc.parallelize([1, 2, 3], 3).map((x) => [x % 2, x] as [number, number]).reduceByKey((a, b) => a + b, 2).collect(); // prettier-ignore
    const text = (await run(':jobs')).text;
    expect(text.split('\n').slice(0, 3)).toEqual(['no action running', '', 'finished:']);
    expect(text.split('\n')[4]).toMatch(
      /^\d+\s+collect at commands\.test\.ts:\d+\s+succeeded\s+[\d.]+ s\s+2\s+5\s+0$/,
    );
  });

  it(':lineage prints the debug string; :load runs a file; bad input explains', async () => {
    await evaluate('const cmdRdd = sc.parallelize([1, 2], 2).map((x) => x + 1)');
    expect((await run(':lineage cmdRdd')).text).toMatch(/^\(2\) MapPartitionsRDD\[\d+\] at map at <console>:\d+ \[\]\n \| {2}ParallelCollectionRDD/); // prettier-ignore
    expect(await run(':lineage 42')).toEqual({
      kind: 'print',
      tone: 'error',
      text: ':lineage needs an RDD; 42 is 42',
    });
    const dir = mkdtempSync(join(tmpdir(), 'ms-load-'));
    writeFileSync(
      join(dir, 'setup.ts'),
      'const loadedK: number = 7;\nsc.parallelize([1, 2, 3]).map((x, env) => x * env.k, { k: loadedK }).sum()\n',
    );
    const loaded = await run(`:load ${join(dir, 'setup.ts')}`);
    expect(loaded.text).toBe(`loaded ${join(dir, 'setup.ts')}\n42`);
    expect(await evaluate('loadedK')).toBe(7);
    expect((await run(':load /no/such/file.ts')).text).toBe('cannot read /no/such/file.ts: ENOENT');
    expect((await run(':frob')).text).toBe('unknown command :frob; :help lists them');
    expect(await runCommand(':quit', { sc, state })).toEqual({ kind: 'quit' });
  });
});
