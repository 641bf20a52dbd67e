/**
 * What tasks print with console.*: captured in the task (thread or process), attributed to the
 * worker and the task, delivered to the client as `log` progress events (over `task.log` from
 * workers, before the task's completion), and written to the client's stderr as
 * `[worker 233b22 task 3.0] …` unless `taskLogs: false`.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ProgressEvent } from '../../src/client/progress.js';
import { MicroSpark } from '../../src/index.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** Lines written to stderr while the spy is on (still written through). */
function spyStderr(): string[] {
  const written: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
    written.push(String(chunk));
    return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
  });
  return written;
}

type LogEvent = Extract<ProgressEvent, { type: 'log' }>;

/** Runs a job whose tasks print on both streams; returns its log events and the result stage id. */
async function printingJob(sc: MicroSpark): Promise<{ logs: LogEvent[]; stageId: number }> {
  const logs: LogEvent[] = [];
  let stageId = -1;
  const off = sc.onProgress((e) => {
    if (e.type === 'log') logs.push(e);
    if (e.type === 'stage' && e.kind === 'result' && e.state === 'submitted') stageId = e.stageId;
  });
  try {
    const out = await sc
      .parallelize([1, 2, 3, 4], 2)
      .map(async (x) => {
        // eslint-disable-next-line no-console -- the task's own output is what is tested
        console.log('task-line %d', x);
        await new Promise((r) => setTimeout(r, 1));
        // eslint-disable-next-line no-console -- the task's own output is what is tested
        console.error(`task-err ${x}\nsecond ${x}`);
        return x;
      })
      .collect();
    expect(out).toEqual([1, 2, 3, 4]);
  } finally {
    off();
  }
  return { logs, stageId };
}

const expectedLines = (p: number, xs: number[]) =>
  xs
    .flatMap((x) => [
      { stream: 'stdout', line: `task-line ${x}` },
      { stream: 'stderr', line: `task-err ${x}` },
      { stream: 'stderr', line: `second ${x}` },
    ])
    .map((l) => ({ ...l, partition: p }));

/** The events' lines per partition, in the order they came (x=1 and 2 in 0, 3 and 4 in 1). */
function byPartition(logs: LogEvent[]) {
  return [0, 1].map((p) =>
    logs.filter((e) => e.partition === p).map((e) => ({ stream: e.stream, line: e.line, partition: p })),
  );
}

describe('task logs', () => {
  it('on local workers: log events with the worker and task, and marked lines on stderr', async () => {
    const written = spyStderr();
    const sc = await MicroSpark.local({ workers: 1, slotsPerWorker: 1 });
    try {
      const { logs, stageId } = await printingJob(sc);
      // Every line arrived before the action resolved: the worker sends them before completing.
      expect(logs).toHaveLength(12);
      const node = sc.localWorkers[0]!.node;
      expect(new Set(logs.map((e) => `${e.worker} ${e.stageId} ${e.attempt}`))).toEqual(
        new Set([`${node} ${stageId} 0`]),
      );
      // Within a task the two streams keep their order (the async map runs x=1 and x=2 at once).
      const [p0, p1] = byPartition(logs);
      expect(p0!.filter((l) => l.stream === 'stdout')).toEqual(
        expectedLines(0, [1, 2]).filter((l) => l.stream === 'stdout'),
      );
      expect([...p0!].sort(cmp)).toEqual(expectedLines(0, [1, 2]).sort(cmp));
      expect([...p1!].sort(cmp)).toEqual(expectedLines(1, [3, 4]).sort(cmp));
      const short = node.slice(0, 6);
      const marked = written.filter(
        (l) => l.includes('task-line') || l.includes('task-err') || l.includes('second'),
      );
      expect([...marked].sort()).toEqual(
        [
          ...[1, 2].flatMap((x) =>
            [`task-line ${x}`, `task-err ${x}`, `second ${x}`].map(
              (l) => `[worker ${short} task 0.0] ${l}\n`,
            ),
          ),
          ...[3, 4].flatMap((x) =>
            [`task-line ${x}`, `task-err ${x}`, `second ${x}`].map(
              (l) => `[worker ${short} task 1.0] ${l}\n`,
            ),
          ),
        ].sort(),
      );
    } finally {
      await sc.stop();
    }
  });

  it('taskLogs: false silences the writer; the events still fire', async () => {
    const written = spyStderr();
    const sc = await MicroSpark.local({ workers: 1, slotsPerWorker: 1, taskLogs: false });
    try {
      const { logs } = await printingJob(sc);
      expect(logs).toHaveLength(12);
      expect(written.filter((l) => l.includes('task-line') || l.includes('task-err'))).toEqual([]);
    } finally {
      await sc.stop();
    }
  });

  it('in process: the same events, from worker `driver`, and the same marked lines', async () => {
    const written = spyStderr();
    const sc = await MicroSpark.inProcess();
    try {
      const { logs, stageId } = await printingJob(sc);
      expect(logs).toHaveLength(12);
      expect(new Set(logs.map((e) => `${e.worker} ${e.stageId} ${e.attempt}`))).toEqual(
        new Set([`driver ${stageId} 0`]),
      );
      const [p0, p1] = byPartition(logs);
      expect([...p0!].sort(cmp)).toEqual(expectedLines(0, [1, 2]).sort(cmp));
      expect([...p1!].sort(cmp)).toEqual(expectedLines(1, [3, 4]).sort(cmp));
      expect(written.filter((l) => l.includes('task-line')).sort()).toEqual([
        '[worker driver task 0.0] task-line 1\n',
        '[worker driver task 0.0] task-line 2\n',
        '[worker driver task 1.0] task-line 3\n',
        '[worker driver task 1.0] task-line 4\n',
      ]);
      // Outside a task console.* is untouched.
      expect(written.some((l) => l.startsWith('[worker driver') && !/task-|second/.test(l))).toBe(false);
    } finally {
      await sc.stop();
    }
    const silent = await MicroSpark.inProcess({ taskLogs: false });
    try {
      const before = written.length;
      const { logs } = await printingJob(silent);
      expect(logs).toHaveLength(12);
      expect(written.slice(before).filter((l) => l.includes('task-line'))).toEqual([]);
    } finally {
      await silent.stop();
    }
  });
});

function cmp(a: { stream: string; line: string }, b: { stream: string; line: string }): number {
  const x = `${a.stream} ${a.line}`;
  const y = `${b.stream} ${b.line}`;
  return x < y ? -1 : x > y ? 1 : 0;
}
