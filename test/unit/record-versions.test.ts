import { afterEach, describe, expect, it } from 'vitest';
import { RecordVersions } from '../../src/core/record-versions.js';
import { MemoryNetwork, type DeliveryPolicy } from '../../src/partition-server/memory-transport.js';
import { PeerNode } from '../../src/partition-server/peer-node.js';
import type { PeerIdentity, Record } from '../../src/protocol/messages.js';

/**
 * A network that is not FIFO: records from `a` to `b` about blocks are held until the test
 * releases them, in the order it chooses; everything else arrives on the next timer turn.
 */
class HoldingPolicy implements DeliveryPolicy {
  readonly held: Array<{ label: string; deliver: () => void }> = [];
  send(from: string, to: string, kind: string, _bytes: number, deliver: () => void, label: string): void {
    if (kind === 'record' && from === 'a' && to === 'b' && (label === 'rdd' || label === 'withdraw'))
      this.held.push({ label, deliver });
    else setTimeout(deliver, 0);
  }
  /** Delivers the held messages in the order of `order` (indexes into what was held). */
  release(order: number[]): void {
    for (const i of order) this.held[i]!.deliver();
  }
}

const started: PeerNode[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((n) => n.stop()));
});

async function peer(
  network: MemoryNetwork,
  name: string,
  role: 'worker' | 'client',
  incarnation = 1,
  port = 0,
): Promise<PeerNode> {
  let seq = 0;
  const ref: { self?: PeerNode } = {};
  const node = await PeerNode.start({
    role,
    cluster: 'versions',
    host: name,
    heartbeatMs: 10_000, // no heartbeat during the test: only the records it publishes travel
    deadAfterMs: 30_000,
    handler: () => Promise.resolve({ ok: true }),
    ownRecords: () => (ref.self ? [{ kind: 'client', peer: ref.self.identity, seq: seq++ }] : []),
    transport: network.host(name),
    port,
    id: { node: name, incarnation },
  });
  ref.self = node;
  started.push(node);
  return node;
}

const block = (holder: PeerIdentity): Record => ({
  kind: 'rdd',
  blockId: 'shuffle_s1_0',
  holder,
  bytes: 10,
  owner: 'c',
});
const withdraw = (holder: PeerIdentity): Record => ({
  kind: 'withdraw',
  of: 'rdd',
  id: 'shuffle_s1_0',
  holder: holder.node,
});

/** Two peers that know each other; `heard` is what b's role is told about block shuffle_s1_0. */
async function pair() {
  const policy = new HoldingPolicy();
  const network = new MemoryNetwork({ policy });
  const a = await peer(network, 'a', 'worker');
  const b = await peer(network, 'b', 'client');
  await b.connect(a.identity.rpc);
  const heard: string[] = [];
  b.on('record', (r) => {
    if ((r.kind === 'rdd' && r.blockId === 'shuffle_s1_0') || (r.kind === 'withdraw' && r.of === 'rdd'))
      heard.push(r.kind);
  });
  return { policy, a, b, heard };
}

describe('record versions on a transport that reorders', () => {
  it('a withdraw overtaken by the record re-published behind it does not undo it', async () => {
    const { policy, a, b, heard } = await pair();
    a.publish(block(a.identity)); // stored
    a.publish(withdraw(a.identity)); // dropped
    a.publish(block(a.identity)); // stored again (a recomputed map output)
    expect(policy.held.map((h) => h.label)).toEqual(['rdd', 'withdraw', 'rdd']);
    policy.release([0, 2, 1]); // the withdraw arrives last
    // Before versions, b was told `withdraw` last and forgot a live output.
    expect(heard).toEqual(['rdd', 'rdd']);
    expect(b.counters.staleRecords).toBe(1);
  });

  it('a record overtaken by its own withdraw (a late snapshot or re-announce) does not bring it back', async () => {
    const { policy, a, b, heard } = await pair();
    a.publish(block(a.identity));
    a.publish(withdraw(a.identity));
    policy.release([1, 0]);
    expect(heard).toEqual(['withdraw']);
    expect(b.counters.staleRecords).toBe(1);
  });

  it('in order, every record and withdraw is applied, and a duplicate is dropped', async () => {
    const { policy, a, b, heard } = await pair();
    a.publish(block(a.identity));
    a.publish(withdraw(a.identity));
    a.publish(block(a.identity));
    policy.release([0, 1, 2, 2]);
    expect(heard).toEqual(['rdd', 'withdraw', 'rdd']);
    expect(b.counters.staleRecords).toBe(1);
  });
});

describe('a goodbye on a transport that reorders', () => {
  it("a goodbye overtaken by its restarted peer's HELLO does not drop the new incarnation", async () => {
    const policy = new HoldingPolicy();
    const network = new MemoryNetwork({ policy });
    const b = await peer(network, 'b', 'client');
    const a1 = await peer(network, 'a', 'worker', 1, 7); // fixed ports, as a daemon's --port
    await b.connect(a1.identity.rpc);
    a1.goodbye();
    expect(policy.held.map((h) => h.label)).toEqual(['withdraw']);
    await a1.stop();
    const a2 = await peer(network, 'a', 'worker', 2, 7); // restarted on the same endpoints
    expect(a2.identity.pub).toBe(a1.identity.pub);
    await a2.connect(b.identity.rpc); // its HELLO: b admits incarnation 2, drops 1
    expect(b.peer('a')?.identity.incarnation).toBe(2);
    policy.release([0]); // the old incarnation's goodbye arrives now
    // Before, a goodbye named only the node: b dropped the live incarnation 2.
    expect(b.peer('a')?.identity.incarnation).toBe(2);
  });
});

describe('RecordVersions', () => {
  const holder: PeerIdentity = {
    node: 'h',
    incarnation: 5,
    role: 'worker',
    rpc: 'mem://h:1',
    pub: 'mem://h:2',
  };
  const rdd = (seq: number, incarnation = 5): Record =>
    ({ ...block({ ...holder, incarnation }), seq }) as Record;
  const gone = (seq: number, inc = 5): Record => ({ ...withdraw(holder), inc, seq }) as Record;

  it('orders by incarnation, then sequence number; unversioned records always pass', () => {
    const v = new RecordVersions(1000);
    expect(v.admit(rdd(3), 0)).toBe(true);
    expect(v.admit(gone(2), 0)).toBe(false); // older than the record
    expect(v.admit(gone(4), 0)).toBe(true);
    expect(v.admit(rdd(3), 0)).toBe(false); // the record again, after its withdraw
    expect(v.admit(rdd(1, 6), 0)).toBe(true); // a later incarnation starts its count again
    expect(v.admit(gone(9, 5), 0)).toBe(false); // the earlier incarnation's withdraw
    expect(v.admit(block(holder), 0)).toBe(true); // no seq: version 2 behaviour
    expect(v.admit(block(holder), 0)).toBe(true);
    expect(v.stale).toBe(3);
  });

  it('forgets a version retainMs after it was last heard, oldest first', () => {
    const v = new RecordVersions(1000);
    v.admit(rdd(1), 0);
    v.admit({ ...rdd(1), blockId: 'b2' } as Record, 500);
    v.prune(1000);
    expect(v.size).toBe(2);
    v.prune(1001);
    expect(v.size).toBe(1);
    expect(v.admit(rdd(1), 1001)).toBe(true); // forgotten: no longer guarded
    v.prune(1501);
    expect(v.size).toBe(1);
  });
});
