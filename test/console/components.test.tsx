import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { MicroSpark } from '../../src/index.js';
import { App } from '../../src/console/components/App.js';
import { InputLine } from '../../src/console/components/InputLine.js';
import { bar, StageBars } from '../../src/console/components/StageBars.js';
import { WorkersPanel } from '../../src/console/components/WorkersPanel.js';
import { emptyEditor, insert } from '../../src/console/line-editor.js';
import { ConsoleSession } from '../../src/console/session.js';
import { fit, inputLines, lineText, stageLines, workerLines } from '../../src/console/live-region.js';
import { taskCounts, type ActionView, type StageView } from '../../src/console/view-model.js';

const stage = (over: Partial<StageView>): StageView => ({
  stageId: 0,
  kind: 'shuffle-map',
  name: 'map at wc.ts:3',
  tasks: 8,
  running: new Set([4, 5]),
  done: 4,
  retried: 1,
  failed: 0,
  state: 'running',
  startedAt: 1000,
  ...over,
});

const tick = () => new Promise((r) => setTimeout(r, 30));

// A bound on waiting, not a speed target: under a full CI run on a loaded machine the first
// in-process action took over 10 s once.
async function until(frame: () => string | undefined, re: RegExp, ms = 30_000): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const f = frame() ?? '';
    if (re.test(f)) return f;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${re}; last frame:\n${f}`);
    await tick();
  }
}

describe('console components', () => {
  it('StageBars draws one bar per stage with counts, elapsed time and name', () => {
    const action: ActionView = {
      actionId: 1,
      name: 'collect at wc.ts:5',
      startedAt: 1000,
      stages: [stage({}), stage({ stageId: 1, kind: 'result', name: 'collect at wc.ts:5', tasks: 2, running: new Set(), done: 0, retried: 0 })], // prettier-ignore
    };
    const { lastFrame } = render(<StageBars action={action} now={3500} />);
    expect(lastFrame()!.split('\n')).toEqual([
      '▶ collect at wc.ts:5 (2.5 s, Ctrl-C cancels)',
      `${'█'.repeat(12)}${'▒'.repeat(6)}${'░'.repeat(6)} 4/8  2 running, 2 waiting, 1 retried 2.5 s  stage 0: map at wc.ts:3`,
      `${'░'.repeat(24)} 0/2  0 running, 2 waiting 2.5 s  stage 1: collect at wc.ts:5`,
    ]);
    expect(render(<StageBars action={undefined} now={0} />).lastFrame()).toBe('');
    expect(bar(stage({ tasks: 0 }), 4)).toBe('████');
  });

  it('counts result tasks parked behind a running map stage as waiting, not running', () => {
    const result = stage({ stageId: 1, kind: 'result', name: 'count at wc.ts:5', tasks: 6, running: new Set([0, 1, 2, 3, 4, 5]), done: 0, retried: 0 }); // prettier-ignore
    const map = stage({ running: new Set([0, 1, 2, 3]), done: 0, retried: 0 });
    const mapRunning: ActionView = { actionId: 1, name: 'count at wc.ts:5', startedAt: 0, stages: [map, result] }; // prettier-ignore
    expect(taskCounts(result, mapRunning)).toEqual({ done: 0, running: 0, waiting: 6 });
    expect(taskCounts(map, mapRunning)).toEqual({ done: 0, running: 4, waiting: 4 });
    const mapDone = { ...mapRunning, stages: [{ ...map, state: 'completed' as const }, result] };
    expect(taskCounts(result, mapDone)).toEqual({ done: 0, running: 6, waiting: 0 });
    const lines = stageLines(mapRunning, 2000, 79).map(lineText);
    expect(lines[2]).toBe(`${'░'.repeat(15)} 0/6  0 running, 6 waiting 1.0 s  stage 1: count at wc.ts:5`);
  });

  it('fits every live row in the terminal: cut with …, never wrapped, and never too many', () => {
    const long = stage({ name: `map at ${'x'.repeat(100)}.ts:3` });
    const action: ActionView = { actionId: 1, name: `collect at ${'y'.repeat(100)}.ts:5`, startedAt: 0, stages: Array.from({ length: 9 }, (_, i) => ({ ...long, stageId: i })) }; // prettier-ignore
    for (const width of [79, 59, 39]) {
      const lines = stageLines(action, 500, width, 4).map(lineText);
      expect(lines).toHaveLength(5); // the header, 3 stages, and the count of the others
      expect(lines.filter((l) => [...l].length > width)).toEqual([]);
      expect(lines[0]!.endsWith('…')).toBe(true);
      expect(lines[4]).toBe('  … 6 more stages');
    }
    expect(lineText(fit([{ text: 'abc' }, { text: 'defgh' }], 5))).toBe('abcd…');
    expect(lineText(fit([{ text: 'abc' }], 3))).toBe('abc');
    const w = (i: number) => ({ node: `n${i}xxxxx`, endpoint: `tcp://127.0.0.1:${4000 + i}`, slots: 64, free: 32, blocks: 0, memoryBytes: 0, lastSeenMs: 0 }); // prettier-ignore
    const panel = workerLines(
      Array.from({ length: 10 }, (_, i) => w(i)),
      false,
      79,
      4,
    ).map(lineText);
    expect(panel).toHaveLength(4);
    expect(panel[0]).toBe('workers (10)');
    expect(panel[1]).toMatch(/^ {2}n0xxxx 127\.0\.0\.1:4000 +■{4}□{4} 32\/64 busy/);
    expect(panel[3]).toBe('  … 8 more workers (:workers)');
  });

  it('scrolls a long input line sideways to keep the cursor in view', () => {
    const e = insert(emptyEditor(0), 'sc.parallelize([1, 2, 3]).map((x) => x * 2).collect()');
    const [atEnd] = inputLines(e, false, 30).map(lineText);
    expect(atEnd).toBe('› …ap((x) => x * 2).collect() ');
    const [atStart] = inputLines({ ...e, cursor: 0 }, false, 30).map(lineText);
    expect(atStart).toBe('› sc.parallelize([1, 2, 3]).…');
    expect([...atEnd!].length).toBeLessThanOrEqual(30);
  });

  it('WorkersPanel lists workers with slots, blocks, memory and heartbeat', () => {
    const w = (node: string, port: number, free: number, lastSeenMs: number, suspectMs?: number) => ({
      node,
      endpoint: `tcp://127.0.0.1:${port}`,
      slots: 2,
      free,
      blocks: 3,
      memoryBytes: 2048,
      lastSeenMs,
      ...(suspectMs !== undefined && { suspectMs }),
    });
    // A SWIM member silent for 9 s is live until it is suspected; only a suspicion is flagged.
    const { lastFrame } = render(
      <WorkersPanel
        workers={[
          w('aaaaaa11', 4001, 1, 200),
          w('bbbbbb22', 4002, 2, 4200, 1250),
          w('cccccc33', 4003, 2, 9000),
        ]}
      />,
    );
    const lines = lastFrame()!
      .split('\n')
      .map((l) => l.replace(/\s+/g, ' ').trim());
    expect(lines).toEqual([
      'workers (3)',
      'aaaaaa 127.0.0.1:4001 ■□ 1/2 busy 3 blocks 2.0 KiB ♥ live',
      'bbbbbb 127.0.0.1:4002 □□ 0/2 busy 3 blocks 2.0 KiB ? suspect 1.3 s',
      'cccccc 127.0.0.1:4003 □□ 0/2 busy 3 blocks 2.0 KiB ♥ live',
    ]);
    expect(render(<WorkersPanel workers={[]} />).lastFrame()).toMatch(/none alive/);
  });

  it('InputLine shows the prompt, the pending lines and the cursor', () => {
    const e = { ...insert(emptyEditor(0), 'abc'), pending: ['sc.parallelize(['] };
    const { lastFrame } = render(<InputLine editor={e} busy={false} />);
    expect(lastFrame()!.split('\n')).toEqual(['› sc.parallelize([', '· abc']);
  });

  it('App evaluates typed input, continues an unfinished one, and prints tables and errors', async () => {
    const sc = await MicroSpark.inProcess();
    let quit = false;
    const session = new ConsoleSession(sc, { banner: 'in-process test', onQuit: () => (quit = true) });
    const app = render(<App session={session} />);
    try {
      await until(app.lastFrame, /in-process/);
      app.stdin.write('sc.parallelize([["a", 1], ["b", 2]]).');
      await tick();
      app.stdin.write('\r');
      await tick();
      app.stdin.write('mapValues((v) => v * 10).collect()');
      await tick();
      app.stdin.write('\r');
      const frame = await until(() => app.frames.join('\n'), /│ b\s+│ 20\s+│/);
      expect(frame).toContain('│ a   │ 10    │');
      app.stdin.write('nope.x');
      await tick();
      app.stdin.write('\r');
      await until(() => app.frames.join('\n'), /ReferenceError: nope is not defined/);
      app.stdin.write(':help');
      await tick();
      app.stdin.write('\r');
      await until(() => app.frames.join('\n'), /:lineage <expr>/);
      // Typed fast: text and a Tab in one burst; the Tab completes.
      app.stdin.write('sc.paralleli\t');
      await until(app.lastFrame, /› sc\.parallelize\s*$/m);
      app.stdin.write('([1, 2]).count()\r');
      await until(() => app.frames.join('\n'), /› sc\.parallelize\(\[1, 2\]\)\.count\(\)\n2\n/);
      app.stdin.write('\x04');
      await until(() => (quit ? 'quit' : ''), /quit/);
    } finally {
      app.unmount();
      session.quit();
      await sc.stop();
    }
  });
});
