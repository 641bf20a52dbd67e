import { describe, expect, it } from 'vitest';
import type { ClusterBackend } from '../../src/client/cluster-backend.js';
import { MicroSpark } from '../../src/client/context.js';
import {
  MemoryNetwork,
  type DeliveryPolicy,
  type MessageKind,
} from '../../src/partition-server/memory-transport.js';
import { simWorkerOptions, startClient } from '../../src/sim/cluster.js';
import { SimNetworkPolicy } from '../../src/sim/network.js';
import { SimScheduler } from '../../src/sim/scheduler.js';
import { Worker } from '../../src/worker/worker.js';

// The client backend and the worker over the memory transport, on simulated time (the
// simulation's scheduler is the injected clock of every peer): exact counts of claims, leases,
// re-posts and completions for one fault each. Each runs in well under a second of wall time.

/** Says which messages are lost (true: dropped before the network sees it). */
type Intercept = (from: string, to: string, kind: MessageKind, label: string) => boolean;

async function cluster(workers: number, intercept?: Intercept) {
  onceFired = false;
  const sched = new SimScheduler(1);
  const sim = new SimNetworkPolicy(sched, { drop: 0, duplicate: 0, maxDelayMs: 2 }, () => undefined);
  sim.faultsOn = false;
  let fired = 0;
  const policy: DeliveryPolicy = {
    send(from, to, kind, bytes, deliver, label) {
      if (intercept?.(from, to, kind, label)) {
        fired++;
        return; // lost
      }
      sim.send(from, to, kind, bytes, deliver, label);
    },
  };
  const net = new MemoryNetwork({ policy });
  const client = await startClient(net, sched, 'roles');
  const ws = new Map<string, Worker>();
  const hosts = new Map<string, ReturnType<MemoryNetwork['host']>>();
  for (let i = 0; i < workers; i++) {
    const name = `w${i}`;
    const clock = sched.clockFor(name);
    const host = net.host(name, clock);
    hosts.set(name, host);
    void Worker.start(simWorkerOptions('roles', name, 1, client.node.identity.rpc, host, clock)).then((w) =>
      ws.set(name, w),
    );
  }
  await sched.run(sched.now + 5000, () => ws.size === workers && client.workers().length === workers);
  expect(client.workers()).toHaveLength(workers);
  const sc = MicroSpark.overBackend(client, 2);
  /** Runs `action` to its end in simulated time; resolves with its value and the simulated ms. */
  const run = async <T>(action: () => Promise<T>): Promise<{ value: T; ms: number }> => {
    const t0 = sched.now;
    let out: { value: T } | undefined;
    let err: Error | undefined;
    void action().then(
      (value) => (out = { value }),
      (e: unknown) => (err = e instanceof Error ? e : new Error(`rejected with ${typeof e}`)),
    );
    await sched.run(t0 + 120_000, () => out !== undefined || err !== undefined);
    if (err !== undefined) throw err;
    if (!out) throw new Error('the action did not end within 120 s of simulated time');
    const ms = sched.now - t0;
    await sched.run(sched.now + 100); // the replies to the last completions land
    return { value: out.value, ms };
  };
  const crash = (name: string) => {
    hosts.get(name)?.crash();
    sched.crash(name);
    ws.delete(name);
  };
  return { sched, client, ws, sc, run, crash, fired: () => fired };
}

let onceFired = false;
/** True the first time it is called in a test (one message lost). */
const once = () => !onceFired && (onceFired = true);
const counts = (c: ClusterBackend) => ({ ...c.counters, ...c.jobCounters });

/** The client's counts after its one job ran twice: posted once, granted twice, re-posted once, completed once. */
function expectOneJobRetried(c: ClusterBackend, more: Record<string, number>): void {
  expect(counts(c)).toMatchObject({ tasksPosted: 1, tasksCompleted: 1, grants: 2, reposts: 1, ...more });
}

