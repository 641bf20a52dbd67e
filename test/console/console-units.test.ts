import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MicroSpark } from '../../src/index.js';
import { commonPrefix, complete, RDD_METHODS } from '../../src/console/completion.js';
import { check, ConsoleSyntaxError, evaluate, IncompleteInputError } from '../../src/console/evaluate.js';
import { formatBytes, formatError, formatValue, table } from '../../src/console/format.js';
import { appendHistory, HISTORY_MAX, loadHistory } from '../../src/console/history.js';
import { edit, emptyEditor, fullInput, insert } from '../../src/console/line-editor.js';
import { RemoteError, TaskFailedError } from '../../src/protocol/errors.js';
import { ConsoleSession } from '../../src/console/session.js';
import { captureConsole } from '../../src/console/start.js';

const g = globalThis as Record<string, unknown>;

describe('console evaluator', () => {
  it('keeps variables between inputs, erases types, and awaits at top level', async () => {
    expect(await evaluate('const evA: number = 20')).toBeUndefined();
    expect(await evaluate('let { evB, evC } = { evB: 1, evC: 2 }; evA + evB + evC')).toBe(23);
    expect(await evaluate('function evF(x: number): number { return x * 2 }')).toBeUndefined();
    expect(await evaluate('class EvK { v = 5 }')).toBeUndefined();
    expect(await evaluate('evF(new EvK().v)')).toBe(10);
    expect(await evaluate('await new Promise<number>((r) => setTimeout(() => r(evA), 5))')).toBe(20);
    expect(await evaluate('interface EvI { a: number }; type EvT = string')).toBeUndefined();
    expect(await evaluate('{ a: 1, b: [2] }')).toEqual({ a: 1, b: [2] });
    expect(await evaluate('if (evA > 1) { "big" } else { "small" }')).toBeUndefined();
    expect(g.evA).toBe(20);
    expect(await evaluate('import { basename as evBase } from "node:path"; evBase("/a/b.txt")')).toBe(
      'b.txt',
    );
    expect(await evaluate('import * as evOs from "node:os"; typeof evOs.cpus')).toBe('function');
    expect(await evaluate('(await import("node:path")).extname("x.ts")')).toBe('.ts');
  });

  it('tells an unfinished input from a wrong one', () => {
    for (const src of ['const x = [1,', 'foo(', 'if (a) {', 'sc.parallelize([1])\n  .map((x) =>']) {
      expect(() => check(src), src).toThrow(IncompleteInputError);
    }
    for (const src of ['const = 3', 'x +* 2', ')']) expect(() => check(src), src).toThrow(ConsoleSyntaxError);
    expect(() => check('export const q = 1')).toThrow(/export is for modules/);
  });

  it('rejects with the thrown error', async () => {
    await expect(evaluate('throw new RangeError("nope")')).rejects.toThrow(RangeError);
  });
});

