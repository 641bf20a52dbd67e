import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { MicroSpark } from '../../src/index.js';
import { App } from '../../src/console/components/App.js';
import { InputLine } from '../../src/console/components/InputLine.js';
import { bar, StageBars } from '../../src/console/components/StageBars.js';
import { WorkersPanel } from '../../src/console/components/WorkersPanel.js';
import { emptyEditor, insert } from '../../src/console/line-editor.js';
import { ConsoleSession } from '../../src/console/session.js';
import type { ActionView, StageView } from '../../src/console/view-model.js';

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

async function until(frame: () => string | undefined, re: RegExp, ms = 10_000): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const f = frame() ?? '';
    if (re.test(f)) return f;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${re}; last frame:\n${f}`);
    await tick();
  }
}

describe('console components', () => {
  it('StageBars draws one bar per stage with counts, name and elapsed time', () => {
    const action: ActionView = {
      actionId: 1,
      name: 'collect at wc.ts:5',
      startedAt: 1000,
      stages: [stage({}), stage({ stageId: 1, kind: 'result', name: 'collect at wc.ts:5', tasks: 2, running: new Set(), done: 0, retried: 0 })], // prettier-ignore
    };
    const { lastFrame } = render(<StageBars action={action} now={3500} />);
    expect(lastFrame()!.split('\n')).toEqual([
      '▶ collect at wc.ts:5 (2.5 s, Ctrl-C cancels)',
      `${'█'.repeat(12)}${'▒'.repeat(6)}${'░'.repeat(6)} 4/8  2 running, 2 pending, 1 retried  stage 0: map at wc.ts:3 2.5 s`,
      `${'░'.repeat(24)} 0/2  0 running, 2 pending  stage 1: collect at wc.ts:5 2.5 s`,
    ]);
    expect(render(<StageBars action={undefined} now={0} />).lastFrame()).toBe('');
    expect(bar(stage({ tasks: 0 }), 4)).toBe('████');
  });

  it('WorkersPanel lists workers with slots, blocks, memory and heartbeat', () => {
    const w = (node: string, port: number, free: number, lastSeenMs: number) => ({
      node,
      endpoint: `tcp://127.0.0.1:${port}`,
      slots: 2,
      free,
      blocks: 3,
      memoryBytes: 2048,
      lastSeenMs,
    });
    const { lastFrame } = render(
      <WorkersPanel workers={[w('aaaaaa11', 4001, 1, 200), w('bbbbbb22', 4002, 2, 4200)]} />,
    );
    const lines = lastFrame()!
      .split('\n')
      .map((l) => l.replace(/\s+/g, ' ').trim());
    expect(lines).toEqual([
      'workers (2)',
      'aaaaaa 127.0.0.1:4001 ■□ 1/2 busy 3 blocks 2.0 KiB ♥ live',
      'bbbbbb 127.0.0.1:4002 □□ 0/2 busy 3 blocks 2.0 KiB ♥ 4.2 s ago',
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
      app.stdin.write('\x04');
      await until(() => (quit ? 'quit' : ''), /quit/);
    } finally {
      app.unmount();
      session.quit();
      await sc.stop();
    }
  });
});