describe('client backend and worker over the memory transport (simulated time)', () => {
  it('one worker: each result partition is posted once, claimed once, completed once', async () => {
    const { client, ws, sc, run } = await cluster(1);
    const { value } = await run(() =>
      sc
        .parallelize([1, 2, 3, 4, 5, 6], 3)
        .map((x) => x * 2)
        .collect(),
    );
    expect(value).toEqual([2, 4, 6, 8, 10, 12]);
    expect(counts(client)).toMatchObject({
      tasksPosted: 3,
      tasksCompleted: 3,
      grants: 3,
      reposts: 0,
      reannounced: 0,
      staleCompletions: 0,
    });
    expect(ws.get('w0')!.counters).toMatchObject({ claimsGranted: 3, tasksSucceeded: 3, tasksFailed: 0 });
  });

  it('a lost completion: the worker reports a worker error, the job is posted again at once, not counted', async () => {
    const { client, ws, sc, run, fired } = await cluster(
      1,
      (from, _to, kind, label) => from === 'w0' && kind === 'request' && label === 'job.complete' && once(),
    );
    const { value, ms } = await run(() => sc.parallelize([1, 2, 3], 1).collect());
    expect(fired()).toBe(1);
    expect(value).toEqual([1, 2, 3]);
    expectOneJobRetried(client, {
      workerFailures: 1, // job.fail with a worker-error end: retried, not counted
      userFailures: 0,
      reannounced: 0,
    });
    // The completion timed out (2 s): the worker reported the task as failed, then ran it again.
    expect(ms).toBeGreaterThanOrEqual(2000);
    expect(ms).toBeLessThan(2100);
    expect(ws.get('w0')!.counters).toMatchObject({
      claimsTried: 2,
      claimsGranted: 2,
      tasksSucceeded: 1,
      tasksFailed: 1,
    });
  });

  it('a lost completion and a lost failure report: the lease expires and the job is posted again', async () => {
    let lost = 0;
    const { client, ws, sc, run } = await cluster(1, (from, _to, kind, label) => {
      const hit =
        from === 'w0' && kind === 'request' && (label === 'job.complete' || label === 'job.fail') && lost < 2;
      if (hit) lost++;
      return hit;
    });
    const { value, ms } = await run(() => sc.parallelize([1, 2, 3], 1).collect());
    expect(lost).toBe(2);
    expect(value).toEqual([1, 2, 3]);
    expectOneJobRetried(client, { reannounced: 1, workerFailures: 0, staleCompletions: 0 }); // the lease expired
    // Renewed (every 3 s) while the worker reported, until its failure report timed out (2 s
    // each: 4 s); the last renewal at 3 s, so it expired at 13 s, found by the next lease check.
    expect(ms).toBeGreaterThanOrEqual(13_000);
    expect(ms).toBeLessThan(15_000);
    expect(ws.get('w0')!.counters).toMatchObject({
      claimsGranted: 2,
      tasksSucceeded: 1,
      completionsRefused: 0,
    });
  });

  it("a holder's death: its lease is posted again when it is declared dead, before the lease would expire", async () => {
    let victim: string | undefined;
    const { client, ws, sc, run, crash, sched, fired } = await cluster(2, (_from, to, kind, label) => {
      if (victim !== undefined || kind !== 'reply' || label !== 'job.claim') return false;
      victim = to; // the grant is lost with its worker
      return true;
    });
    const done = run(() =>
      sc
        .parallelize([1, 2, 3], 1)
        .map((x) => x + 1)
        .collect(),
    );
    await sched.run(sched.now + 100, () => victim !== undefined);
    expect(victim).toBeDefined();
    crash(victim!);
    const { value, ms } = await done;
    expect(fired()).toBe(1);
    expect(value).toEqual([2, 3, 4]);
    // refusedClaims: the survivor's claims while the lost grant's lease stood ('taken')
    expectOneJobRetried(client, { reannounced: 1, refusedClaims: 2 });
    // Dead after 5 s of silence (checked each heartbeat), well before the 10 s lease.
    expect(ms).toBeGreaterThanOrEqual(5000);
    expect(ms).toBeLessThan(8000);
    const survivor = [...ws.values()][0]!;
    expect(ws.size).toBe(1);
    expect(survivor.counters).toMatchObject({ claimsTried: 3, claimsGranted: 1, tasksSucceeded: 1 });
  });
});