describe('console evaluator: imports and line numbers', () => {
  let sc: MicroSpark;
  beforeAll(async () => {
    sc = await MicroSpark.inProcess();
    g.sc = sc;
  });
  afterAll(async () => {
    await sc.stop();
  });

  it('keeps an import for the inputs after it, even when its own input does not use it', async () => {
    expect(await evaluate("import { readFileSync as evRead } from 'node:fs'")).toBeUndefined();
    expect(await evaluate('import evPath, { sep as evSep } from "node:path"')).toBeUndefined();
    expect(typeof g.evRead).toBe('function');
    expect(await evaluate('evRead("package.json", "utf8").includes("microspark")')).toBe(true); // prettier-ignore
    expect(await evaluate('evPath.join("a", "b") + evSep')).toBe('a/b/');
    // A type-only import is still erased (there is nothing to import at run time).
    expect(await evaluate("import type { Stats as EvStats } from 'node:fs'")).toBeUndefined();
  });

  it('prints console.log output after the echoed input, and sc as one line', async () => {
    const session = new ConsoleSession(sc, { banner: 'test', onQuit: () => undefined });
    const restore = captureConsole(session);
    try {
      await session.submit('console.log("hi", 1); console.warn("careful"); 42');
      await session.submit('sc');
    } finally {
      restore();
      session.quit();
    }
    expect(session.state.log.slice(2).map((l) => [l.tone, l.text])).toEqual([
      ['input', '› console.log("hi", 1); console.warn("careful"); 42'],
      ['result', 'hi 1'],
      ['warn', 'careful'],
      ['result', '42'],
      ['input', '› sc'],
      ['result', 'MicroSpark(in-process, parallelism 2)'],
    ]);
    g.sc = sc;
  });

  it('numbers <console>:N by the line the user typed, whatever esbuild makes of it', async () => {
    const site = (s: unknown) => Number(/<console>:(\d+)$/.exec(String(s))?.[1]);
    const base = site(await evaluate('sc.parallelize([0]).creationSite'));
    expect(base).toBeGreaterThan(0);
    // esbuild spreads the function over 5 lines: the map after it is still on the typed line.
    const one = await evaluate(
      'const lnF = (x: number) => { const t = 1; if (t > 0) { return x + t; } return x; }; sc.parallelize([1]).map(lnF).creationSite',
    );
    expect(one).toBe(`map at <console>:${base + 1}`);
    const two = await evaluate(
      'const lnA = 1\nconst lnG = (x: number) => {\n  return x * 2;\n}\nsc.parallelize([2]).map(lnG).creationSite',
    );
    expect(two).toBe(`map at <console>:${base + 6}`);
    expect(await evaluate('sc.parallelize([3]).filter((x) => x > 0).creationSite')).toBe(
      `filter at <console>:${base + 7}`,
    );
  });
});

describe('console formatting', () => {
  const o = { maxRows: 3, maxCell: 10, width: 80 };
  it('draws pairs and Maps as tables, cut with a count', () => {
    expect(
      table(
        [
          ['a', 1],
          ['bb', 22],
        ],
        ['key', 'value'],
        o,
      ),
    ).toBe(
      ['┌─────┬───────┐', '│ key │ value │', '├─────┼───────┤', '│ a   │ 1     │', '│ bb  │ 22    │', '└─────┴───────┘'].join('\n'), // prettier-ignore
    );
    const cut = formatValue(
      [
        ['a', 1],
        ['b', 2],
        ['c', 3],
        ['d', 4],
        ['e', 5],
      ],
      o,
    );
    expect(cut.split('\n').at(-1)).toBe('… 2 more rows (5 in all)');
    expect(formatValue(new Map([['k', 'a very long value indeed']]), o)).toContain('│ a very lo… │');
    expect(formatValue([1, 2, 3, 4, 5], o)).toBe('[ 1, 2, 3 ]\n… 2 more items (5 in all)');
    expect(formatValue(42)).toBe('42');
  });

  it('prints RDDs by name, errors with the remote message and stack', async () => {
    const sc = await MicroSpark.inProcess();
    const rdd = sc.parallelize([1, 2]).map((x) => x);
    expect(formatValue(rdd)).toMatch(
      /^PythonRDD\[1\] at map at console-units\.test\.ts:\d+$|RDD\[\d+\] at map at/,
    );
    await sc.stop();
    const remote = new RemoteError(
      'TypeError',
      'x is not a function',
      'TypeError: x\n    at f (<anon>:1:2)\n    at g (<anon>:3:4)',
    );
    const e = new TaskFailedError('Task 1 in stage 2 failed 4 times', 2, 1, 4, remote);
    expect(formatError(e)).toBe(
      [
        'TaskFailedError: Task 1 in stage 2 failed 4 times',
        'Caused by: TypeError: x is not a function (on a worker)',
        '    at f (<anon>:1:2)',
        '    at g (<anon>:3:4)',
      ].join('\n'),
    );
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(3 * 1024 * 1024 * 1024)).toBe('3.0 GiB');
  });

  it('suggests the closest RDD method for a typo on an RDD, and only on an RDD', async () => {
    const sc = await MicroSpark.inProcess();
    g.sc = sc;
    try {
      await evaluate('const typoCounts = sc.parallelize([1, 2]); const typoObj = { a: 1 }');
      const printed = async (src: string): Promise<string> => {
        try {
          await evaluate(src);
        } catch (e) {
          return formatError(e);
        }
        throw new Error(`${src} did not throw`);
      };
      expect(await printed('typoCounts.fliter((x) => x > 1)')).toBe(
        'TypeError: typoCounts.fliter is not a function\n' +
          'typoCounts is an RDD, which has no method fliter. Did you mean filter?',
      );
      expect(await printed('typoCounts.reduceBykey((a, b) => a + b)')).toContain('Did you mean reduceByKey?');
      expect(await printed('sc.parallelize([1]).mapp((x) => x)')).toBe(
        'TypeError: sc.parallelize(...).mapp is not a function\n' +
          'sc.parallelize(...) is an RDD, which has no method mapp. Did you mean map?',
      );
      expect(await printed('sc.parallelize([1]).map((x) => x).colect()')).toContain('Did you mean collect?');
      // Not an RDD: the plain error.
      expect(await printed('typoObj.fliter()')).toBe('TypeError: typoObj.fliter is not a function');
      expect(await printed('typoCounts.zzzzzzzz()')).toBe(
        'TypeError: typoCounts.zzzzzzzz is not a function\ntypoCounts is an RDD, which has no method zzzzzzzz.',
      );
    } finally {
      delete g.sc;
      await sc.stop();
    }
  });
});

