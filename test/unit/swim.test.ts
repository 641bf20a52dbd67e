import { afterEach, describe, expect, it } from 'vitest';
import { MemoryNetwork, type MessageKind } from '../../src/partition-server/memory-transport.js';
import { PeerNode } from '../../src/partition-server/peer-node.js';
import type { PeerIdentity, Record } from '../../src/protocol/messages.js';
import { SimScheduler } from '../../src/sim/scheduler.js';

// SWIM membership (src/partition-server/peer-node.ts) over the memory transport, on simulated
// time: every peer's clock is the scheduler's, Math.random is seeded, and the counts are exact.

const HB = 1000;
const DEAD = 5000; // suspicion: DEAD - 2 HB = 3000 ms; probe timeout 500 ms, ping-req 1000 ms

type Drop = (from: string, to: string, kind: MessageKind, label: string) => boolean;

const realRandom = Math.random;
afterEach(() => {
  Math.random = realRandom;
});

interface Sent {
  from: string;
  to: string;
  kind: MessageKind;
  label: string;
}

/** `names.length` worker peers that HELLO each other; resolves once every peer knows every other. */
async function swarm(names: string[], drop?: { fn: Drop }) {
  const sched = new SimScheduler(7);
  Math.random = () => sched.rng.next();
  const sent: Sent[] = [];
  const net = new MemoryNetwork({
    policy: {
      send(from, to, kind, _bytes, deliver, label) {
        if (drop?.fn(from, to, kind, label)) return;
        sent.push({ from, to, kind, label });
        sched.at(to, 1, deliver);
      },
    },
  });
  const nodes = new Map<string, PeerNode>();
  const hosts = new Map<string, ReturnType<MemoryNetwork['host']>>();
  /** A worker's state: changing `free` changes its record. */
  const free = new Map<string, number>();
  const heard = new Map<string, Record[]>();
  const downs = new Map<string, PeerIdentity[]>();
  const ups = new Map<string, PeerIdentity[]>();
  for (const name of names) {
    const clock = sched.clockFor(name);
    const host = net.host(name, clock);
    hosts.set(name, host);
    free.set(name, 2);
    let seq = 0;
    const ref: { node?: PeerNode } = {};
    void PeerNode.start({
      role: 'worker',
      cluster: 'swim',
      host: name,
      heartbeatMs: HB,
      deadAfterMs: DEAD,
      requestTimeoutMs: 2000,
      transport: host,
      clock,
      id: { node: name, incarnation: 1 },
      handler: () => Promise.resolve({ ok: true }),
      ownRecords: () =>
        ref.node
          ? [
              {
                kind: 'worker',
                peer: ref.node.identity,
                slots: 2,
                free: free.get(name)!,
                blocks: 0,
                memoryBytes: 0,
                seq: seq++,
              },
            ]
          : [],
    }).then((n) => {
      ref.node = n;
      nodes.set(name, n);
      heard.set(name, []);
      downs.set(name, []);
      ups.set(name, []);
      n.on('record', (r) => heard.get(name)!.push(r));
      n.on('peer-down', (p) => downs.get(name)!.push(p));
      n.on('peer-up', (p) => ups.get(name)!.push(p));
      n.on('warning', () => undefined);
    });
  }
  await sched.run(sched.now + 10, () => nodes.size === names.length);
  expect(nodes.size).toBe(names.length);
  for (const name of names.slice(1)) void nodes.get(name)!.connect(nodes.get(names[0]!)!.identity.rpc);
  const all = () => [...nodes.values()].every((n) => n.peers().length === names.length - 1);
  await sched.run(sched.now + 900, all);
  expect(all()).toBe(true);
  const node = (name: string) => nodes.get(name)!;
  const sum = (k: keyof PeerNode['counters']) => [...nodes.values()].reduce((n, p) => n + p.counters[k], 0);
  const crash = (name: string) => {
    hosts.get(name)!.crash();
    sched.crash(name);
    nodes.delete(name);
  };
  return { sched, sent, node, nodes, free, heard, downs, ups, sum, crash };
}

/** Runs until just after the next tick boundary plus half a heartbeat (ticks are at multiples of HB). */
function mid(sched: SimScheduler, ticks: number): number {
  return (Math.floor(sched.now / HB) + ticks) * HB + HB / 2;
}

