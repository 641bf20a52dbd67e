import { describe, expect, it } from 'vitest';
import type { JobSpec } from '../../src/client/backend.js';
import { MicroSpark } from '../../src/client/context.js';
import { InProcessBackend } from '../../src/client/in-process-backend.js';
import { MapStages, reportAwaited, unreported, type StageEvent } from '../../src/client/map-stages.js';
import { ProgressBus, type ProgressEvent } from '../../src/client/progress.js';
import { RecordDirectory } from '../../src/client/record-directory.js';
import { planStages } from '../../src/client/stage-plan.js';
import type { Record as WireRecord, Request } from '../../src/protocol/messages.js';
import { TaskFailedError } from '../../src/protocol/errors.js';
import { blockId, type NodeSpec, type TaskDesc } from '../../src/rdd/lineage.js';
import { blocksRead } from '../../src/rdd/plan.js';

// The pure parts of the cluster client: the plan of a job's stages, the map stages followed
// through workers' reports, and the directory of records heard.

/** An in-process backend that keeps every job it runs. */
class Capturing extends InProcessBackend {
  readonly jobs: JobSpec[] = [];
  override runJob(job: JobSpec, opts?: Parameters<InProcessBackend['runJob']>[1]): Promise<unknown[]> {
    this.jobs.push(job);
    return super.runJob(job, opts);
  }
}

/** The job of a two-shuffle action: reduceByKey into 3 partitions, then groupByKey into 2. */
async function twoShuffleJob(): Promise<{ job: JobSpec; result: unknown }> {
  const backend = new Capturing();
  const sc = MicroSpark.overBackend(backend);
  const result = await sc
    .parallelize([1, 2, 3, 4, 5, 6, 7], 2)
    .map((x) => [x % 3, x] as [number, number])
    .reduceByKey((a, b) => a + b, 3)
    .map(([k, v]) => [v % 2, k] as [number, number])
    .groupByKey(2)
    .mapValues((ks) => [...ks].sort())
    .collect();
  await sc.stop();
  expect(backend.jobs).toHaveLength(1);
  return { job: backend.jobs[0]!, result };
}

const peer = (node: string) => ({ node, incarnation: 1, role: 'worker' as const, rpc: `tcp://${node}:1`, pub: `tcp://${node}:2` }); // prettier-ignore

describe('planStages', () => {
  it('orders map stages parents first, with ids, and skips an available shuffle with its parents', async () => {
    const { job, result } = await twoShuffleJob();
    expect(result).toEqual([
      [1, [0, 2]],
      [0, [1]],
    ]);
    let next = 10;
    const reads = new Set<string>();
    const plan = planStages(job, 'result', {
      fullyStored: () => false,
      available: () => false,
      nextStageId: () => next++,
      fail: () => undefined,
      reads,
    });
    expect(plan.stages.map((s) => [s.stage.stageId, s.stage.tasks])).toEqual([
      [10, 2],
      [11, 3],
    ]);
    expect(plan.resultStageId).toBe(12);
    expect(plan.results.map((d) => [d.stageId, d.partition, d.output.kind])).toEqual([
      [12, 0, 'result'],
      [12, 1, 'result'],
    ]);
    expect(plan.maps).toEqual([]);
    expect(reads.size).toBe(2);
    expect(Object.values(plan.stageIds).sort()).toEqual([10, 11]);

    // The groupByKey shuffle (3 map tasks) is all there: neither it nor its parent runs.
    const reads2 = new Set<string>();
    const plan2 = planStages(job, 'map', {
      fullyStored: () => false,
      available: (s) => s.numMaps === 3,
      nextStageId: () => next++,
      fail: () => undefined,
      reads: reads2,
    });
    expect(plan2.stages).toEqual([]);
    expect(plan2.resultStageId).toBe(13);
    expect(reads2.size).toBe(1);
    expect(plan2.tops.map((s) => s.numMaps)).toEqual([3]);
    expect(plan2.maps).toEqual([]); // every output of the shuffle the root reads is there

    // Map mode with nothing available: the client posts the 3 map tasks of the top shuffle.
    const plan3 = planStages(job, 'map', {
      fullyStored: () => false,
      available: () => false,
      nextStageId: () => next++,
      fail: () => undefined,
      reads: new Set(),
    });
    expect(plan3.maps.map((d) => [d.stageId, d.partition, d.output.kind])).toEqual([
      [15, 0, 'shuffle'],
      [15, 1, 'shuffle'],
      [15, 2, 'shuffle'],
    ]);
  });
});