describe('console line editor', () => {
  const history = ['first', 'second'];
  it('inserts, moves, deletes and walks the history', () => {
    let s = insert(emptyEditor(2), 'abc');
    s = edit(s, '', { leftArrow: true }, history);
    s = edit(s, 'X', {}, history);
    expect([s.line, s.cursor]).toEqual(['abXc', 3]);
    s = edit(s, '', { delete: true }, history);
    expect([s.line, s.cursor]).toEqual(['abc', 2]);
    s = edit(s, 'a', { ctrl: true }, history);
    expect(s.cursor).toBe(0);
    s = edit(s, '', { upArrow: true }, history);
    expect(s.line).toBe('second');
    s = edit(s, '', { upArrow: true }, history);
    s = edit(s, '', { upArrow: true }, history);
    expect(s.line).toBe('first');
    s = edit(s, '', { downArrow: true }, history);
    s = edit(s, '', { downArrow: true }, history);
    expect([s.line, s.historyIndex]).toEqual(['abc', 2]);
    s = edit(s, 'w', { ctrl: true }, history);
    expect(s.line).toBe('');
    expect(fullInput({ ...s, pending: ['a(', '1,'], line: '2)' })).toBe('a(\n1,\n2)');
  });
});

describe('console completion', () => {
  beforeAll(() => {
    g.compCtx = { parallelize: () => 0, range: () => 0, textFile: () => 0 };
  });
  afterAll(() => {
    delete g.compCtx;
  });
  it('completes properties of a global, RDD methods after a call, and commands', () => {
    expect(complete('compCtx.par', 11)).toEqual({ start: 8, candidates: ['parallelize'] });
    expect(complete('compCtx.parallelize([1]).redu', 29).candidates).toEqual([
      'reduce',
      'reduceByKey',
      'reduceByKeyLocally',
    ]);
    expect(complete(':l', 2)).toEqual({ start: 0, candidates: [':lineage', ':load'] });
    expect(RDD_METHODS).toContain('flatMap');
    expect(RDD_METHODS).not.toContain('constructor');
    expect(commonPrefix(['reduceByKey', 'reduceByKeyLocally'])).toBe('reduceByKey');
  });
});

describe('console history', () => {
  it('survives sessions, keeps multi-line inputs, skips corrupt lines, and trims to the limit', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ms-hist-')), 'history');
    appendHistory(file, 'a');
    appendHistory(file, 'b(\n  1)');
    writeFileSync(file, readFileSync(file, 'utf8') + '{not json\n');
    expect(loadHistory(file)).toEqual(['a', 'b(\n  1)']);
    for (let i = 0; i < HISTORY_MAX + 5; i++) appendHistory(file, `e${i}`);
    const h = loadHistory(file);
    expect(h).toHaveLength(HISTORY_MAX);
    expect(h.at(-1)).toBe(`e${HISTORY_MAX + 4}`);
    expect(loadHistory(file)).toHaveLength(HISTORY_MAX);
    expect(loadHistory(join(file, 'missing'))).toEqual([]);
  });
});
