/**
 * One run of the deterministic simulation: a client and K workers in this process, on the memory
 * network, every timer and delivery decided by one seeded {@link SimScheduler}. Real code runs:
 * the client's ClusterBackend and context, the workers with their job sources, parking and block
 * stores, and the task runner (in this thread). Faults are drawn from the seed: lost, duplicated,
 * delayed and reordered messages; cuts between hosts that heal; workers crashed and restarted
 * with a new incarnation; workers paused, also longer than the dead-after timeout; clocks that
 * jump. Several actions run at once. Then the faults stop and the invariants are checked.
 */
import { isDeepStrictEqual } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterBackend } from '../client/cluster-backend.js';
import { MicroSpark } from '../client/context.js';
import { MemoryNetwork } from '../partition-server/memory-transport.js';
import { Worker, type WorkerOptions } from '../worker/worker.js';
import type { Clock } from '../core/clock.js';
import type { Transport } from '../partition-server/transport.js';
import { InThreadExecutor } from '../worker/in-thread-executor.js';
import { SimNetworkPolicy } from './network.js';
import { PROGRAMS, type Program } from './programs.js';
import { SimScheduler } from './scheduler.js';

/** What one simulation runs. */
export interface SimOptions {
  readonly seed: number;
  /** Workers (default 3). */
  readonly peers?: number;
  /** Inject faults (default true). */
  readonly faults?: boolean;
  /** Simulated time an action may take before the run fails (default 300 s). */
  readonly actionBoundMs?: number;
  /** The four actions to run (program names; default: drawn from the seed). */
  readonly programs?: readonly string[];
  /** Messages to lose on purpose (each entry drops the first message it matches). */
  readonly drop?: SimNetworkPolicy['dropNext'];
  /** Links do not keep order: a message may overtake an earlier one on its link (default false). */
  readonly reorder?: boolean;
  /** How the peers decide liveness (default `swim`, as the daemons). */
  readonly membership?: 'mesh' | 'swim';
}

/** How one action ended. */
export interface ActionOutcome {
  readonly name: string;
  readonly ok: boolean;
  readonly ms: number;
  /** The typed error it rejected with, if it did. */
  readonly error?: string;
}

/** The result of one seed. */
export interface SimResult {
  readonly seed: number;
  /** Invariants that did not hold (empty: the seed passed). */
  readonly violations: string[];
  readonly actions: ActionOutcome[];
  /** Faults injected, by kind. */
  readonly faults: Record<string, number>;
  readonly simulatedMs: number;
  readonly events: number;
  /** The last lines of the trace (what led to a failure). */
  readonly trace: string[];
  /** A hash of the whole trace: two runs of one seed give the same. */
  readonly traceHash: string;
  /** Entries of `drop` that fired. */
  readonly targetedDrops: number;
  /** Map partitions the client ran again because their reports never came. */
  readonly mapReportsRecomputed: number;
  /** Records and withdraws the client and the live workers dropped as older than one they had heard. */
  readonly staleRecords: number;
  /** Parked tasks the live workers gave up (their lease gone, or their action ended). */
  readonly parkedTasksGivenUp: number;
  /** Messages sent, dropped, duplicated and cut off. */
  readonly network: SimNetworkPolicy['counters'];
}

/** Errors an action may end with that say why (anything else is a violation). */
const TYPED_ENDS = new Set(['NoWorkersError', 'TaskFailedError']);

const HEARTBEAT_MS = 1000;
const DEAD_AFTER_MS = 5000;

let expectedCache: Map<string, unknown> | undefined;

/** The answers of every program run by `MicroSpark.inProcess` (computed once per process). */
export async function expectedAnswers(): Promise<Map<string, unknown>> {
  if (expectedCache) return expectedCache;
  const sc = await MicroSpark.inProcess({ defaultParallelism: 3 });
  const out = new Map<string, unknown>();
  try {
    for (const p of PROGRAMS) out.set(p.name, await p.run(sc));
  } finally {
    await sc.stop();
  }
  return (expectedCache = out);
}

interface SimWorker {
  readonly name: string;
  worker: Worker | undefined;
  incarnation: number;
  crashed: boolean;
  crash?: () => void;
}

