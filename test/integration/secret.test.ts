import * as zmq from 'zeromq';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, MicroSpark, NoWorkersError } from '../../src/index.js';
import { spawnWorker, stopWorkers, type LocalWorker } from '../../src/client/local-cluster.js';
import { deriveCurveKeys, zapCounters } from '../../src/partition-server/curve.js';
import { RpcClient } from '../../src/partition-server/rpc.js';

const FAST = { heartbeatMs: 200, deadAfterMs: 1000 } as const;
const contexts: MicroSpark[] = [];
const daemons: LocalWorker[] = [];
afterEach(async () => {
  await Promise.all(contexts.splice(0).map((sc) => sc.stop()));
  await stopWorkers(daemons.splice(0), 1000);
});

async function worker(secret: string, clientRpc?: string): Promise<LocalWorker> {
  const w = await spawnWorker({
    cluster: 'default',
    slots: 1,
    readyTimeoutMs: 20_000,
    secret,
    ...FAST,
    ...(clientRpc && { clientRpc }),
  });
  daemons.push(w);
  return w;
}

describe('a cluster with a secret', () => {
  it('authenticates every connection and computes the same results', async () => {
    const sc = await MicroSpark.local({
      workers: 2,
      secret: 'correct horse',
      defaultParallelism: 3,
      ...FAST,
    });
    contexts.push(sc);
    const counts = await sc
      .parallelize(['a b', 'b c', 'c c'], 3)
      .flatMap((l) => l.split(' '))
      .map((w) => [w, 1] as [string, number])
      .reduceByKey((a, b) => a + b)
      .sortByKey()
      .collect();
    expect(counts).toEqual([
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ]);
    expect(zapCounters()?.accepted).toBeGreaterThanOrEqual(2); // the workers' connections, checked by ZAP
  });

  it('a client with the wrong secret finds no worker', async () => {
    const w = await worker('right secret');
    const err = await MicroSpark.connect({
      peers: [w.rpc.replace('tcp://', '')],
      secret: 'wrong secret',
      joinTimeoutMs: 2500,
      ...FAST,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NoWorkersError);
  });

  it('a worker with the wrong secret gets no job and no data', async () => {
    const good = await worker('right secret');
    const sc = await MicroSpark.connect({
      peers: [good.rpc.replace('tcp://', '')],
      secret: 'right secret',
      ...FAST,
    });
    contexts.push(sc);
    const rogue = await worker('wrong secret', sc.cluster!.node.identity.rpc);
    expect(
      await sc
        .parallelize([1, 2, 3, 4], 4)
        .map((x) => x * x)
        .collect(),
    ).toEqual([1, 4, 9, 16]);
    await new Promise((r) => setTimeout(r, 500));
    expect(sc.cluster!.workers().map((p) => p.node)).toEqual([good.node]);
    expect(sc.cluster!.workers().map((p) => p.node)).not.toContain(rogue.node);
    expect(sc.cluster!.jobCounters.grants).toBe(4); // all to the good worker

    // One that knows the server key but not the client key is refused by ZAP.
    const keys = deriveCurveKeys('right secret');
    const stranger = zmq.curveKeyPair();
    const refusedBefore = zapCounters()?.refused ?? 0;
    const impostor = new RpcClient(sc.cluster!.node.identity.rpc, {
      curve: { ...keys, clientPublicKey: stranger.publicKey, clientSecretKey: stranger.secretKey },
    });
    await expect(impostor.request({ op: 'snapshot' }, { timeoutMs: 800 })).rejects.toThrow(
      /timed out|no reply/i,
    );
    await impostor.close();
    expect(zapCounters()!.refused).toBeGreaterThan(refusedBefore);

    // And one without CURVE at all gets nothing either.
    const plain = new RpcClient(sc.cluster!.node.identity.rpc);
    await expect(plain.request({ op: 'snapshot' }, { timeoutMs: 800 })).rejects.toThrow(
      /timed out|no reply/i,
    );
    await plain.close();
  });

  it('binding a LAN address without a secret is refused with the fix', async () => {
    const saved = process.env.MICROSPARK_SECRET;
    delete process.env.MICROSPARK_SECRET;
    try {
      const err = await MicroSpark.connect({ bind: '10.1.2.3', minWorkers: 0 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(/requires a cluster secret.*MICROSPARK_SECRET/s);
    } finally {
      if (saved !== undefined) process.env.MICROSPARK_SECRET = saved;
    }
  });
});