describe('MapStages', () => {
  async function tracked() {
    const { job } = await twoShuffleJob();
    const applied: unknown[] = [];
    const failures: Error[] = [];
    const counted: JobSpec = { ...job, onAccumulators: (u) => applied.push(...u) };
    const plan = planStages(counted, 'result', {
      fullyStored: () => false,
      available: () => false,
      nextStageId: (() => {
        let n = 0;
        return () => n++;
      })(),
      fail: (e) => failures.push(e),
      reads: new Set(),
    });
    const progress = new ProgressBus();
    const events: ProgressEvent[] = [];
    progress.subscribe((e) => events.push(e));
    const stageEvents: StageEvent[] = [];
    const counters = { mapOutputsRecomputed: 0, fetchFailures: 0, reannounced: 0 };
    const stages = new MapStages({
      progress,
      stageEvent: (e) => stageEvents.push(e),
      endpointOf: (n) => (n === 'gone' ? undefined : `tcp://${n}:1`),
      counters,
      maxTaskFailures: 4,
    });
    const st = plan.stages[0]!.stage;
    stages.add(st);
    return { st, stages, events, stageEvents, counters, applied, failures };
  }
  const ev = (state: 'posted' | 'running' | 'done' | 'retried' | 'failed', partition: number, extra = {}) =>
    ({ op: 'job.event', jobId: `m-${partition}`, stageId: 0, shuffleId: 'x', partition, attempt: 0, state, ...extra }) as Extract<Request, { op: 'job.event' }>; // prettier-ignore

  it('shows each map partition once, applies its updates once, and completes the stage when all are done', async () => {
    const t = await tracked();
    const shuffleId = t.st.shuffleId;
    expect(t.stageEvents).toEqual([
      { stageId: 0, kind: 'shuffle-map', state: 'submitted', tasks: 2, shuffleId },
    ]);
    t.stages.onJobEvent({ ...ev('running', 0, { worker: 'a' }), shuffleId });
    t.stages.onJobEvent({ ...ev('running', 0, { worker: 'b' }), shuffleId }); // a second copy of the job
    t.stages.onJobEvent({ ...ev('done', 0, { worker: 'a', accumulators: [['acc', 1]] }), shuffleId });
    t.stages.onJobEvent({ ...ev('done', 0, { worker: 'b', accumulators: [['acc', 1]] }), shuffleId });
    expect(t.applied).toEqual([['acc', 1]]);
    expect(t.events.filter((e) => e.type === 'task').map((e) => e.type === 'task' && e.state)).toEqual([
      'running',
      'done',
    ]);
    expect(unreported(t.st)).toEqual([1]);
    expect(t.stages.doneMaps(shuffleId)).toEqual(new Set([0]));
    // A recomputation posted again forgets the output; a fetch failure is counted.
    t.stages.onJobEvent({ ...ev('posted', 0, { recomputed: true }), shuffleId });
    expect(t.st.outputs).toEqual([undefined, undefined]);
    expect(t.stages.doneMaps(shuffleId)).toEqual(new Set());
    t.stages.onJobEvent({ ...ev('retried', 1, { reason: 'fetch-failed' }), shuffleId });
    expect(t.counters).toEqual({ mapOutputsRecomputed: 1, fetchFailures: 1, reannounced: 0 });
    t.stages.onJobEvent({ ...ev('done', 0, { worker: 'a' }), shuffleId });
    t.stages.onJobEvent({ ...ev('done', 1, { worker: 'c' }), shuffleId });
    expect(t.stageEvents.at(-1)).toEqual({
      stageId: 0,
      kind: 'shuffle-map',
      state: 'completed',
      tasks: 2,
      shuffleId,
      outputs: ['tcp://a:1', 'tcp://c:1'],
    });
    expect(t.st.completed).toBe(true);
    t.stages.complete(t.st); // once only
    expect(t.stageEvents.filter((e) => e.state === 'completed')).toHaveLength(1);
  });

  it('fails the action with a TaskFailedError when a map job fails for good', async () => {
    const t = await tracked();
    t.stages.onJobEvent({
      ...ev('failed', 1, { worker: 'a', error: { name: 'TypeError', message: 'x is undefined' } }),
      shuffleId: t.st.shuffleId,
    });
    expect(t.failures).toHaveLength(1);
    const e = t.failures[0] as TaskFailedError;
    expect(e).toBeInstanceOf(TaskFailedError);
    expect(e.message).toBe(
      'Task 1 in stage 0 failed 4 times; most recent failure: TypeError: x is undefined',
    );
  });

  it('waits for a report from a live source, a grace for an unknown one, none from a dead one', async () => {
    const t = await tracked();
    const live = (n: string) => n === 'a';
    expect(reportAwaited([t.st], 0, 100, live)).toBe(true); // nothing heard: within the grace
    expect(reportAwaited([t.st], 150, 100, live)).toBe(false);
    t.st.sources.set(0, 'a');
    t.st.sources.set(1, 'b');
    expect(reportAwaited([t.st], 150, 100, live)).toBe(true); // a is live
    t.st.applied.add(0);
    expect(reportAwaited([t.st], 150, 100, live)).toBe(false); // b is dead
  });
});