/** Runs one seed (see module doc). */
export async function simulate(options: SimOptions): Promise<SimResult> {
  const expected = await expectedAnswers();
  const seed = options.seed;
  const peers = options.peers ?? 3;
  const faultsOn = options.faults ?? true;
  const bound = options.actionBoundMs ?? 300_000;
  const reorder = options.reorder ?? false;
  const sched = new SimScheduler(seed);
  const rng = sched.rng;
  const ring: string[] = [];
  let hash = 0x811c9dc5;
  const trace = (line: string) => {
    const l = `${String(sched.now).padStart(7)} ${line}`;
    for (let i = 0; i < l.length; i++) hash = Math.imul(hash ^ l.charCodeAt(i), 16777619) >>> 0;
    ring.push(l);
    if (ring.length > 300) ring.shift();
  };
  const faults: Record<string, number> = {};
  const fault = (kind: string, line: string) => {
    faults[kind] = (faults[kind] ?? 0) + 1;
    trace(`FAULT ${line}`);
  };
  const policy = new SimNetworkPolicy(
    sched,
    faultsOn
      ? { drop: rng.next() * 0.05, duplicate: rng.next() * 0.05, maxDelayMs: rng.int(1, 60), reorder }
      : { drop: 0, duplicate: 0, maxDelayMs: 5, reorder },
    trace,
  );
  policy.faultsOn = faultsOn;
  policy.dropNext.push(...(options.drop ?? []));
  const targeted = policy.dropNext.length;
  const network = new MemoryNetwork({ policy });
  // The code under test draws from Math.random in places (a lone worker's claim order): seeded here.
  const realRandom = Math.random;
  Math.random = () => rng.next();
  const violations: string[] = [];
  const actions: ActionOutcome[] = [];
  let clientRef: ClusterBackend | undefined;
  let staleRecords = 0;
  let parkedTasksGivenUp = 0;
  try {
    const membership = options.membership ?? 'swim';
    const client = await startClient(network, sched, 'sim', membership);
    const sc = MicroSpark.overBackend(client, 3);
    clientRef = client;
    client.node.on('peer-up', (p) => trace(`client: up ${p.node}#${p.incarnation}`));
    client.node.on('peer-down', (p) => trace(`client: down ${p.node}#${p.incarnation}`));
    const workers: SimWorker[] = Array.from({ length: peers }, (_, i) => ({
      name: `w${i}`,
      worker: undefined,
      incarnation: 0,
      crashed: false,
    }));
    const start = (w: SimWorker) => {
      w.incarnation++;
      w.crashed = false;
      const clock = sched.clockFor(w.name);
      const transport = network.host(w.name, clock);
      w.crash = () => transport.crash();
      trace(`start ${w.name}#${w.incarnation}`);
      void Worker.start(
        simWorkerOptions(
          'sim',
          w.name,
          w.incarnation,
          client.node.identity.rpc,
          transport,
          clock,
          membership,
        ),
      ).then((worker) => {
        if (w.crashed) return;
        w.worker = worker;
      });
    };
    for (const w of workers) start(w);
    await sched.run(sched.now + 3000, () => client.workers().length === peers);

    // The actions: two at once, then one more, then a repeat of the first.
    const chosen: Program[] = [];
    if (options.programs) {
      for (const name of options.programs) {
        const p = PROGRAMS.find((x) => x.name === name);
        if (!p) throw new RangeError(`no simulated program named ${name}`);
        chosen.push(p);
      }
      if (chosen.length !== 4) throw new RangeError('programs: give four program names');
    } else {
      for (let i = 0; i < 3; i++) chosen.push(rng.pick(PROGRAMS));
      chosen.push(chosen[0]!);
    }
    const pending = new Set<string>();
    const runAction = (p: Program, tag: string) => {
      const t0 = sched.now;
      pending.add(tag);
      trace(`action ${tag} ${p.name} starts`);
      return p.run(sc).then(
        (value) => {
          pending.delete(tag);
          const ms = sched.now - t0;
          trace(`action ${tag} ${p.name} ends after ${ms} ms`);
          if (!isDeepStrictEqual(value, expected.get(p.name)))
            violations.push(
              `action ${tag} (${p.name}) answered ${JSON.stringify(value)}, in process: ${JSON.stringify(expected.get(p.name))}`,
            );
          actions.push({ name: p.name, ok: true, ms });
        },
        (e: unknown) => {
          pending.delete(tag);
          const ms = sched.now - t0;
          const name = (e as Error).name;
          trace(`action ${tag} ${p.name} failed after ${ms} ms: ${name}: ${(e as Error).message}`);
          if (!TYPED_ENDS.has(name))
            violations.push(`action ${tag} (${p.name}) rejected with ${name}: ${(e as Error).message}`);
          actions.push({ name: p.name, ok: false, ms, error: name });
        },
      );
    };

    const chaos = { on: faultsOn };
    if (faultsOn) scheduleFaults(sched, workers, policy, fault, start, client.node.identity.node, chaos);
    const phase = async (tags: Array<[Program, string]>) => {
      const t0 = sched.now;
      const runs = tags.map(([p, tag]) => runAction(p, tag));
      const ended = await sched.run(t0 + bound, () => pending.size === 0);
      if (!ended)
        violations.push(
          `actions ${[...pending].join(', ')} did not end within ${bound} ms of simulated time`,
        );
      else await Promise.all(runs);
      return ended;
    };
    let ok = await phase([
      [chosen[0]!, 'A1'],
      [chosen[1]!, 'A2'],
    ]);
    if (ok) ok = await phase([[chosen[2]!, 'A3']]);
    if (ok) ok = await phase([[chosen[3]!, 'A4']]);

    // Quiet: faults off, cuts healed, paused hosts resumed; then everything must settle.
    chaos.on = false;
    policy.faultsOn = false;
    policy.heal();
    sched.resumeAll();
    for (const w of workers) if (w.crashed) start(w);
    trace('quiet');
    await sched.run(sched.now + 4 * DEAD_AFTER_MS);
    if (ok) checkQuiet(client, workers, violations);
    staleRecords =
      client.node.counters.staleRecords +
      workers.reduce((n, w) => n + (w.worker?.node.counters.staleRecords ?? 0), 0);
    parkedTasksGivenUp = workers.reduce((n, w) => n + (w.worker?.counters.parkedTasksGivenUp ?? 0), 0);
    const a1 = actions.find((a) => a.name === chosen[0]!.name);
    const a4 = actions[actions.length - 1];
    // A repeat may not be slower than the first run (beyond the network's jitter).
    if (!faultsOn && !options.programs && ok && a1 && a4 && a4.ms > a1.ms * 1.1 + 50)
      violations.push(`the repeated action took ${a4.ms} ms, the first ${a1.ms} ms`);
  } finally {
    Math.random = realRandom;
  }
  return {
    seed,
    violations,
    actions,
    faults,
    simulatedMs: sched.now,
    events: sched.eventsRun,
    trace: ring,
    traceHash: hash.toString(16),
    targetedDrops: targeted - policy.dropNext.length,
    mapReportsRecomputed: clientRef?.counters.mapReportsRecomputed ?? 0,
    staleRecords,
    parkedTasksGivenUp,
    network: { ...policy.counters },
  };
}

