/**
 * The simulation at scale: a client and N workers on the memory network, no faults. Reports the
 * messages and bytes each peer sends and receives per second of simulated time, at steady state
 * (everyone has met, nothing runs) and while a word count runs, and the simulated time until every
 * peer counted every other as a member. What grows with N here grows with the square of the
 * cluster in total.
 */
import { MicroSpark } from '../client/context.js';
import { MemoryNetwork, type HostTraffic } from '../partition-server/memory-transport.js';
import { Worker } from '../worker/worker.js';
import { simWorkerOptions, startClient } from './cluster.js';
import { SimNetworkPolicy } from './network.js';
import { PROGRAMS } from './programs.js';
import { SimScheduler } from './scheduler.js';

/** Per-peer traffic rates over a window of simulated time. */
export interface TrafficRates {
  /** Mean over the peers, per second: messages received, bytes received, messages sent. */
  readonly messagesInPerPeerPerS: number;
  readonly bytesInPerPeerPerS: number;
  readonly messagesOutPerPeerPerS: number;
  /** The busiest peer's messages received per second. */
  readonly maxMessagesInPerS: number;
}

/** What {@link measureScale} reports for one cluster size. */
export interface ScaleReport {
  readonly workers: number;
  /** Simulated ms until every live peer counted every other as a member. */
  readonly convergedMs: number | undefined;
  readonly steady: TrafficRates;
  readonly duringJob: TrafficRates;
  readonly jobMs: number;
  readonly wallMs: number;
}

function snapshot(net: MemoryNetwork): Map<string, HostTraffic> {
  const out = new Map<string, HostTraffic>();
  for (const [k, v] of net.allTraffic()) out.set(k, { ...v });
  return out;
}

function rates(before: Map<string, HostTraffic>, after: Map<string, HostTraffic>, ms: number): TrafficRates {
  let inM = 0;
  let inB = 0;
  let outM = 0;
  let max = 0;
  let n = 0;
  for (const [k, a] of after) {
    const b = before.get(k) ?? { messagesSent: 0, bytesSent: 0, messagesReceived: 0, bytesReceived: 0 };
    const m = a.messagesReceived - b.messagesReceived;
    inM += m;
    inB += a.bytesReceived - b.bytesReceived;
    outM += a.messagesSent - b.messagesSent;
    max = Math.max(max, m);
    n++;
  }
  const s = ms / 1000;
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    messagesInPerPeerPerS: round(inM / n / s),
    bytesInPerPeerPerS: Math.round(inB / n / s),
    messagesOutPerPeerPerS: round(outM / n / s),
    maxMessagesInPerS: round(max / s),
  };
}

/**
 * Runs a cluster of `workers` (see module doc); `windowMs` of simulated time per measurement.
 * Convergence is checked every 100 ms of simulated time (checking it after every event costs N
 * per event, which at 1,000 peers is most of the run).
 */
export async function measureScale(
  workers: number,
  windowMs = 5000,
  membership: 'mesh' | 'swim' = 'swim',
): Promise<ScaleReport> {
  const t0 = Date.now();
  const sched = new SimScheduler(1);
  const policy = new SimNetworkPolicy(sched, { drop: 0, duplicate: 0, maxDelayMs: 2 }, () => undefined);
  policy.faultsOn = false;
  const net = new MemoryNetwork({ policy });
  const client = await startClient(net, sched, 'scale', membership);
  const ws: Worker[] = [];
  for (let i = 0; i < workers; i++) {
    const name = `w${String(i).padStart(4, '0')}`;
    const clock = sched.clockFor(name);
    void Worker.start(
      simWorkerOptions('scale', name, 1, client.node.identity.rpc, net.host(name, clock), clock, membership),
    ).then((w) => ws.push(w));
  }
  const converged = () =>
    ws.length === workers &&
    client.workers().length === workers &&
    ws.every((w) => w.node.peers().length === workers); // the client and the other workers
  const start = sched.now;
  let met = false;
  while (!met && sched.now < start + 120_000) {
    await sched.run(sched.now + 100);
    met = converged();
  }
  const convergedMs = met ? sched.now - start : undefined;
  await sched.run(sched.now + 3000);
  let before = snapshot(net);
  let t = sched.now;
  await sched.run(t + windowMs);
  const steady = rates(before, snapshot(net), sched.now - t);
  const sc = MicroSpark.overBackend(client, Math.min(workers, 8));
  const wordcount = PROGRAMS.find((p) => p.name === 'wordcount')!;
  before = snapshot(net);
  t = sched.now;
  let done = false;
  void wordcount.run(sc).then(() => (done = true));
  await sched.run(t + 60_000, () => done);
  const jobMs = sched.now - t;
  // At least a second of window, so short jobs are not divided by ~0.
  await sched.run(Math.max(sched.now, t + 1000));
  const duringJob = rates(before, snapshot(net), sched.now - t);
  return { workers, convergedMs, steady, duringJob, jobMs, wallMs: Date.now() - t0 };
}
