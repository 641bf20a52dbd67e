/**
 * The contract between the context and an execution mode. The context plans (prepares the
 * lineage, builds the node table) and the backend runs: in-process today, peer-to-peer later.
 */
import type { LibFn } from '../rdd/functions.js';
import type { NodeSpec } from '../rdd/lineage.js';
import type { RunJobOptions } from '../rdd/rdd.js';
import type { ProgressBus } from './progress.js';

/** One job: compute `partitions` of node `root` and reduce each with the sink `fn`. */
export interface JobSpec {
  readonly nodes: Readonly<Record<string, NodeSpec>>;
  readonly root: string;
  readonly fn: LibFn;
  readonly partitions: readonly number[];
  /** The result stage's name, Spark-style: `collect at wordcount.ts:14` (`collect at <unknown>` when no progress listener). */
  readonly name: string;
  /** Where each RDD of the lineage was created (content id → `map at file.ts:3`), to name stages; empty when no progress listener. */
  readonly sites: Readonly<Record<string, string>>;
  /** The top-level action the job belongs to (its shuffle outputs are released when it ends). */
  readonly action: number;
  /** Applies accumulator updates of a successful task (once per task that counts). */
  readonly onAccumulators: (updates: ReadonlyArray<readonly [string, unknown]>) => void;
}

/** An execution mode. `stop()` is idempotent. */
export interface Backend {
  /** Where the backend publishes stage, task and worker progress. */
  readonly progress: ProgressBus;
  /** Runs a job; results in the order of `job.partitions`. */
  runJob(job: JobSpec, opts?: RunJobOptions): Promise<unknown[]>;
  /**
   * Runs the map stages of the shuffles `job.root` reads directly (and those they need), not
   * its result tasks; resolves with each such shuffle's map output bytes, by shuffle id. Outputs
   * already there are not recomputed; all stay until the action ends.
   */
  runMapStages(job: JobSpec, opts?: RunJobOptions): Promise<Map<string, number>>;
  /** Hosts the slices of `parallelize` data. */
  putSlices(dataId: string, slices: readonly Uint8Array[]): void;
  dropSlices(dataId: string): void;
  /** Hosts a broadcast value (msgpack bytes). */
  putBroadcast(id: string, bytes: Uint8Array): void;
  dropBroadcast(id: string): void;
  /** Drops the stored blocks of a node. */
  dropBlocks(nodeId: string): void;
  /** Where each stored partition of a node is: partition → location (an endpoint, or `in-process`). */
  blockLocations(nodeId: string): Map<number, string>;
  /** Stored partitions of a node and their bytes. */
  storageInfo(nodeId: string): { partitions: number; bytes: number } | undefined;
  /**
   * Top-level action `action` ended: release the shuffle outputs it read that no running action
   * reads; `last` says no action runs any more.
   */
  endAction(action: number, last: boolean): void;
  stop(): Promise<void>;
}
