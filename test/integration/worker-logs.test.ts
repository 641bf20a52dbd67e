/**
 * What worker daemons log: the join of their own `--peers` (the handler is attached before the
 * start-up HELLOs), claims, leases, completions and retries, at debug level, as JSON lines on
 * stderr. Two real daemons run a small shuffle; the lines are counted against what happened.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { MicroSpark } from '../../src/index.js';
import { workerEntry } from '../../src/client/local-cluster.js';

interface Daemon {
  readonly child: ChildProcess;
  readonly rpc: string;
  readonly node: string;
  readonly lines: Array<{ level: string; msg: string; [k: string]: unknown }>;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function start(peers: string[]): Promise<Daemon> {
  const entry = workerEntry();
  const args = [...entry.args, '--slots', '1', '--heartbeat-ms', '200', '--log-level', 'debug'];
  if (peers.length > 0) args.push('--peers', peers.join(','));
  const child = spawn(entry.command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const lines: Daemon['lines'] = [];
  createInterface({ input: child.stderr }).on('line', (l) => {
    try {
      lines.push(JSON.parse(l) as Daemon['lines'][number]);
    } catch {
      // not a log line
    }
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('daemon did not start')), 20_000);
    createInterface({ input: child.stdout }).on('line', (l) => {
      const m = JSON.parse(l) as { ready?: boolean; rpc: string; node: string };
      if (m.ready) {
        clearTimeout(timer);
        resolve({ child, rpc: m.rpc, node: m.node, lines });
      }
    });
  });
}

function stop(d: Daemon): Promise<void> {
  return new Promise((resolve) => {
    d.child.once('exit', () => resolve());
    d.child.kill('SIGTERM');
  });
}

describe('worker daemon logs', () => {
  it('logs its --peers joining, and every claim, lease and completion', async () => {
    const a = await start([]);
    const b = await start([a.rpc.replace('tcp://', '')]);
    const sc = await MicroSpark.connect({
      peers: [a.rpc.replace('tcp://', '')],
      minWorkers: 2,
      heartbeatMs: 200,
      deadAfterMs: 1000,
    });
    let counts: Map<number, number>;
    try {
      counts = await sc
        .parallelize(
          Array.from({ length: 40 }, (_, i) => i),
          4,
        )
        .map((x) => [x % 4, 1] as [number, number])
        .reduceByKey((x, y) => x + y, 2)
        .collectAsMap();
    } finally {
      await sc.stop();
    }
    expect([...counts].sort()).toEqual([
      [0, 10],
      [1, 10],
      [2, 10],
      [3, 10],
    ]);
    await Promise.all([stop(a), stop(b)]);

    // B's own static peer A joined while B started, and was logged.
    expect(b.lines.filter((l) => l.msg === 'peer joined' && l.node === a.node)).toHaveLength(1);
    const all = [...a.lines, ...b.lines];
    const by = (msg: string) => all.filter((l) => l.msg === msg);
    // The client posted 2 result tasks; each was claimed and completed exactly once.
    const resultJob = (l: Daemon['lines'][number]) => typeof l.job === 'string' && !l.job.startsWith('map:');
    expect(by('task claimed').filter(resultJob)).toHaveLength(2);
    expect(by('task done').filter(resultJob)).toHaveLength(2);
    // Every map output was leased and completed at a worker source.
    const maps = (msg: string) => new Set(by(msg).map((l) => String(l.job).split(':').pop()));
    expect(maps('lease granted')).toEqual(new Set(['0', '1', '2', '3']));
    expect(maps('map job completed')).toEqual(new Set(['0', '1', '2', '3']));
    // Every claim a worker logged ended in a logged completion (nothing failed).
    for (const d of [a, b]) {
      const claimed = d.lines.filter((l) => l.msg === 'task claimed').length;
      const ended = d.lines.filter((l) =>
        ['task done', 'completion refused as stale'].includes(l.msg),
      ).length;
      expect(ended).toBe(claimed);
    }
    expect(by('task failed')).toHaveLength(0);
  });
});
