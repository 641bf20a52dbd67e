/**
 * The parking coordinator: a task whose stage reads shuffles waits, parked (its slot released, its
 * lease still renewed by the worker), until every map output it reads is announced. Meanwhile it
 * posts, through the worker's {@link MapJobSource}, the map jobs that nobody else has open, and
 * rejects when one of them failed for good. Then it waits in line for a slot.
 *
 * ```
 *  outputs all there ─────────────────────────────────────────────▶ run (parkedMs 0)
 *  some missing ──▶ parked: post what no live source has open ──▶ waiting ──slot──▶ run
 *                     ▲  look again on a record change or every PARK_RECHECK_MS
 *                     └──────┘                     a map job failed for good ──▶ TaskFailedError
 * ```
 *
 * Posting rules: the stage's first task (its `poster`) posts at once; the others give the poster
 * `posterGraceMs` first, unless the output was lost (seen before: a recomputation). A job another
 * live source announced within five re-announce intervals, or one withdrawn within
 * `withdrawnGraceMs` (its output record is on its way), is not posted. No sockets; time on the
 * injected clock.
 */
import type { Clock } from '../core/clock.js';
import { TaskFailedError, errorFromWire } from '../protocol/errors.js';
import type { ShuffleSpec, TaskDesc } from '../rdd/lineage.js';
import type { JobDirectory } from './job-directory.js';
import { mapJobId, type MapJobSource } from './map-job-source.js';
import type { MapOutputView } from './map-outputs.js';
import type { TaskSlots } from './task-slots.js';

/** A parked task looks at the records again at least this often, even when nothing changed. */
export const PARK_RECHECK_MS = 250;

/** What parking uses of the worker's map-job source. */
export type ParkingSource = Pick<MapJobSource, 'failure' | 'has' | 'isLeased' | 'post' | 'release'>;

/** The worker's counters parking adds to. */
export interface ParkingCounters {
  /** Tasks parked (slot released) while map outputs they need were computed. */
  tasksParked: number;
  /** Map jobs posted; of them, recomputations of outputs that had been lost. */
  mapJobsPosted: number;
  mapOutputsRecomputed: number;
}

/** Everything a {@link ParkingCoordinator} works with (the worker's own pieces). */
export interface ParkingDeps {
  readonly clock: Clock;
  /** This worker's node id and partition server endpoint. */
  readonly self: { readonly node: string; readonly rpc: string };
  readonly maps: MapOutputView;
  readonly jobs: JobDirectory;
  readonly source: ParkingSource;
  readonly slots: TaskSlots;
  /** Whether `node` is a live peer. */
  readonly isLive: (node: string) => boolean;
  /** Hands out free slots (waiting tasks first, then claims): called when a slot is released or wanted. */
  readonly pump: () => void;
  readonly counters: ParkingCounters;
  readonly timings: {
    readonly heartbeatMs: number;
    readonly reannounceMs: number;
    readonly withdrawnGraceMs: number;
    readonly posterGraceMs: number;
  };
  readonly log: (level: 'info' | 'debug', msg: string, fields: Record<string, unknown>) => void;
}

/** Where each map output of a task's shuffles is, and how long (ms) the task was parked. */
export interface ParkResult {
  /** Shuffle id → endpoint of each map output's holder, this worker's preferred. */
  readonly locations: Record<string, string[]>;
  /** From parking to getting a slot back; 0 when every output was there. */
  readonly parkedMs: number;
}

/** Parks tasks until their map outputs are announced (see module doc). */
export class ParkingCoordinator {
  /** Parked tasks waiting for a change of records. */
  private readonly watchers = new Set<() => void>();

  /** A coordinator over the worker's pieces. */
  constructor(private readonly deps: ParkingDeps) {}

  /** Records changed (a map output, a job, a peer): the parked tasks look again. */
  notify(): void {
    for (const w of [...this.watchers]) w();
  }

