import { describe, expect, it } from 'vitest';
import { TaskFailedError } from '../../src/protocol/errors.js';
import type { ShuffleSpec, TaskDesc } from '../../src/rdd/lineage.js';
import { SimScheduler } from '../../src/sim/scheduler.js';
import { JobDirectory } from '../../src/worker/job-directory.js';
import { mapJobId } from '../../src/worker/map-job-source.js';
import { MapOutputView } from '../../src/worker/map-outputs.js';
import { PARK_RECHECK_MS, ParkingCoordinator, type ParkingSource } from '../../src/worker/parking.js';
import { TaskSlots } from '../../src/worker/task-slots.js';

const SELF = { node: 'w1', rpc: 'mem://w1:1' };
const spec: ShuffleSpec = {
  id: 's',
  parent: 'p',
  numMaps: 2,
  partitioner: { kind: 'hash', n: 2 },
  mapSideCombine: false,
};
const timings = { heartbeatMs: 100, reannounceMs: 210, withdrawnGraceMs: 200, posterGraceMs: 200 };
const desc = (poster: boolean): TaskDesc => ({
  stageId: 1,
  attempt: 0,
  nodes: {},
  root: 'r',
  partition: 0,
  output: { kind: 'shuffle', shuffle: { ...spec, id: 'next' } },
  stageIds: { s: 0 },
  poster,
});
const job = (m: number) => mapJobId('c', 0, 's', m);

/** A map-job source that only records what parking asked of it. */
function fakeSource() {
  const open = new Map<string, number>(); // job id → waiters
  const leased = new Set<string>();
  const failed = new Map<string, { name: string; message: string }>();
  const calls: string[] = [];
  const source: ParkingSource = {
    failure: (id) => failed.get(id),
    has: (id) => open.has(id),
    isLeased: (id) => leased.has(id),
    post: (s, m, _parent, owner, recomputed) => {
      const id = mapJobId(owner, 0, s.id, m);
      calls.push(`post ${m}${recomputed ? ' recomputed' : ''}`);
      open.set(id, (open.get(id) ?? 0) + 1);
    },
    release: (id) => {
      calls.push(`release ${id.split(':').pop()}`);
      const n = (open.get(id) ?? 0) - 1;
      if (n > 0) open.set(id, n);
      else open.delete(id);
    },
  };
  return { source, open, leased, failed, calls };
}

function setup(slots = 1) {
  const sched = new SimScheduler(1);
  const clock = sched.clockFor('w1');
  const maps = new MapOutputView();
  const jobs = new JobDirectory(clock);
  const taskSlots = new TaskSlots(slots);
  const live = new Set<string>(['w2']);
  const src = fakeSource();
  const counters = { tasksParked: 0, mapJobsPosted: 0, mapOutputsRecomputed: 0 };
  let pumps = 0;
  const logs: string[] = [];
  const parking = new ParkingCoordinator({
    clock,
    self: SELF,
    maps,
    jobs,
    source: src.source,
    slots: taskSlots,
    isLive: (n) => live.has(n),
    pump: () => {
      pumps++;
      taskSlots.serveWaiters();
    },
    counters,
    timings,
    log: (_level, msg) => logs.push(msg),
  });
  taskSlots.granted('t', { abort: new AbortController(), owner: 'c', released: false });
  return { sched, clock, maps, jobs, slots: taskSlots, src, counters, parking, logs, pumps: () => pumps };
}