/** A simulated worker's options: two slots, tasks in this thread, the daemons' default timings. */
export function simWorkerOptions(
  cluster: string,
  name: string,
  incarnation: number,
  clientRpc: string,
  transport: Transport,
  clock: Clock,
  membership: 'mesh' | 'swim' = 'swim',
): WorkerOptions {
  return {
    slots: 2,
    host: name,
    port: 0,
    cluster,
    peers: [clientRpc],
    dataDir: join(tmpdir(), `microspark-sim-${process.pid}`),
    memoryBytes: 1024 ** 3,
    heartbeatMs: HEARTBEAT_MS,
    deadAfterMs: DEAD_AFTER_MS,
    leaseRenewMs: 3000,
    requestTimeoutMs: 2000,
    transport,
    clock,
    id: { node: name, incarnation },
    executor: new InThreadExecutor(),
    membership,
  };
}

/** Starts the simulated client (host `client`) on `network`, running the scheduler until it is up. */
export async function startClient(
  network: MemoryNetwork,
  sched: SimScheduler,
  cluster = 'sim',
  membership: 'mesh' | 'swim' = 'swim',
): Promise<ClusterBackend> {
  const clock = sched.clockFor('client');
  const started = ClusterBackend.start({
    cluster,
    host: 'client',
    heartbeatMs: HEARTBEAT_MS,
    deadAfterMs: DEAD_AFTER_MS,
    leaseTtlMs: 10_000,
    reannounceMs: 2000,
    noWorkerGraceMs: 10_000,
    maxTaskFailures: 4,
    transport: network.host('client', clock),
    clock,
    id: { node: 'client', incarnation: 1 },
    membership,
  });
  let backend: ClusterBackend | undefined;
  void started.then((b) => (backend = b));
  await sched.run(sched.now + 1000, () => backend !== undefined);
  if (!backend) throw new Error('the simulated client did not start');
  return backend;
}

