/**
 * Faults injected into real worker daemons on 127.0.0.1: SIGSTOP, SIGKILL, all workers gone, the
 * client gone. Each test checks that the fault fired and counts what the engine did about it.
 * Timeouts are shortened (heartbeat 200 ms, dead after 1 s) so each test takes seconds.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MicroSpark, NoWorkersError } from '../../src/index.js';
import { spawnWorker, stopWorkers, type LocalWorker } from '../../src/client/local-cluster.js';
import { workerState } from '../support/worker-snapshot.js';

const FAST = { heartbeatMs: 200, deadAfterMs: 1000, leaseTtlMs: 3000, noWorkerGraceMs: 2000 } as const;
const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'microspark-chaos-'));

const contexts: MicroSpark[] = [];
const daemons: LocalWorker[] = [];
const pids: number[] = [];
afterEach(async () => {
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, 'SIGCONT');
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await Promise.all(contexts.splice(0).map((sc) => sc.stop()));
  await stopWorkers(daemons.splice(0), 1000);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function waitFor<T>(check: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function local(workers: number, slotsPerWorker?: number, cpusPerWorker?: number): Promise<MicroSpark> {
  const sc = await MicroSpark.local({
    workers,
    defaultParallelism: 3,
    ...FAST,
    ...(slotsPerWorker !== undefined && { slotsPerWorker }),
    ...(cpusPerWorker !== undefined && { cpusPerWorker }),
  });
  contexts.push(sc);
  return sc;
}

/** A task that takes `env.ms` per element (blocks its worker thread, as a slow computation would). */
const slow = (x: number, env: { ms: number }) => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, env.ms);
  return x * 2;
};

describe('chaos: worker faults', () => {
  it('SIGSTOP on a lease holder: the job is re-broadcast, another worker completes it, the late completion is refused', async () => {
    // Every task the victim claims runs at once (2 slots and 2 CPUs per worker, as before
    // workers had a CPU limit): its late completions then all come right after SIGCONT. With one
    // CPU per worker its second task would start only after the first, and under a loaded
    // machine's timing the wait below ran out once.
    const sc = await local(3, 2, 2);
    const cluster = sc.cluster!;
    const action = sc.parallelize([1, 2, 3, 4, 5, 6], 3).map(slow, { ms: 700 }).collect();
    const [, holder] = await waitFor(() => [...cluster.leases()][0]);
    const victim = sc.localWorkers.find((w) => w.node === holder)!;
    pids.push(victim.child.pid!);
    process.kill(victim.child.pid!, 'SIGSTOP');
    expect(await action).toEqual([2, 4, 6, 8, 10, 12]);
    // Not exact: how many leases the victim held when it stopped, and whether a renewal of another
    // worker's lease was late on a loaded machine, depend on timing (a one-slot variant that
    // counted exactly timed out waiting for the stale completion under CI load).
    expect(cluster.counters.reannounced).toBeGreaterThanOrEqual(1); // the fault fired and was handled
    process.kill(victim.child.pid!, 'SIGCONT');
    // The resumed worker finishes its old attempt and reports it: refused as stale, and counted.
    await waitFor(() => (cluster.jobCounters.staleCompletions >= 1 ? true : undefined));
    expect(cluster.jobCounters.staleCompletions).toBeGreaterThanOrEqual(1);
  });

  it('SIGKILL on a map output holder before the reducers fetch: the lost outputs are recomputed', async () => {
    const sc = await local(3);
    const cluster = sc.cluster!;
    // Map partition 5 is slow, so no reducer can start (and fetch) before it is done. The victim
    // is a worker that finished another map partition while partition 5 runs elsewhere: its
    // output is announced, and lost before any reducer reads it.
    const running = new Map<number, string>();
    let mapStage = -1;
    let victim: LocalWorker | undefined;
    sc.onProgress((e) => {
      if (e.type === 'stage' && e.kind === 'shuffle-map' && e.state === 'submitted') mapStage = e.stageId;
      if (e.type !== 'task' || e.stageId !== mapStage || victim !== undefined) return;
      if (e.state === 'running' && e.worker !== undefined) running.set(e.partition, e.worker);
      const slowOn = running.get(5);
      if (e.state !== 'done' || e.partition === 5 || slowOn === undefined || e.worker === slowOn) return;
      victim = sc.localWorkers.find((w) => w.node === e.worker);
      victim?.child.kill('SIGKILL'); // synchronous: partition 5 is still running
    });
    const words = Array.from({ length: 600 }, (_, i) => `w${i % 37}`);
    const counts = await sc
      .parallelize(words, 6)
      .mapPartitionsWithIndex(
        (i, it, env) => {
          if (i === 5) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, env.ms);
          return [...it].map((w) => [w, 1] as [string, number]);
        },
        { ms: 1500 },
      )
      .reduceByKey((a, b) => a + b, 3)
      .collectAsMap();
    expect(victim).toBeDefined(); // the fault fired
    expect(counts.size).toBe(37);
    for (let i = 0; i < 37; i++) expect(counts.get(`w${i}`)).toBe(i < 600 % 37 ? 17 : 16);
    // Not an exact count: the victim may have finished more map partitions than the client had
    // heard of when it died (their reports travel as job.event), and each of its stored outputs a
    // reducer then misses is recomputed; how many it finished by then depends on thread timing.
    expect(cluster.counters.mapOutputsRecomputed).toBeGreaterThanOrEqual(1);
  });

  it('all workers killed mid-action: the action rejects within the grace period plus a few seconds', async () => {
    const sc = await local(2);
    const cluster = sc.cluster!;
    const action = sc.parallelize([1, 2, 3, 4], 2).map(slow, { ms: 5000 }).collect();
    await waitFor(() => (cluster.leases().size > 0 ? true : undefined));
    const t0 = Date.now();
    for (const w of sc.localWorkers) w.child.kill('SIGKILL');
    const err = await action.then(
      () => undefined,
      (e: unknown) => e,
    );
    const elapsed = Date.now() - t0;
    expect(err).toBeInstanceOf(NoWorkersError);
    expect((err as Error).message).toMatch(/no live worker/);
    expect(elapsed).toBeLessThan(FAST.noWorkerGraceMs + FAST.deadAfterMs + 3000);
  });

  it('a worker refuses to bind a LAN address without a secret, and says how to set one', async () => {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(root, 'bin/microspark-worker.ts'), '--bind', '10.1.2.3'],
      {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, MICROSPARK_SECRET: '' },
      },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/requires a cluster secret/);
    expect(r.stderr).toMatch(/--secret-file|MICROSPARK_SECRET/);
  });
});

