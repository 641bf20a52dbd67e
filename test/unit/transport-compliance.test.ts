import { afterEach, describe, expect, it } from 'vitest';
import { MemoryNetwork } from '../../src/partition-server/memory-transport.js';
import type { Transport } from '../../src/partition-server/transport.js';
import { ZmqTransport } from '../../src/partition-server/zmq-transport.js';

// One suite, both transports: what PeerNode relies on behaves the same on each.
const network = new MemoryNetwork();
const transports: Array<[string, () => Transport, string]> = [
  ['zeromq', () => new ZmqTransport(), '127.0.0.1'],
  ['memory', () => network.host('h1'), 'h1'],
];

const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

const until = async (check: () => boolean, ms = 3000) => {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > ms) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

for (const [name, make, host] of transports) {
  describe(`transport compliance: ${name}`, () => {
    it('answers requests, turns a throw into a RemoteError with its name, and times out on silence', async () => {
      const t = make();
      let served = 0;
      const server = await t.serve(host, 0, (req) => {
        served++;
        const r = req as { op: string; n?: number };
        if (r.op === 'boom') return Promise.reject(Object.assign(new Error('no'), { name: 'BoomError' }));
        if (r.op === 'never') return new Promise(() => undefined);
        return Promise.resolve({ twice: (r.n ?? 0) * 2 });
      });
      closers.push(() => server.close());
      const ch = t.connect(server.endpoint);
      closers.push(() => ch.close());
      expect(await ch.request({ op: 'double', n: 21 }, { timeoutMs: 2000 })).toEqual({ twice: 42 });
      await expect(ch.request({ op: 'boom' }, { timeoutMs: 2000 })).rejects.toMatchObject({
        name: 'RemoteError',
        remoteName: 'BoomError',
        message: 'no',
      });
      await expect(ch.request({ op: 'never' }, { timeoutMs: 100 })).rejects.toMatchObject({
        name: 'RequestTimeoutError',
      });
      expect(served).toBe(3);
      const pending = ch.request({ op: 'never' }, { timeoutMs: 5000 });
      await ch.close();
      await expect(pending).rejects.toMatchObject({ name: 'RpcTransportError' });
    });

    it('delivers records to connected subscribers only, until they disconnect', async () => {
      const t = make();
      const pub = await t.publisher(host, 0);
      closers.push(() => pub.close());
      const got: unknown[] = [];
      let malformed = 0;
      const sub = t.subscriber(
        (v) => got.push(v),
        () => malformed++,
      );
      closers.push(() => sub.close());
      sub.connect(pub.endpoint);
      // ZeroMQ's slow joiner: publish until the subscription is in place.
      await until(() => {
        pub.send({ kind: 'probe' });
        return got.length > 0;
      });
      const workers = () => got.filter((g) => (g as { kind: string }).kind === 'worker');
      pub.send({ kind: 'worker', seq: 1 });
      pub.send({ kind: 'worker', seq: 2 });
      await until(() => workers().length === 2);
      expect(workers()).toEqual([
        { kind: 'worker', seq: 1 },
        { kind: 'worker', seq: 2 },
      ]);
      sub.disconnect(pub.endpoint);
      await new Promise((r) => setTimeout(r, 50));
      pub.send({ kind: 'worker', seq: 3 });
      await new Promise((r) => setTimeout(r, 100));
      expect(workers()).toHaveLength(2);
      expect(malformed).toBe(0);
    });
  });
}

describe('memory transport', () => {
  it('a crashed host answers nothing and sends nothing; traffic is counted per host', async () => {
    const net = new MemoryNetwork();
    const a = net.host('a');
    const b = net.host('b');
    const server = await b.serve('b', 0, () => Promise.resolve('pong'));
    const ch = a.connect(server.endpoint);
    expect(await ch.request('ping', { timeoutMs: 1000 })).toBe('pong');
    expect(net.trafficOf('a')).toMatchObject({ messagesSent: 1, messagesReceived: 1 });
    expect(net.trafficOf('b')).toMatchObject({ messagesSent: 1, messagesReceived: 1 });
    b.crash();
    await expect(ch.request('ping', { timeoutMs: 50 })).rejects.toMatchObject({
      name: 'RequestTimeoutError',
    });
    expect(net.trafficOf('b').messagesReceived).toBe(1);
  });
});