describe('ParkingCoordinator (a task waiting for map outputs)', () => {
  it('does not park when every output is announced; prefers outputs stored here', async () => {
    const { maps, parking, counters, pumps, src } = setup();
    maps.add('s', 0, 'w2', 'mem://w2:1');
    maps.add('s', 1, 'w2', 'mem://w2:1');
    maps.add('s', 1, 'w1', SELF.rpc);
    const r = await parking.untilOutputs('t', 'c', desc(false), [spec], new AbortController().signal);
    expect(r).toEqual({ locations: { s: ['mem://w2:1', SELF.rpc] }, parkedMs: 0 });
    expect(counters).toEqual({ tasksParked: 0, mapJobsPosted: 0, mapOutputsRecomputed: 0 });
    expect(pumps()).toBe(0);
    expect(src.calls).toEqual([]);
  });

  it('the poster parks, posts each missing output once, and resumes when they are announced and a slot is free', async () => {
    const { sched, clock, maps, parking, counters, slots, src, pumps } = setup();
    maps.add('s', 1, 'w2', 'mem://w2:1');
    let result: unknown;
    const p = parking
      .untilOutputs('t', 'c', desc(true), [spec], new AbortController().signal)
      .then((r) => (result = r));
    await sched.run(clock.now()); // settle
    expect(slots.status()).toEqual({ running: 1, parked: 1, claiming: 0 });
    expect(slots.free).toBe(1);
    expect(counters).toEqual({ tasksParked: 1, mapJobsPosted: 1, mapOutputsRecomputed: 0 });
    expect(src.calls).toEqual(['post 0']);
    // Rechecks while nothing changes: the job is open here, nothing is posted again.
    await sched.run(clock.now() + 3 * PARK_RECHECK_MS);
    expect(src.calls).toEqual(['post 0']);
    // Another task takes the free slot; then the output comes: the parked task waits for the slot.
    slots.claiming('other');
    sched.at('w1', 10, () => {
      maps.add('s', 0, 'w1', SELF.rpc);
      parking.notify();
    });
    await sched.run(clock.now() + 20);
    expect(result).toBeUndefined();
    expect(slots.status()).toEqual({ running: 1, parked: 1, claiming: 1 }); // waiting
    expect(src.calls).toEqual(['post 0', 'release 0']);
    const parkedFor = clock.now() + 40; // parked at 0
    sched.at('w1', 40, () => {
      slots.end('other');
      slots.serveWaiters();
    });
    await sched.run(clock.now() + 50);
    await p;
    expect(result).toEqual({ locations: { s: [SELF.rpc, 'mem://w2:1'] }, parkedMs: parkedFor });
    expect(slots.status()).toEqual({ running: 1, parked: 0, claiming: 0 });
    expect(pumps()).toBe(2); // once when parked, once when in line for a slot
  });

  it('a task that is not the poster gives the poster its grace; a lost output is posted at once as a recomputation', async () => {
    const { sched, clock, maps, parking, counters, src, logs } = setup();
    maps.add('s', 1, 'w2', 'mem://w2:1');
    maps.add('s', 0, 'w2', 'mem://w2:1');
    maps.removeHolder('w2'); // both lost
    maps.add('s', 1, 'w2', 'mem://w2:1'); // map 1 back
    const fresh = { ...spec, id: 'f', numMaps: 1 };
    const d = { ...desc(false), stageIds: { s: 0, f: 0 } };
    void parking.untilOutputs('t', 'c', d, [spec, fresh], new AbortController().signal);
    await sched.run(clock.now());
    expect(src.calls).toEqual(['post 0 recomputed']); // f's map 0 was never seen: the poster's
    expect(counters).toEqual({ tasksParked: 1, mapJobsPosted: 1, mapOutputsRecomputed: 1 });
    await sched.run(clock.now() + timings.posterGraceMs - 1);
    expect(src.calls).toEqual(['post 0 recomputed']);
    await sched.run(clock.now() + PARK_RECHECK_MS);
    expect(src.calls).toEqual(['post 0 recomputed', 'post 0']);
    expect(counters).toEqual({ tasksParked: 1, mapJobsPosted: 2, mapOutputsRecomputed: 1 });
    expect(logs).toEqual(['map output recomputed', 'map job posted']);
  });

  it('does not post a job another live worker announced recently, or one just withdrawn', async () => {
    const { sched, clock, jobs, parking, src } = setup();
    const peer = {
      node: 'w2',
      incarnation: 1,
      role: 'worker' as const,
      rpc: 'mem://w2:1',
      pub: 'mem://w2:2',
    };
    jobs.heard({ kind: 'job', jobId: job(0), attempt: 0, source: peer, owner: 'c', partition: 0 });
    jobs.heard({ kind: 'job', jobId: job(1), attempt: 0, source: peer, owner: 'c', partition: 1 });
    jobs.withdrawn(job(1));
    void parking.untilOutputs('t', 'c', desc(true), [spec], new AbortController().signal);
    await sched.run(clock.now() + timings.withdrawnGraceMs - 1);
    expect(src.calls).toEqual([]);
    await sched.run(clock.now() + PARK_RECHECK_MS); // the withdrawal's grace is over
    expect(src.calls).toEqual(['post 1']);
    // w2's record is trusted for five re-announce intervals (1050 ms): the recheck at 1000 skips it.
    await sched.run(4 * PARK_RECHECK_MS);
    expect(src.calls).toEqual(['post 1']);
    await sched.run(5 * PARK_RECHECK_MS);
    expect(src.calls).toEqual(['post 1', 'post 0']);
  });

  it('rejects with a TaskFailedError when a map job failed for good, releasing what it posted', async () => {
    const { sched, clock, parking, src } = setup();
    let error: unknown;
    const p = parking
      .untilOutputs('t', 'c', desc(true), [spec], new AbortController().signal)
      .catch((e) => (error = e));
    await sched.run(clock.now());
    expect(src.calls).toEqual(['post 0', 'post 1']);
    src.failed.set(job(1), { name: 'Boom', message: 'no' });
    parking.notify();
    await sched.run(clock.now());
    await p;
    expect(error).toBeInstanceOf(TaskFailedError);
    expect((error as Error).message).toBe('map stage of shuffle s failed: Boom: no');
    expect(src.calls).toEqual(['post 0', 'post 1', 'release 0', 'release 1']);
    expect(src.open.size).toBe(0);
  });

  it('an abort while parked rejects with its reason; a job another waiter posted gets one more waiter', async () => {
    const { sched, clock, parking, src } = setup();
    src.source.post(spec, 0, desc(true), 'c', false); // another parked task's
    const abort = new AbortController();
    let error: unknown;
    const p = parking.untilOutputs('t', 'c', desc(true), [spec], abort.signal).catch((e) => (error = e));
    await sched.run(clock.now());
    expect(src.open.get(job(0))).toBe(2);
    abort.abort(new Error('stop'));
    await p;
    expect((error as Error).message).toBe('stop');
    expect(src.open.get(job(0))).toBe(1);
    expect(src.open.has(job(1))).toBe(false);
  });

  it('once the outputs are there, waits up to a heartbeat for its own leased map jobs to complete', async () => {
    const { sched, clock, maps, parking, src } = setup(2);
    let result: { parkedMs: number } | undefined;
    void parking
      .untilOutputs('t', 'c', desc(true), [spec], new AbortController().signal)
      .then((r) => (result = r));
    await sched.run(clock.now());
    src.leased.add(job(0));
    maps.add('s', 0, 'w1', SELF.rpc);
    maps.add('s', 1, 'w1', SELF.rpc);
    parking.notify();
    await sched.run(clock.now() + timings.heartbeatMs - 1);
    expect(result).toBeUndefined();
    await sched.run(clock.now() + PARK_RECHECK_MS);
    expect(result?.parkedMs).toBe(PARK_RECHECK_MS); // parked at 0, ready at 0: the first recheck after a heartbeat
  });
});
