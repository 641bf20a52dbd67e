/**
 * The stages of one job as the cluster client runs it: its shuffle map stages, parents first
 * (every shuffle the root needs, transitively, except those whose outputs are all available and
 * their parents), with stage ids, and the tasks the client posts itself: the result tasks, or in
 * `map` mode (Spark's submitMapStage) the map tasks of the shuffles the root reads directly. Pure:
 * what is stored and available is asked of the caller.
 */
import type { ShuffleSpec, TaskDesc } from '../rdd/lineage.js';
import { stageShuffles } from '../rdd/plan.js';
import type { JobSpec } from './backend.js';
import type { MapStage } from './map-stages.js';

/** What planning asks of the client's directory, and where stage ids come from. */
export interface StagePlanInputs {
  /** Whether all `n` partitions of a persisted node are stored (its lineage is not read). */
  readonly fullyStored: (nodeId: string, n: number) => boolean;
  /** Whether every map output of a shuffle is available (it needs no stage). */
  readonly available: (s: ShuffleSpec) => boolean;
  /** The next stage id (called parents first, then once for the result stage). */
  readonly nextStageId: () => number;
  /** Rejects the action (a map job failed for good), shared by its map stages. */
  readonly fail: (e: Error) => void;
  /** Every shuffle the job reads, available or not, is added here (the action's reads). */
  readonly reads: Set<string>;
}

/** A job's plan (see module doc). */
export interface StagePlan {
  /** The map stages to run, parents first, with the shuffle each writes. */
  readonly stages: ReadonlyArray<{ readonly stage: MapStage; readonly shuffle: ShuffleSpec }>;
  /** Stage id of each shuffle's map stage, carried in every task (`stageIds`). */
  readonly stageIds: Record<string, number>;
  readonly resultStageId: number;
  /** The result tasks, one per wanted partition. */
  readonly results: readonly TaskDesc[];
  /** In `map` mode, the map tasks of the shuffles the root reads directly (else empty). */
  readonly maps: readonly TaskDesc[];
  /** In `map` mode, the shuffles the root reads directly. */
  readonly tops: readonly ShuffleSpec[];
}

/** Plans `job`'s stages (see module doc). Map stages get an empty shape; the caller names their DAG. */
export function planStages(job: JobSpec, mode: 'result' | 'map', inputs: StagePlanInputs): StagePlan {
  const { fullyStored } = inputs;
  // A shuffle whose map outputs are all announced (an earlier job of this action, e.g. a
  // sortBy's sampling, computed it) is skipped, with its parents, as in process.
  const order: ShuffleSpec[] = [];
  const visit = (rootId: string, seen: Set<string>) => {
    for (const s of stageShuffles(job.nodes, rootId, fullyStored)) {
      if (seen.has(s.id)) continue;
      seen.add(s.id);
      inputs.reads.add(s.id);
      if (inputs.available(s)) continue;
      visit(s.parent, seen);
      order.push(s);
    }
  };
  visit(job.root, new Set());
  const stages = order.map((shuffle) => ({
    shuffle,
    stage: {
      stageId: inputs.nextStageId(),
      shuffleId: shuffle.id,
      name: job.sites[shuffle.parent] ?? `shuffle ${shuffle.id.slice(0, 8)}`,
      tasks: shuffle.numMaps,
      outputs: new Array<string | undefined>(shuffle.numMaps).fill(undefined),
      applied: new Set<number>(),
      sources: new Map<number, string>(),
      shown: new Map<number, 'running' | 'done'>(),
      job,
      shape: {},
      completed: false,
      fail: inputs.fail,
    } satisfies MapStage,
  }));
  const stageIds: Record<string, number> = {};
  for (const { stage } of stages) stageIds[stage.shuffleId] = stage.stageId;
  const resultStageId = inputs.nextStageId();
  const results = job.partitions.map((partition): TaskDesc => ({
    stageId: resultStageId,
    attempt: 0,
    nodes: job.nodes,
    root: job.root,
    partition,
    output: { kind: 'result', fn: job.fn },
    stageIds,
  }));
  const tops = mode === 'map' ? stageShuffles(job.nodes, job.root, fullyStored) : [];
  const maps: TaskDesc[] = [];
  for (const s of tops) {
    const st = stages.find((x) => x.stage.shuffleId === s.id);
    if (!st) continue; // every output is there already
    for (let m = 0; m < s.numMaps; m++) maps.push(mapTask(job, st.stage.stageId, s, m, stageIds));
  }
  return { stages, stageIds, resultStageId, results, maps, tops };
}

/** The task of map partition `m` of shuffle `s`, in stage `stageId`. */
export function mapTask(
  job: JobSpec,
  stageId: number,
  s: ShuffleSpec,
  m: number,
  stageIds: Record<string, number>,
): TaskDesc {
  return {
    stageId,
    attempt: 0,
    nodes: job.nodes,
    root: s.parent,
    partition: m,
    output: { kind: 'shuffle', shuffle: s },
    stageIds,
  };
}