describe('RecordDirectory', () => {
  it('keeps persisted partitions, announced map outputs and worker records per live holder', () => {
    const live = new Set(['a', 'b']);
    const dir = new RecordDirectory((n) => (live.has(n) ? `tcp://${n}:1` : undefined));
    const rdd = (holder: string, blockId: string, bytes: number): WireRecord => ({
      kind: 'rdd',
      blockId,
      holder: peer(holder),
      bytes,
      owner: 'c',
    });
    const workerRec = { kind: 'worker', peer: peer('a'), slots: 2, free: 1, blocks: 3, memoryBytes: 9, seq: 0 } as WireRecord; // prettier-ignore
    expect(dir.heard(workerRec)).toBe(true);
    expect(dir.heard(rdd('a', 'rdd_n1_0', 10))).toBe(false);
    dir.stored('rdd_n1_1', 'b', 20);
    dir.heard(rdd('a', 'shuffle_s1_0', 5));
    dir.heard(rdd('c', 'shuffle_s1_1', 6)); // c is not a member
    expect(dir.fullyStored('n1', 2)).toBe(true);
    expect(dir.storageInfo('n1')).toEqual({ partitions: 2, bytes: 30 });
    expect(dir.blockLocations('n1')).toEqual(new Map([[0, 'tcp://a:1'], [1, 'tcp://b:1']])); // prettier-ignore
    expect(dir.announcedMaps('s1')).toEqual(new Set([0]));
    expect(dir.announcedMapBytes()).toEqual(new Map([['s1/0', 5]]));
    // A withdrawal by another holder leaves the block where it is.
    dir.heard({ kind: 'withdraw', of: 'rdd', id: 'rdd_n1_0', holder: 'b' });
    expect(dir.storageInfo('n1')).toEqual({ partitions: 2, bytes: 30 });
    expect(
      dir.workerStatus([{ identity: { node: 'a', rpc: 'tcp://a:1' }, lastSeen: 40 }], 100, () => 7),
    ).toEqual([
      { node: 'a', endpoint: 'tcp://a:1', slots: 2, free: 1, blocks: 3, memoryBytes: 9, diskBytes: 0, spills: 0, spilledBytes: 0, lastSeenMs: 60, suspectMs: 7 }, // prettier-ignore
    ]);
    dir.forgetAnnounced(['shuffle_s1_']);
    expect(dir.announcedMaps('s1')).toEqual(new Set());
    dir.peerDown('a');
    expect(dir.fullyStored('n1', 2)).toBe(false);
    expect(dir.storageInfo('n1')).toEqual({ partitions: 1, bytes: 20 });
    expect(dir.seenRecords()).toEqual({ jobs: [], blocks: [] });
    dir.unpersist('n1');
    expect(dir.storageInfo('n1')).toBeUndefined();
  });

  it('prefers the live holder of most of the bytes a task reads, through coalesce, union and cartesian', () => {
    const node = (op: string, n: number, parents: string[], p: unknown, persist = false) =>
      ({ op, n, parents, shuffles: [], p, ...(persist && { persist }) }) as unknown as NodeSpec;
    const nodes: Record<string, NodeSpec> = {
      src: node('parallelize', 4, [], {}, true),
      co: node('coalesce', 2, ['src'], {
        groups: [
          [0, 1],
          [2, 3],
        ],
      }),
      top: node('mapPartitions', 2, ['co'], {}),
      other: node('parallelize', 2, [], {}, true),
      un: node('union', 6, ['src', 'other'], { counts: [4, 2] }),
      cart: node('cartesian', 8, ['src', 'other'], { nb: 2 }),
    };
    const all = () => true;
    expect(blocksRead(nodes, 'top', 1, all).sort()).toEqual([blockId('src', 2), blockId('src', 3)]);
    expect(blocksRead(nodes, 'un', 5, all)).toEqual([blockId('other', 1)]);
    expect(blocksRead(nodes, 'cart', 5, all).sort()).toEqual([blockId('other', 1), blockId('src', 2)].sort());
    // A persisted node not stored is computed: what it reads counts (here nothing stored below it).
    expect(blocksRead(nodes, 'top', 0, (id) => id !== blockId('src', 0))).toEqual([blockId('src', 1)]);

    const live = new Set(['a', 'b']);
    const dir = new RecordDirectory((n) => (live.has(n) ? `tcp://${n}:1` : undefined));
    dir.stored(blockId('src', 0), 'a', 10);
    dir.stored(blockId('src', 1), 'b', 30);
    dir.stored(blockId('src', 2), 'a', 5);
    dir.stored(blockId('src', 3), 'c', 50); // c is not a live member: it counts for nothing
    const desc = (partition: number) => ({ nodes, root: 'top', partition }) as unknown as TaskDesc;
    expect(dir.preferredHolder(desc(0))).toBe('b');
    expect(dir.preferredHolder(desc(1))).toBe('a');
    live.delete('a');
    expect(dir.preferredHolder(desc(1))).toBeUndefined();
    // Nothing stored: no preference.
    expect(
      dir.preferredHolder({ nodes, root: 'other', partition: 0 } as unknown as TaskDesc),
    ).toBeUndefined();
  });
});
