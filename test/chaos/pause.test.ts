/**
 * A worker daemon paused (SIGSTOP) for longer than the dead-after timeout, then resumed: its
 * peers declared it dead and unsubscribed from its records; on resuming it says HELLO again and
 * is re-admitted everywhere. A source never grants a lease to a worker it does not count as a
 * member. Heartbeat 200 ms, dead after 1 s.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MicroSpark } from '../../src/index.js';
import { spawnWorker, stopWorkers, type LocalWorker } from '../../src/client/local-cluster.js';
import { RpcClient } from '../../src/partition-server/rpc.js';

const FAST = { heartbeatMs: 200, deadAfterMs: 1000 } as const;

const contexts: MicroSpark[] = [];
const daemons: LocalWorker[] = [];
afterEach(async () => {
  for (const d of daemons) {
    try {
      process.kill(d.child.pid!, 'SIGCONT');
    } catch {
      // already gone
    }
  }
  await Promise.all(contexts.splice(0).map((sc) => sc.stop()));
  await stopWorkers(daemons.splice(0), 1000);
});

/** The records a peer at `rpc` serves in its snapshot, with its membership hints. */
async function snapshot(rpc: string): Promise<Array<{ kind: string; [k: string]: unknown }>> {
  const client = new RpcClient(rpc);
  try {
    const r = (await client.request({ op: 'snapshot', hints: true }, { timeoutMs: 2000 })) as {
      records: Array<{ kind: string; [k: string]: unknown }>;
    };
    return r.records;
  } finally {
    await client.close();
  }
}

/** The workers a peer says it knows (its snapshot's membership hints). */
async function knownWorkers(rpc: string): Promise<string[]> {
  return (await snapshot(rpc))
    .filter((r) => r.kind === 'peer')
    .map((r) => (r.peer as { node: string }).node)
    .sort();
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > timeoutMs) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - t0;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('chaos: a worker paused longer than the dead-after timeout', () => {
  it('is re-admitted by every peer after SIGCONT, and runs tasks again', async () => {
    const common = { cluster: 'default', slots: 1, readyTimeoutMs: 20_000, ...FAST };
    const a = await spawnWorker(common);
    daemons.push(a);
    const b = await spawnWorker({ ...common, clientRpc: a.rpc }); // B: --peers A
    daemons.push(b);
    const sc = await MicroSpark.connect({
      peers: [a.rpc.replace('tcp://', '')],
      minWorkers: 2,
      ...FAST,
    });
    contexts.push(sc);
    const cluster = sc.cluster!;
    const clientKnows = () =>
      cluster
        .workers()
        .map((w) => w.node)
        .sort();
    const both = [a.node, b.node].sort();
    expect(clientKnows()).toEqual(both);
    expect(await knownWorkers(a.rpc)).toEqual([b.node]);

    process.kill(b.child.pid!, 'SIGSTOP');
    // The fault fired: A and the client declare B dead.
    await until(async () => clientKnows().length === 1 && (await knownWorkers(a.rpc)).length === 0, 5000);
    expect(clientKnows()).toEqual([a.node]);
    await sleep(1000);
    process.kill(b.child.pid!, 'SIGCONT');

    // Within a few heartbeats every side knows every worker again.
    const took = await until(
      async () =>
        clientKnows().length === 2 &&
        (await knownWorkers(a.rpc)).length === 1 &&
        (await knownWorkers(b.rpc)).length === 1,
      3000,
    );
    expect(took).toBeLessThan(3000);
    expect(clientKnows()).toEqual(both);
    expect(await knownWorkers(a.rpc)).toEqual([b.node]);
    expect(await knownWorkers(b.rpc)).toEqual([a.node]);

    // B runs tasks again, and a small shuffle is fast (no output from a holder nobody knows).
    const ran = new Set<string>();
    sc.onProgress((e) => {
      if (e.type === 'task' && e.state === 'done' && e.worker) ran.add(e.worker);
    });
    const t0 = Date.now();
    const counts = await sc
      .parallelize(
        Array.from({ length: 40 }, (_, i) => i),
        4,
      )
      .map((x) => [x % 4, 1] as [number, number])
      .reduceByKey((x, y) => x + y, 2)
      .collectAsMap();
    expect(Date.now() - t0).toBeLessThan(1500);
    expect([...counts].sort()).toEqual([
      [0, 10],
      [1, 10],
      [2, 10],
      [3, 10],
    ]);
    expect(cluster.counters.fetchFailures).toBe(0);
  });

  it('a source refuses to lease a job to a worker it does not count as a member', async () => {
    const a = await spawnWorker({ cluster: 'default', slots: 1, readyTimeoutMs: 20_000, ...FAST });
    daemons.push(a);
    const sc = await MicroSpark.connect({ peers: [a.rpc.replace('tcp://', '')], minWorkers: 1, ...FAST });
    contexts.push(sc);
    const cluster = sc.cluster!;
    // One slot, three slow tasks: two jobs stay open at the client for a while.
    const action = sc
      .parallelize([1, 2, 3], 3)
      .map(
        (x, env) => {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, env.ms);
          return x;
        },
        { ms: 600 },
      )
      .collect();
    let open: { jobId: string; attempt: number } | undefined;
    await until(async () => {
      const jobs = (await snapshot(cluster.node.identity.rpc)).filter((r) => r.kind === 'job');
      open = jobs[jobs.length - 1] as { jobId: string; attempt: number } | undefined;
      return open !== undefined;
    }, 5000);
    const intruder = new RpcClient(cluster.node.identity.rpc);
    try {
      const reply = await intruder.request(
        { op: 'job.claim', jobId: open!.jobId, attempt: open!.attempt, worker: 'not-a-member' },
        { timeoutMs: 2000 },
      );
      expect(reply).toEqual({ granted: false, reason: 'not-member' });
    } finally {
      await intruder.close();
    }
    expect(cluster.counters.claimsFromNonMembers).toBe(1);
    expect([...cluster.leases().values()].every((w) => w === a.node)).toBe(true);
    expect(await action).toEqual([1, 2, 3]);
  });
});
