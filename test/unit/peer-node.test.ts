import { afterEach, describe, expect, it } from 'vitest';
import type { PeerIdentity, Record } from '../../src/protocol/messages.js';
import { PeerNode } from '../../src/partition-server/peer-node.js';

const started: PeerNode[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((n) => n.stop()));
});

async function start(role: 'worker' | 'client', cluster = 'test'): Promise<PeerNode> {
  let seq = 0;
  const ref: { self?: PeerNode } = {};
  const node = await PeerNode.start({
    role,
    cluster,
    host: '127.0.0.1',
    heartbeatMs: 50,
    deadAfterMs: 300,
    requestTimeoutMs: 1000,
    handler: () => Promise.resolve({ ok: true }),
    ownRecords: () =>
      ref.self
        ? [
            role === 'worker'
              ? {
                  kind: 'worker',
                  peer: ref.self.identity,
                  slots: 2,
                  free: 2,
                  blocks: 0,
                  memoryBytes: 0,
                  seq: seq++,
                }
              : { kind: 'client', peer: ref.self.identity, seq: seq++ },
          ]
        : [],
  });
  ref.self = node;
  started.push(node);
  return node;
}

function waitFor<T>(check: () => T | undefined, timeoutMs = 3000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const poll = () => {
      const v = check();
      if (v !== undefined) resolve(v);
      else if (Date.now() - t0 > timeoutMs) reject(new Error('timed out'));
      else setTimeout(poll, 10);
    };
    poll();
  });
}

describe('PeerNode membership', () => {
  it('admits a peer after HELLO on both sides and receives its heartbeat records', async () => {
    const a = await start('client');
    const b = await start('worker');
    const seen: Record[] = [];
    a.on('record', (r) => seen.push(r));
    const identity = await a.connect(b.identity.rpc);
    expect(identity?.node).toBe(b.identity.node);
    await waitFor(() => (b.peer(a.identity.node) ? true : undefined));
    await waitFor(() => (seen.some((r) => r.kind === 'worker') ? true : undefined));
    expect(a.peers().map((p) => p.identity.role)).toEqual(['worker']);
    expect(b.peers().map((p) => p.identity.role)).toEqual(['client']);
  });

  it('concurrent connects to a new peer share one HELLO and all get its identity', async () => {
    // Two tasks on one worker fetching from the same unknown peer once got `undefined` for the
    // second connect, and silently recomputed a cached partition.
    const a = await start('worker');
    const b = await start('worker');
    const ids = await Promise.all([
      a.connect(b.identity.rpc),
      a.connect(b.identity.rpc),
      a.connect(b.identity.rpc),
    ]);
    expect(ids.map((i) => i?.node)).toEqual([b.identity.node, b.identity.node, b.identity.node]);
    expect(a.peers()).toHaveLength(1);
    expect((await a.connect(b.identity.rpc))?.node).toBe(b.identity.node);
  });

  it('declares a silent peer dead after deadAfterMs', async () => {
    const a = await start('client');
    const b = await start('worker');
    const down: PeerIdentity[] = [];
    a.on('peer-down', (p) => down.push(p));
    await a.connect(b.identity.rpc);
    await b.stop();
    const t0 = Date.now();
    await waitFor(() => (down.length > 0 ? true : undefined));
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(down.map((p) => p.node)).toEqual([b.identity.node]);
    expect(a.peers()).toEqual([]);
    expect(a.counters.peersDeclaredDead).toBe(1);
  });

  it('refuses a HELLO from another cluster', async () => {
    const a = await start('client', 'one');
    const b = await start('worker', 'two');
    a.on('warning', () => undefined);
    expect(await a.connect(b.identity.rpc)).toBeUndefined();
    expect(b.counters.refusedHellos).toBe(1);
    expect(a.peers()).toEqual([]);
    expect(b.peers()).toEqual([]);
  });

  it('validates its timeouts', async () => {
    await expect(
      PeerNode.start({
        role: 'worker',
        cluster: 'x',
        host: '127.0.0.1',
        heartbeatMs: 100,
        deadAfterMs: 200,
        handler: () => Promise.resolve(null),
        ownRecords: () => [],
      }),
    ).rejects.toThrow(/at least 3 heartbeats/);
  });
});