/** Draws the faults of a seed and schedules them (on the `chaos` host, which never pauses). */
function scheduleFaults(
  sched: SimScheduler,
  workers: SimWorker[],
  policy: SimNetworkPolicy,
  fault: (kind: string, line: string) => void,
  start: (w: SimWorker) => void,
  client: string,
  chaos: { on: boolean },
): void {
  const rng = sched.rng;
  const n = rng.int(1, 8);
  for (let i = 0; i < n; i++) {
    const at = rng.int(0, rng.chance(0.7) ? 4000 : 20_000);
    const w = rng.pick(workers);
    const kind = rng.pick(['crash', 'pause', 'long-pause', 'cut', 'cut-client', 'jump'] as const);
    sched.at('chaos', at, () => {
      if (!chaos.on) return;
      switch (kind) {
        case 'crash': {
          if (w.crashed) return;
          fault('crash', `crash ${w.name}#${w.incarnation}`);
          w.crashed = true;
          w.crash?.();
          w.worker = undefined;
          sched.crash(w.name);
          const back = rng.int(500, 15_000);
          sched.at('chaos', back, () => {
            if (chaos.on) start(w);
          });
          return;
        }
        case 'pause':
        case 'long-pause': {
          const ms =
            kind === 'pause' ? rng.int(200, DEAD_AFTER_MS / 2) : rng.int(DEAD_AFTER_MS + 500, 15_000);
          fault(kind, `pause ${w.name} for ${ms} ms`);
          sched.pause(w.name, ms);
          return;
        }
        case 'cut':
        case 'cut-client': {
          const ms = rng.int(500, 10_000);
          const others = kind === 'cut' ? workers.filter((o) => o !== w).map((o) => o.name) : [client];
          fault(kind, `cut ${w.name} from ${others.join(',')} for ${ms} ms`);
          for (const o of others) policy.cut(w.name, o);
          sched.at('chaos', ms, () => policy.heal(w.name));
          return;
        }
        case 'jump': {
          const ms = rng.pick([-3000, -1000, 2000, 4000, 8000]);
          fault('jump', `clock of ${w.name} jumps ${ms} ms`);
          sched.jump(w.name, ms);
          return;
        }
      }
    });
  }
}

/** After the quiet period: nothing of the ended actions is left anywhere, and everyone knows everyone. */
function checkQuiet(client: ClusterBackend, workers: SimWorker[], violations: string[]): void {
  if (client.sourcedJobs !== 0) violations.push(`the client still sources ${client.sourcedJobs} jobs`);
  if (client.leases().size !== 0) violations.push(`the client still has ${client.leases().size} leases`);
  const live = workers.filter((w) => !w.crashed && w.worker);
  const names = new Set(live.map((w) => w.name));
  const clientView = new Set(client.workers().map((p) => p.node));
  for (const w of live) {
    const worker = w.worker!;
    const st = worker.status();
    if (st.running + st.claiming > 0)
      violations.push(`${w.name} still runs ${st.running} and claims ${st.claiming} tasks`);
    if (st.mapJobs > 0) violations.push(`${w.name} still sources ${st.mapJobs} map jobs`);
    if (st.blocks > 0) violations.push(`${w.name} still stores ${st.blocks} blocks of ended actions`);
    if (!clientView.has(w.name)) violations.push(`the client does not count ${w.name} as a member`);
    const view = new Set(worker.node.peers().map((p) => p.identity.node));
    if (!view.has('client')) violations.push(`${w.name} does not count the client as a member`);
    for (const o of names)
      if (o !== w.name && !view.has(o)) violations.push(`${w.name} does not count ${o} as a member`);
  }
}