describe('chaos: the client dies', () => {
  it('within the timeout the workers hold none of its tasks or blocks', async () => {
    const started = await Promise.all(
      [0, 1].map(() =>
        spawnWorker({
          cluster: 'default',
          slots: 1,
          heartbeatMs: 200,
          deadAfterMs: 1000,
          readyTimeoutMs: 20_000,
        }),
      ),
    );
    daemons.push(...started);
    const script = join(dir, 'client.mts');
    writeFileSync(
      script,
      `import { MicroSpark } from ${JSON.stringify(join(root, 'src/index.ts'))};
       const sc = await MicroSpark.connect({ peers: ${JSON.stringify(started.map((w) => w.rpc.replace('tcp://', '')))}, minWorkers: 2, heartbeatMs: 200, deadAfterMs: 1000 });
       const cached = sc.parallelize(Array.from({ length: 100 }, (_, i) => i), 4).map((x) => x + 1).cache();
       await cached.count();
       void cached.map((x, env) => { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, env.ms); return x; }, { ms: 60000 }).collect();
       setTimeout(() => console.log('started'), 500);`,
    );
    const client = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    pids.push(client.pid!);
    await new Promise<void>((resolve, reject) => {
      client.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('started')) resolve();
      });
      client.on('exit', (code) => reject(new Error(`client exited early (${code})`)));
    });
    const snapshot = (w: LocalWorker) => workerState(w.rpc);
    const before = await Promise.all(started.map(snapshot));
    expect(before.reduce((s, r) => s + r.blocks, 0)).toBeGreaterThanOrEqual(4); // the cached partitions
    expect(before.some((r) => r.free === 0)).toBe(true); // a task of the client is running
    client.kill('SIGKILL');
    const t0 = Date.now();
    let after = await Promise.all(started.map(snapshot));
    while (!after.every((r) => r.blocks === 0 && r.free === r.slots) && Date.now() - t0 < 10_000) {
      await new Promise((r) => setTimeout(r, 200));
      after = await Promise.all(started.map(snapshot));
    }
    expect(after.map((r) => [r.blocks, r.free])).toEqual([
      [0, 1],
      [0, 1],
    ]);
    expect(Date.now() - t0).toBeLessThan(1000 + 5000);
  });
});