  /**
   * Parks task `jobId` (of client `owner`) until every map output of `shuffles` is announced,
   * posting jobs for the missing ones that no live source has open; then waits for a slot and
   * returns where each output is (see {@link ParkResult}). Rejects with a TaskFailedError when one
   * of its map jobs failed for good, and with the signal's reason when aborted while parked (an
   * abort while waiting for a slot resolves at once).
   */
  async untilOutputs(
    jobId: string,
    owner: string,
    desc: TaskDesc,
    shuffles: readonly ShuffleSpec[],
    signal: AbortSignal,
  ): Promise<ParkResult> {
    const { clock, maps, source, slots, counters, timings } = this.deps;
    const self = this.deps.self.rpc;
    const posted = new Set<string>();
    const missing = () => {
      const out: Array<[ShuffleSpec, number]> = [];
      for (const s of shuffles)
        for (let m = 0; m < s.numMaps; m++) if (maps.holder(s.id, m, self) === undefined) out.push([s, m]);
      return out;
    };
    let wasParked = false;
    const parkedAt = clock.now();
    let readySince: number | undefined;
    /**
     * Outputs are announced before their job completes at its source; waiting (briefly) for the
     * jobs posted here to complete lets their reports reach the client before this task's result.
     */
    const pendingOwn = () => {
      if ([...posted].every((id) => !source.isLeased(id))) return false;
      readySince ??= clock.now();
      return clock.now() - readySince < timings.heartbeatMs;
    };
    try {
      for (let todo = missing(); todo.length > 0 || pendingOwn(); todo = missing()) {
        if (signal.aborted) throw signal.reason;
        if (!wasParked) {
          wasParked = true;
          slots.move(jobId, 'parked');
          counters.tasksParked++;
          this.deps.pump(); // the released slot can run the map jobs
        }
        const now = clock.now();
        for (const [s, m] of todo) {
          const id = mapJobId(owner, desc.stageIds?.[s.id] ?? -1, s.id, m);
          const failure = source.failure(id);
          if (failure) {
            throw new TaskFailedError(
              `map stage of shuffle ${s.id} failed: ${failure.name}: ${failure.message}`,
              desc.stageIds?.[s.id] ?? -1,
              m,
              0,
              errorFromWire(failure),
            );
          }
          if (source.has(id)) {
            if (!posted.has(id)) {
              posted.add(id);
              source.post(s, m, desc, owner, false); // one more waiter
            }
            continue;
          }
          // Another worker posted it: its output will be announced.
          if (
            this.deps.jobs.postedElsewhere(
              id,
              this.deps.self.node,
              this.deps.isLive,
              5 * timings.reannounceMs,
            )
          )
            continue;
          // Just withdrawn: its output record is probably on its way.
          if (this.deps.jobs.withdrawnWithin(id, timings.withdrawnGraceMs)) continue;
          // The stage's first task posts what the stage misses; the others wait for its records,
          // unless the output was lost (seen before) or the poster's records are late.
          const recomputed = maps.wasSeen(s.id, m);
          if (!desc.poster && !recomputed && now - parkedAt < timings.posterGraceMs) continue;
          if (posted.has(id)) source.release(id);
          posted.add(id);
          source.post(s, m, desc, owner, recomputed); // announced: the worker claims it (onAnnounce)
          counters.mapJobsPosted++;
          if (recomputed) counters.mapOutputsRecomputed++;
          this.deps.log(
            recomputed ? 'info' : 'debug',
            recomputed ? 'map output recomputed' : 'map job posted',
            {
              job: id,
              shuffle: s.id,
              map: m,
            },
          );
        }
        await new Promise<void>((resolve) => {
          const done = () => {
            t.cancel();
            this.watchers.delete(done);
            signal.removeEventListener('abort', done);
            resolve();
          };
          const t = clock.setTimeout(done, PARK_RECHECK_MS);
          this.watchers.add(done);
          signal.addEventListener('abort', done, { once: true });
        });
      }
    } finally {
      for (const id of posted) source.release(id);
    }
    if (wasParked) {
      // Resume: wait for a slot (parked tasks are served before new claims).
      // The slot is taken synchronously, when pump() hands it over.
      const slot = slots.waitForSlot(jobId, signal);
      this.deps.pump();
      await slot;
    }
    const locations: Record<string, string[]> = {};
    for (const s of shuffles) {
      locations[s.id] = Array.from({ length: s.numMaps }, (_, m) => maps.holder(s.id, m, self) ?? '');
    }
    return { locations, parkedMs: wasParked ? Math.round(clock.now() - parkedAt) : 0 };
  }
}