describe('SWIM membership (memory transport, simulated time)', () => {
  it('a ping round: one ping per peer per heartbeat, each member once per round, no records at steady state', async () => {
    const names = ['a', 'b', 'c', 'd'];
    const { sched, sent, node } = await swarm(names);
    // Everyone met before the first tick (at 1000 ms): ticks 1-3 are the first round, 4-6 the second.
    expect(sched.now).toBeLessThan(HB);
    for (const round of [1, 2]) {
      sent.length = 0;
      await sched.run(round * 3 * HB + HB / 2);
      for (const n of names) {
        const targets = sent
          .filter((m) => m.from === n && m.kind === 'request' && m.label === 'ping')
          .map((m) => m.to);
        expect(targets.sort()).toEqual(names.filter((o) => o !== n));
        expect(node(n).counters.pingsSent).toBe(round * 3);
      }
    }
    // The second round: 12 pings and their 12 acks; nothing on pub-sub (no record changed).
    expect(sent.filter((m) => m.kind === 'request')).toHaveLength(12);
    expect(sent.filter((m) => m.kind === 'reply')).toHaveLength(12);
    expect(sent.filter((m) => m.kind === 'record')).toHaveLength(0);
  });

  it('a state change is published once, at the next heartbeat, to every subscriber', async () => {
    const { sched, sent, free, heard } = await swarm(['a', 'b', 'c', 'd']);
    await sched.run(mid(sched, 1));
    sent.length = 0;
    for (const h of heard.values()) h.length = 0;
    free.set('a', 1);
    await sched.run(mid(sched, 3));
    const records = sent.filter((m) => m.kind === 'record');
    expect(records.map((m) => `${m.from}->${m.to}:${m.label}`).sort()).toEqual([
      'a->b:worker',
      'a->c:worker',
      'a->d:worker',
    ]);
    for (const n of ['b', 'c', 'd'])
      expect(heard.get(n)!.map((r) => (r.kind === 'worker' ? r.free : -1))).toEqual([1]);
  });

  it('an indirect probe: a and b cannot reach each other, c and d vouch for them, nobody is suspected', async () => {
    const cut = { on: false };
    const drop: Drop = (from, to, kind) =>
      cut.on && kind !== 'record' && ((from === 'a' && to === 'b') || (from === 'b' && to === 'a'));
    const { sched, node, sum } = await swarm(['a', 'b', 'c', 'd'], { fn: drop });
    await sched.run(mid(sched, 1));
    cut.on = true;
    await sched.run(mid(sched, 3)); // a round: a probes b once, b probes a once
    // Each asked the two members other than its target; their pings got through.
    expect(node('a').counters.pingReqsSent).toBe(2);
    expect(node('b').counters.pingReqsSent).toBe(2);
    expect(node('c').counters.pingReqsSent).toBe(0);
    expect(node('d').counters.pingReqsSent).toBe(0);
    expect(sum('suspicions')).toBe(0);
    expect(node('a').peer('b')).toBeDefined();
    expect(node('b').peer('a')).toBeDefined();
  });

  it('suspicion then death: a crashed peer is suspected, declared dead once, and dropped by every peer', async () => {
    const { sched, node, sum, downs, crash } = await swarm(['a', 'b', 'c', 'd']);
    await sched.run(mid(sched, 1));
    const t0 = sched.now;
    crash('d');
    const gone = () => ['a', 'b', 'c'].every((n) => node(n).peer('d') === undefined);
    await sched.run(t0 + 20_000, gone);
    expect(gone()).toBe(true);
    // Suspected first: nobody drops it before the suspicion timeout (3 s) after the first probe.
    expect(sched.now - t0).toBeGreaterThanOrEqual(3000);
    expect(sched.now - t0).toBeLessThanOrEqual(DEAD + 2 * HB);
    expect(sum('suspicions')).toBeGreaterThanOrEqual(1);
    expect(sum('deathsPublished')).toBe(1); // one broadcast; the others drop d when it arrives
    for (const n of ['a', 'b', 'c']) {
      expect(downs.get(n)!.map((p) => p.node)).toEqual(['d']);
      expect(node(n).counters.peersDeclaredDead).toBe(1);
    }
    await sched.run(sched.now + 5000);
    expect(sum('deathsPublished')).toBe(1);
  });

  it('suspectedForMs: a healthy member is never suspect, however long silent; a crashed one is, from the failed probe', async () => {
    const { sched, node, crash } = await swarm(['a', 'b', 'c', 'd']);
    // Ten steady rounds: records only on change, so members go seconds without a word.
    let longestSilence = 0;
    for (let t = 0; t < 30; t++) {
      await sched.run(mid(sched, 1));
      for (const n of ['a', 'b', 'c', 'd'])
        for (const p of node(n).peers()) {
          longestSilence = Math.max(longestSilence, sched.now - p.lastSeen);
          expect(node(n).suspectedForMs(p.identity.node)).toBeUndefined();
        }
    }
    expect(longestSilence).toBeGreaterThan(2500); // what the old heartbeat-age column flagged
    crash('d');
    const suspecting = () => ['a', 'b', 'c'].filter((n) => node(n).suspectedForMs('d') !== undefined);
    await sched.run(sched.now + 10_000, () => suspecting().length > 0);
    const [first] = suspecting();
    expect(first).toBeDefined();
    expect(node(first!).suspectedForMs('d')).toBe(0);
    const t0 = sched.now;
    await sched.run(t0 + 700);
    expect(node(first!).suspectedForMs('d')).toBe(sched.now - t0);
    expect(node(first!).suspectedForMs('a')).toBeUndefined();
  });

  it('refutation: a suspected peer publishes its record again and the suspicion is cleared', async () => {
    const cut = { on: false };
    // Requests and replies between a and b are lost; records still pass.
    const drop: Drop = (from, to, kind) => cut.on && kind !== 'record' && from !== to;
    const { sched, node, sum, heard } = await swarm(['a', 'b'], { fn: drop });
    await sched.run(mid(sched, 1));
    for (const h of heard.values()) h.length = 0;
    cut.on = true;
    // With no other member to ask, a failed ping is a suspicion at once; each suspects the other.
    await sched.run(sched.now + 2 * HB, () => sum('suspicions') === 2);
    expect(node('a').counters.suspicions).toBe(1);
    expect(node('b').counters.suspicions).toBe(1);
    cut.on = false;
    await sched.run(sched.now + 5 * HB);
    expect(node('a').counters.refutations).toBe(1);
    expect(node('b').counters.refutations).toBe(1);
    expect(node('a').counters.suspicionsCleared).toBe(1);
    expect(node('b').counters.suspicionsCleared).toBe(1);
    // Each heard the other's record once more: the refutation (a newer version of the same content).
    expect(heard.get('a')!.filter((r) => r.kind === 'worker')).toHaveLength(1);
    expect(heard.get('b')!.filter((r) => r.kind === 'worker')).toHaveLength(1);
    expect(sum('deathsPublished')).toBe(0);
    expect(sum('peersDeclaredDead')).toBe(0);
    expect(node('a').peer('b')).toBeDefined();
  });

  it("a lost death broadcast is repaired by the peer's own probing round", async () => {
    let lostTo: string | undefined;
    const drop: Drop = (_from, to, kind, label) => {
      if (lostTo !== undefined || kind !== 'record' || label !== 'dead') return false;
      lostTo = to; // the first `dead` record delivered anywhere is lost
      return true;
    };
    const { sched, node, sum, crash } = await swarm(['a', 'b', 'c', 'd'], { fn: drop });
    await sched.run(mid(sched, 1));
    const t0 = sched.now;
    crash('d');
    await sched.run(t0 + 30_000, () => lostTo !== undefined);
    expect(lostTo).toBeDefined();
    const repaired = lostTo!;
    // Everyone else dropped d on the broadcast; the one that missed it still counts d.
    await sched.run(sched.now + 10);
    for (const n of ['a', 'b', 'c']) expect(node(n).peer('d') === undefined).toBe(n !== repaired);
    await sched.run(sched.now + 30_000, () => node(repaired).peer('d') === undefined);
    expect(node(repaired).peer('d')).toBeUndefined();
    // It found d silent itself (probe, suspicion, death) and published the death again: two in all.
    expect(node(repaired).counters.deathsPublished).toBe(1);
    expect(sum('deathsPublished')).toBe(2);
    for (const n of ['a', 'b', 'c']) expect(node(n).counters.peersDeclaredDead).toBe(1);
  });

  it('a paused peer is declared dead, then re-admitted everywhere when it resumes', async () => {
    const { sched, node, sum, ups, downs } = await swarm(['a', 'b', 'c']);
    await sched.run(mid(sched, 1));
    sched.pause('c', 9000);
    const t0 = sched.now;
    await sched.run(t0 + 8500, () => node('a').peer('c') === undefined && node('b').peer('c') === undefined);
    expect(node('a').peer('c')).toBeUndefined();
    expect(node('b').peer('c')).toBeUndefined();
    // Both suspected it in the same round: the one with the higher node id deferred to the other.
    expect(sum('suspicions')).toBe(2);
    expect(sum('deathsPublished')).toBe(1);
    await sched.run(t0 + 9000 + 3 * HB);
    for (const n of ['a', 'b']) {
      expect(node(n).peer('c')?.identity.incarnation).toBe(1);
      expect(downs.get(n)!.map((p) => p.node)).toEqual(['c']);
      // Up twice: when it joined, and when it came back (same incarnation).
      expect(ups.get(n)!.filter((p) => p.node === 'c')).toHaveLength(2);
    }
    expect(
      node('c')
        .peers()
        .map((p) => p.identity.node)
        .sort(),
    ).toEqual(['a', 'b']);
    // c dropped nobody: the silence was its own.
    expect(node('c').counters.peersDeclaredDead).toBe(0);
    expect(node('c').counters.suspicions).toBe(0);
  });
});
